// What an API token may do by its scope (ApiToken.scope): 'full' is everything its account may; 'deploy' is what
// a CI job needs; 'read' is reading only. Neither narrower scope reads a secret (a project's webhook secret).

import type { TokenScope } from "../model/entities.ts";

const READS = new Set(["GET", "HEAD", "OPTIONS"]);
/** Reads that hand out a secret: only a full token (or a signed-in owner) gets them. */
const SECRET_READS = [/^\/api\/projects\/[^/]+\/webhook$/];
/** Besides reading: deploying, uploading, and moving or stopping a deployment. */
const DEPLOY_WRITES: [string, RegExp][] = [
  ["POST", /^\/api\/deploy$/],
  ["POST", /^\/api\/files\/missing$/],
  ["PUT", /^\/api\/files\/[^/]+$/],
  ["POST", /^\/api\/projects\/[^/]+\/deployments$/],
  ["POST", /^\/api\/deployments\/[^/]+\/(cancel|promote)$/],
  ["POST", /^\/api\/projects\/[^/]+\/rollback$/],
];

/** Why a token of `scope` may not make this API request, or null when it may. */
export function scopeRefusal(scope: TokenScope, method: string, pathname: string): string | null {
  if (scope === "full") return null;
  if (READS.has(method)) {
    return SECRET_READS.some((r) => r.test(pathname))
      ? `a token of scope '${scope}' cannot read secrets: use a full token`
      : null;
  }
  if (scope === "deploy" && DEPLOY_WRITES.some(([m, r]) => m === method && r.test(pathname))) return null;
  return scope === "read"
    ? "this token is read-only (scope 'read')"
    : "this token may only deploy (scope 'deploy'): read, deploy, upload, cancel, promote and roll back";
}

/** Whether a token of `scope` may push to a project's git remote (a push deploys). */
export const mayPush = (scope: TokenScope): boolean => scope !== "read";

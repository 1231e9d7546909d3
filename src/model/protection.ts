// Deployment protection, the rules: which hosts a mode protects, and who may view a protected project.

import type { ProtectionMode } from "./entities.ts";

/** A protected host's own paths (the proxy answers them): the dashboard's hand-off, the password form's target. */
export const HANDOFF_PATH = "/.well-known/minivercel/auth";
export const PASSWORD_PATH = "/.well-known/minivercel/password";

/** Which kind of address a request names (src/model/urls.ts): custom domains count as production. */
export type HostKind = "production" | "deployment" | "branch";

/** `previews` protects immutable deployment and branch hosts; `all` production (subdomain, custom domain) too. */
export function isProtected(mode: ProtectionMode, kind: HostKind): boolean {
  if (mode === "all") return true;
  return mode === "previews" && kind !== "production";
}

/**
 * Whether a signed-in account may view a project's protected deployments: its owner, or any member of its team
 * (the rule's viewers, src/store/protection.ts). Every check, in the dashboard and in the proxy, goes through it.
 */
export function mayView(user: { id: string }, rule: { viewers: readonly string[] }): boolean {
  return rule.viewers.includes(user.id);
}

// Deployment protection, the dashboard's half of a member's sign-in: a proxy sends a visitor of a protected host
// here; signed in (else the sign-in page first, then back), and when mayView holds, the visitor goes back to that
// host with a short-lived one-time token, which the proxy exchanges for an access cookie (src/proxy/protection.ts).
/** @jsxImportSource preact */

import { Elysia, t } from "elysia";
import { roleOn } from "../deploy/access.ts";
import { AppError } from "../errors.ts";
import type { ProjectDomain } from "../model/domains.ts";
import type { Project } from "../model/entities.ts";
import { HANDOFF_PATH } from "../model/protection.ts";
import { parseHost } from "../model/urls.ts";
import type { DashboardDeps } from "./app.ts";
import { securityHeaders } from "./respond.ts";
import { requireSession } from "./session.ts";

/** A hand-off token is good for this long: only the redirect's round trip. */
const HANDOFF_SECONDS = 60;

/**
 * Whether `host` is one of the project's addresses: its subdomain's hosts, or one of its verified custom domains
 * that serves (a redirecting one answers nothing but its redirect).
 */
export function hostOfProject(
  host: string,
  project: Project,
  domains: ProjectDomain[],
  sitesDomain: string,
): boolean {
  const target = parseHost(host, sitesDomain);
  if (target.kind === "custom")
    return domains.some((d) => d.name === target.host && d.verifiedAt !== null && d.redirectTo === null);
  return target.subDomain === project.subDomain;
}

const refused = () =>
  new AppError(
    "forbidden",
    "Your account does not have access to this deployment. Sign in as a member of its project.",
  );

export function protectionRoutes({
  store,
  config,
  accessTokens,
}: Pick<DashboardDeps, "store" | "config" | "accessTokens">) {
  return new Elysia().use(requireSession(store)).get(
    "/protection/authorize",
    async ({ user, query }) => {
      // A missing project and someone else's look the same.
      const project = await store.projects.find(query.project);
      // Its owner, or any member of its team (a viewer too: viewing is reading).
      if (!project || (await roleOn(store, user.id, project)) === null) throw refused();
      let back: URL;
      try {
        back = new URL(query.return);
      } catch {
        throw new AppError("bad_request", "The address to return to is not a URL.");
      }
      // The token goes only to one of the project's own hosts: never to an address the link names at will.
      const host = back.hostname.toLowerCase().replace(/\.$/, "");
      // With HTTPS on, the token never travels in the clear (a return address may not downgrade to http).
      const schemes = config.https ? ["https:"] : ["http:", "https:"];
      if (
        !schemes.includes(back.protocol) ||
        !hostOfProject(host, project, await store.domains.list(project.id), config.sitesDomain)
      )
        throw new AppError("bad_request", "The address to return to is not one of this project's.");
      const token = accessTokens.sign({
        type: "handoff",
        host,
        project: project.id,
        user: user.id,
        path: `${back.pathname}${back.search}`,
        nonce: crypto.randomUUID(),
        exp: Math.floor(Date.now() / 1000) + HANDOFF_SECONDS,
      });
      const headers = securityHeaders({
        location: `${back.origin}${HANDOFF_PATH}?token=${encodeURIComponent(token)}`,
        "cache-control": "no-store",
        // The token must not leak to the site through Referer.
        "referrer-policy": "no-referrer",
      });
      return new Response(null, { status: 303, headers });
    },
    { query: t.Object({ project: t.String({ maxLength: 64 }), return: t.String({ maxLength: 4096 }) }) },
  );
}

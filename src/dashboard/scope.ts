// The dashboard's remembered scope: the switcher's form stores the chosen team in a cookie sealed to the session,
// so pages reached by plain links (the Projects link, New project) stay in that team. Checked against the user's
// teams on every request; `?team=` in a page's address still wins for that page.

import { Elysia, t } from "elysia";
import type { Sealer } from "../deploy/env.ts";
import { teamFor } from "../deploy/teams.ts";
import type { Deps } from "../deps.ts";
import { cookieName, isHttps, readCookie } from "../identity/authenticate.ts";
import type { Store } from "../store/store.ts";
import type { Team, TeamRole } from "../store/teams.ts";
import { CsrfField, Text } from "./forms.ts";
import { redirect } from "./respond.ts";
import { requireSession } from "./session.ts";
import { dashboardTeam } from "./teams.tsx";

export const SCOPE_COOKIE = "mv_scope";
/** As long as a session can last: the cookie is worthless without its session anyway. */
const SCOPE_MAX_AGE_S = 30 * 24 * 3600;

function scopeCookie(request: Request, value: string, maxAge: number): string {
  return [
    `${cookieName(SCOPE_COOKIE, request)}=${value}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Lax",
    `Max-Age=${maxAge}`,
    ...(isHttps(request) ? ["Secure"] : []),
  ].join("; ");
}

/** The Set-Cookie that forgets the remembered team (back to the personal scope). */
export const clearScopeCookie = (request: Request): string => scopeCookie(request, "", 0);

/**
 * The Set-Cookie remembering `teamId` for this session: sealed with the platform key together with the session's
 * hash, so a value set by anyone else (a site on a sibling subdomain, another session's cookie) is ignored.
 */
async function rememberTeam(sealer: Sealer, request: Request, sessionHash: string, teamId: string) {
  const sealed = await sealer.seal(`scope:${sessionHash}:${teamId}`);
  return scopeCookie(request, Buffer.from(sealed).toString("base64url"), SCOPE_MAX_AGE_S);
}

/** The team id the request's cookie remembers for this session, or null (none, forged, another session's). */
async function rememberedTeamId(
  sealer: Sealer,
  request: Request,
  sessionHash: string,
): Promise<string | null> {
  const value = readCookie(request, cookieName(SCOPE_COOKIE, request));
  if (!value || !/^[A-Za-z0-9_-]{20,600}$/.test(value)) return null;
  try {
    const [kind, hash, teamId] = (await sealer.open(Buffer.from(value, "base64url").toString())).split(":");
    return kind === "scope" && hash === sessionHash && teamId ? teamId : null;
  } catch {
    return null;
  }
}

export interface PageScope {
  /** The team shown, or null for the personal scope. */
  team: Team | null;
  /** The user's role in it (null: personal). */
  role: TeamRole | null;
  /** A notice for the page: the remembered team is no longer the user's. */
  notice: string | null;
  /** Headers the page's response carries (the cookie cleared once the team is lost). */
  headers: Record<string, string>;
}

/**
 * The scope a page shows: `?team=` when given (checked with `need`, refused as any team route refuses), else the
 * remembered team while the user is still in it, else personal, with a notice (and the cookie cleared) when the
 * remembered team is no longer theirs.
 */
export async function pageScope(
  deps: { store: Store; sealer: Sealer },
  request: Request,
  user: { id: string },
  sessionHash: string,
  queryTeam: string | undefined,
): Promise<PageScope> {
  const none: PageScope = { team: null, role: null, notice: null, headers: {} };
  if (queryTeam?.trim())
    return { ...none, ...(await teamFor(deps.store, user.id, queryTeam.trim(), "read")) };
  const teamId = await rememberedTeamId(deps.sealer, request, sessionHash);
  if (teamId === null) return none;
  const found = (await deps.store.teams.ofUser(user.id)).find((t) => t.id === teamId);
  if (found) {
    const { role, ...team } = found;
    return { ...none, team, role };
  }
  return {
    ...none,
    notice: "You are no longer a member of the team you were working in: showing your personal projects.",
    headers: { "set-cookie": clearScopeCookie(request) },
  };
}

/** POST /scope: the switcher's form (CSRF-checked like every form): `team` is a slug, or empty for personal. */
export function scopeRoutes({ store, sealer }: Pick<Deps, "store" | "sealer">) {
  return new Elysia().use(requireSession(store)).post(
    "/scope",
    async ({ user, sessionHash, body, request }) => {
      const team = await dashboardTeam(store, user.id, body.team, "read");
      const cookie = team
        ? await rememberTeam(sealer, request, sessionHash, team.id)
        : clearScopeCookie(request);
      return redirect(request, "/", { "set-cookie": cookie });
    },
    { body: t.Object({ ...CsrfField, team: Text(64) }) },
  );
}

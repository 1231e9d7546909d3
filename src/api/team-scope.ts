// Which scope a request acts in: a team named by `?team=<slug>` or the x-minivercel-team header, else personal.

import type { Right } from "../deploy/access.ts";
import { teamFor } from "../deploy/teams.ts";
import type { Store } from "../store/store.ts";
import type { Team } from "../store/teams.ts";
import { TEAM_HEADER } from "./team-schemas.ts";

/**
 * The team the request names, when the caller's role there allows `need` (404 when they are not a member, 403
 * when the role is too weak); null for the personal scope.
 */
export async function actingTeam(
  store: Store,
  userId: string,
  request: Request,
  fromQuery: string | undefined,
  need: Right,
): Promise<Team | null> {
  const slug = (fromQuery ?? request.headers.get(TEAM_HEADER) ?? "").trim();
  if (slug === "") return null;
  return (await teamFor(store, userId, slug, need)).team;
}

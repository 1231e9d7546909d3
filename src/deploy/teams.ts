// Teams: creating and deleting them, their members' roles, leaving, and moving projects between scopes. Who may
// do what is decided by role here (owners manage members and settings; anyone may leave).

import type { Bus } from "../bus/bus.ts";
import { conflict, invalid, notFound } from "../errors.ts";
import type { Project } from "../model/entities.ts";
import type { Store } from "../store/store.ts";
import { TEAM_ROLES, type Team, type TeamRole } from "../store/teams.ts";
import { allows, getProject, type Right, roleRefused } from "./access.ts";
import { announceRoutes } from "./announce.ts";

/** Lowercase letters, digits and inner hyphens, 2-48 characters: safe in URLs, headers and the CLI. */
const SLUG = /^[a-z0-9][a-z0-9-]{0,46}[a-z0-9]$/;

export function assertTeamSlug(slug: string): string {
  if (!SLUG.test(slug))
    throw invalid("slug must be 2-48 lowercase letters, digits or inner hyphens (e.g. acme-web)", "slug");
  return slug;
}

export function assertRole(role: string): TeamRole {
  const found = TEAM_ROLES.find((r) => r === role);
  if (!found) throw invalid(`role must be one of ${TEAM_ROLES.join(", ")}`, "role");
  return found;
}

export async function createTeam(
  store: Store,
  userId: string,
  input: { slug: string; name?: string },
): Promise<Team> {
  const slug = assertTeamSlug(input.slug);
  const name = (input.name ?? slug).trim();
  if (name.length === 0 || name.length > 100) throw invalid("name must be 1-100 characters", "name");
  return store.teams.create({ slug, name, ownerId: userId });
}

/**
 * The team named by `slug` and the caller's role in it, when that role allows `need`. A team the caller is not in
 * is 404, exactly like a missing one; too weak a role is 403.
 */
export async function teamFor(
  store: Store,
  userId: string,
  slug: string,
  need: Right,
): Promise<{ team: Team; role: TeamRole }> {
  const team = await store.teams.bySlug(slug);
  const role = team ? await store.teams.role(team.id, userId) : null;
  if (!team || !role) throw notFound("team");
  if (!allows(role, need)) throw roleRefused(role, need, `in team ${slug}`);
  return { team, role };
}

export async function deleteTeam(store: Store, userId: string, slug: string): Promise<Team> {
  const { team } = await teamFor(store, userId, slug, "admin");
  if (!(await store.teams.delete(team.id)))
    throw conflict("the team still has projects: delete them or transfer them to another scope first");
  return team;
}

const lastOwner = () =>
  conflict("a team keeps at least one owner: make another member owner first (or delete the team)");

export async function changeRole(
  store: Store,
  userId: string,
  slug: string,
  memberId: string,
  role: TeamRole,
): Promise<Team> {
  const { team } = await teamFor(store, userId, slug, "admin");
  const outcome = await store.teams.setRole(team.id, memberId, role);
  if (outcome === "missing") throw notFound("member");
  if (outcome === "last_owner") throw lastOwner();
  return team;
}

/** Removes a member (owners only), or the caller themselves (leaving: any role). */
export async function removeMember(
  { store, bus }: { store: Store; bus: Bus },
  userId: string,
  slug: string,
  memberId: string,
): Promise<Team> {
  const { team } = await teamFor(store, userId, slug, memberId === userId ? "read" : "admin");
  const projects = await teamProjectIds(store, userId, team.id);
  const outcome = await store.teams.removeMember(team.id, memberId);
  if (outcome === "missing") throw notFound("member");
  if (outcome === "last_owner") throw lastOwner();
  // The member no longer opens the team's protected hosts on any proxy.
  await announceTeam(bus, projects);
  return team;
}

/**
 * The team's project ids, listed as `userId` (a member). Who may view a team's protected hosts changes with its
 * members: after a change, `announceTeam` tells every proxy to reload these projects' rules.
 */
export async function teamProjectIds(store: Store, userId: string, teamId: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page: Awaited<ReturnType<Store["projects"]["list"]>> = await store.projects.list(
      userId,
      { limit: 100, cursor },
      teamId,
    );
    ids.push(...page.items.map((p) => p.id));
    cursor = page.nextCursor;
  } while (cursor);
  return ids;
}

export async function announceTeam(bus: Bus, projectIds: string[]): Promise<void> {
  for (const id of projectIds) await announceRoutes(bus, id);
}

/**
 * Moves a project to the team `toSlug`, or to the caller's personal scope (`toSlug` null). The caller must own
 * both: the project (its owner, or an owner of its team) and the destination.
 */
export async function transferProject(
  store: Store,
  userId: string,
  projectId: string,
  toSlug: string | null,
  /** MAX_PROJECTS_PER_USER: the destination scope must have a place left (0: no limit). */
  maxPerScope = 0,
): Promise<{ from: Project; to: Project; team: Team | null }> {
  const from = await getProject(store, userId, projectId, "admin");
  const team = toSlug === null ? null : (await teamFor(store, userId, toSlug, "admin")).team;
  if ((team?.id ?? null) === from.teamId && (team !== null || from.userId === userId))
    throw conflict("the project is in that scope already");
  const to = await store.projects.transfer(from.id, { teamId: team?.id ?? null, userId }, maxPerScope);
  if (!to) throw notFound("project");
  return { from, to, team };
}

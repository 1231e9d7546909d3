// Team invitations: one-time links with an expiry. Only the sha256 of a link's token is stored, so the link
// exists only in the answer to the owner who made it; accepting it (signed in) joins the team with its role.

import type { Bus } from "../bus/bus.ts";
import { invalid, notFound } from "../errors.ts";
import { hashSecret, randomSecret } from "../identity/accounts.ts";
import type { Store } from "../store/store.ts";
import type { Invitation, Team, TeamRole } from "../store/teams.ts";
import { announceTeam, teamFor, teamProjectIds } from "./teams.ts";

/** Invitation tokens start with this, so a pasted one is recognized (and a stray API token is not). */
export const INVITATION_PREFIX = "inv_";
export const INVITATION_DEFAULT_HOURS = 7 * 24;
export const INVITATION_MAX_HOURS = 30 * 24;

/** Where an invitation link points: the dashboard's accept page. */
export const invitationPath = (token: string) => `/invite/${encodeURIComponent(token)}`;

export async function createInvitation(
  store: Store,
  userId: string,
  slug: string,
  input: { role: TeamRole; expiresInHours?: number },
  now = Date.now(),
): Promise<{ team: Team; invitation: Invitation; token: string }> {
  const { team } = await teamFor(store, userId, slug, "admin");
  const hours = input.expiresInHours ?? INVITATION_DEFAULT_HOURS;
  if (!Number.isInteger(hours) || hours < 1 || hours > INVITATION_MAX_HOURS)
    throw invalid(
      `expiresInHours must be a whole number from 1 to ${INVITATION_MAX_HOURS}`,
      "expiresInHours",
    );
  const token = `${INVITATION_PREFIX}${randomSecret(32)}`;
  const invitation = await store.teams.invite({
    teamId: team.id,
    role: input.role,
    tokenHash: hashSecret(token),
    createdBy: userId,
    expiresAt: new Date(now + hours * 3_600_000).toISOString(),
  });
  return { team, invitation, token };
}

export async function listInvitations(store: Store, userId: string, slug: string): Promise<Invitation[]> {
  const { team } = await teamFor(store, userId, slug, "admin");
  return store.teams.invitations(team.id, new Date().toISOString());
}

export async function revokeInvitation(
  store: Store,
  userId: string,
  slug: string,
  invitationId: string,
): Promise<Team> {
  const { team } = await teamFor(store, userId, slug, "admin");
  if (!(await store.teams.revokeInvitation(team.id, invitationId))) throw notFound("invitation");
  return team;
}

/** Joins the signed-in user to the invitation's team; 404 for a token unknown, used, revoked or expired. */
export async function acceptInvitation(
  { store, bus }: { store: Store; bus: Bus },
  userId: string,
  token: string,
): Promise<{ team: Team; role: TeamRole }> {
  if (!token.startsWith(INVITATION_PREFIX) || token.length > 200) throw notFound("invitation");
  const joined = await store.teams.acceptInvitation(hashSecret(token), userId, new Date().toISOString());
  if (!joined) throw notFound("invitation (it may have been used, revoked or have expired)");
  // The new member opens the team's protected hosts on every proxy.
  await announceTeam(bus, await teamProjectIds(store, userId, joined.team.id));
  return joined;
}

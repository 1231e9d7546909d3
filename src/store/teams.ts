// Store port for teams: teams, their members with a role each, and one-time invitation links.

/** What a member may do in a team: owner (members, every setting, transfer, delete), member, viewer. */
export type TeamRole = "owner" | "member" | "viewer";
export const TEAM_ROLES: readonly TeamRole[] = ["owner", "member", "viewer"];

export interface Team {
  id: string;
  /** Unique, URL-safe: names the team in `?team=`, the `x-minivercel-team` header and the CLI's `--team`. */
  slug: string;
  name: string;
  createdAt: string;
}

export interface TeamMember {
  userId: string;
  email: string;
  role: TeamRole;
  joinedAt: string;
}

export interface Invitation {
  id: string;
  teamId: string;
  role: TeamRole;
  createdBy: string;
  createdAt: string;
  expiresAt: string;
}

/** Why a change of members was refused: the member is not there, or the team would be left without an owner. */
export type MemberChange = "ok" | "missing" | "last_owner";

/**
 * Teams and memberships. Every change that could leave a team without an owner (a role change, a removal, a
 * member leaving) is checked in the same transaction as the write, so two owners leaving at once cannot both go.
 */
export interface Teams {
  /** Creates the team with `ownerId` as its first owner; throws a conflict AppError when the slug is taken. */
  create(input: { slug: string; name: string; ownerId: string }): Promise<Team>;
  bySlug(slug: string): Promise<Team | null>;
  byId(id: string): Promise<Team | null>;
  /** The teams a user belongs to, with their role in each, by slug. */
  ofUser(userId: string): Promise<(Team & { role: TeamRole })[]>;
  /** The user's role in the team, or null when they are not a member. */
  role(teamId: string, userId: string): Promise<TeamRole | null>;
  /** By when they joined. */
  members(teamId: string): Promise<TeamMember[]>;
  setRole(teamId: string, userId: string, role: TeamRole): Promise<MemberChange>;
  removeMember(teamId: string, userId: string): Promise<MemberChange>;
  /** Deletes the team with its memberships and invitations; false (nothing deleted) while it has projects. */
  delete(teamId: string): Promise<boolean>;
  /** Stores an invitation by the sha256 of its token (the token itself is only in the link). */
  invite(input: {
    teamId: string;
    role: TeamRole;
    tokenHash: string;
    createdBy: string;
    expiresAt: string;
  }): Promise<Invitation>;
  /** The team's invitations still open at `now` (not accepted, revoked or expired), newest first. */
  invitations(teamId: string, now: string): Promise<Invitation[]>;
  /** False when the invitation is not the team's or is no longer open. */
  revokeInvitation(teamId: string, invitationId: string): Promise<boolean>;
  /**
   * Uses an open invitation once, atomically: the user joins with its role (a member already keeps their role).
   * Null when no open invitation has this hash at `now` (unknown, used, revoked or expired).
   */
  acceptInvitation(
    tokenHash: string,
    userId: string,
    now: string,
  ): Promise<{ team: Team; role: TeamRole } | null>;
}

// Row <-> domain mapping for teams, invitations and the audit log, shared by the sqlite and Postgres stores.

import type { AuditEvent, AuditScope } from "./audit-log.ts";
import { optStr, type Row, str } from "./rows.ts";
import { type Invitation, TEAM_ROLES, type Team, type TeamMember, type TeamRole } from "./teams.ts";

export function roleOf(row: Row, key = "role"): TeamRole {
  const v = row[key];
  const role = TEAM_ROLES.find((r) => r === v);
  if (!role) throw new Error(`store: ${key} is not a team role`);
  return role;
}

export const toTeam = (row: Row): Team => ({
  id: str(row, "id"),
  slug: str(row, "slug"),
  name: str(row, "name"),
  createdAt: str(row, "created_at"),
});

export const toMember = (row: Row): TeamMember => ({
  userId: str(row, "user_id"),
  email: str(row, "email"),
  role: roleOf(row),
  joinedAt: str(row, "created_at"),
});

export const toInvitation = (row: Row): Invitation => ({
  id: str(row, "id"),
  teamId: str(row, "team_id"),
  role: roleOf(row),
  createdBy: str(row, "created_by"),
  createdAt: str(row, "created_at"),
  expiresAt: str(row, "expires_at"),
});

export const toAuditEvent = (row: Row): AuditEvent => ({
  id: str(row, "id"),
  scope: str(row, "scope") as AuditScope,
  actorId: optStr(row, "actor_id"),
  actorEmail: optStr(row, "actor_email"),
  action: str(row, "action"),
  target: optStr(row, "target"),
  detail: optStr(row, "detail"),
  address: optStr(row, "address"),
  createdAt: str(row, "created_at"),
});

/** A team slug taken: the conflict the user can act on. */
export const SLUG_TAKEN = "a team with this slug already exists";

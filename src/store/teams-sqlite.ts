// Store: teams, members and invitations (src/store/teams.ts) on bun:sqlite.

import type { Database } from "bun:sqlite";
import { conflict } from "../errors.ts";
import { sqliteQueries } from "./query-sqlite.ts";
import { newId, nowIso } from "./rows.ts";
import { roleOf, SLUG_TAKEN, toInvitation, toMember, toTeam } from "./team-rows.ts";
import type { MemberChange, Teams } from "./teams.ts";

export function sqliteTeams(db: Database): Teams {
  const { one, all, run } = sqliteQueries(db);
  const owners = (teamId: string) =>
    Number(
      one("SELECT count(*) AS n FROM team_members WHERE team_id = ? AND role = 'owner'", teamId)?.n ?? 0,
    );

  /** Applies `write` to a member unless it would leave the team without an owner; in one transaction. */
  const changeMember = (teamId: string, userId: string, leavesOwner: boolean, write: () => void) =>
    db
      .transaction((): MemberChange => {
        const current = one(
          "SELECT role FROM team_members WHERE team_id = ? AND user_id = ?",
          teamId,
          userId,
        );
        if (!current) return "missing";
        if (roleOf(current) === "owner" && leavesOwner && owners(teamId) <= 1) return "last_owner";
        write();
        return "ok";
      })
      .immediate();

  return {
    async create({ slug, name, ownerId }) {
      const id = newId();
      const at = nowIso();
      try {
        db.transaction(() => {
          run("INSERT INTO teams (id, slug, name, created_at) VALUES (?, ?, ?, ?)", id, slug, name, at);
          run(
            "INSERT INTO team_members (team_id, user_id, role, created_at) VALUES (?, ?, 'owner', ?)",
            id,
            ownerId,
            at,
          );
        }).immediate();
      } catch (e) {
        if (e instanceof Error && e.message.includes("teams.slug")) throw conflict(SLUG_TAKEN, "slug");
        throw e;
      }
      return { id, slug, name, createdAt: at };
    },
    async bySlug(slug) {
      const row = one("SELECT * FROM teams WHERE slug = ?", slug);
      return row ? toTeam(row) : null;
    },
    async byId(id) {
      const row = one("SELECT * FROM teams WHERE id = ?", id);
      return row ? toTeam(row) : null;
    },
    async ofUser(userId) {
      return all(
        `SELECT t.*, m.role FROM teams t JOIN team_members m ON m.team_id = t.id WHERE m.user_id = ?
         ORDER BY t.slug`,
        userId,
      ).map((row) => ({ ...toTeam(row), role: roleOf(row) }));
    },
    async role(teamId, userId) {
      const row = one("SELECT role FROM team_members WHERE team_id = ? AND user_id = ?", teamId, userId);
      return row ? roleOf(row) : null;
    },
    async members(teamId) {
      return all(
        `SELECT m.user_id, m.role, m.created_at, u.email FROM team_members m JOIN users u ON u.id = m.user_id
         WHERE m.team_id = ? ORDER BY m.created_at, u.email`,
        teamId,
      ).map(toMember);
    },
    async setRole(teamId, userId, role) {
      return changeMember(teamId, userId, role !== "owner", () =>
        run("UPDATE team_members SET role = ? WHERE team_id = ? AND user_id = ?", role, teamId, userId),
      );
    },
    async removeMember(teamId, userId) {
      return changeMember(teamId, userId, true, () =>
        run("DELETE FROM team_members WHERE team_id = ? AND user_id = ?", teamId, userId),
      );
    },
    async delete(teamId) {
      return db
        .transaction(() => {
          if (one("SELECT 1 AS x FROM projects WHERE team_id = ? LIMIT 1", teamId)) return false;
          return run("DELETE FROM teams WHERE id = ?", teamId).changes > 0;
        })
        .immediate();
    },
    async invite({ teamId, role, tokenHash, createdBy, expiresAt }) {
      const row = one(
        `INSERT INTO team_invitations (id, team_id, role, token_hash, created_by, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
        newId(),
        teamId,
        role,
        tokenHash,
        createdBy,
        nowIso(),
        expiresAt,
      );
      return toInvitation(row ?? {});
    },
    async invitations(teamId, now) {
      return all(
        `SELECT * FROM team_invitations WHERE team_id = ? AND accepted_at IS NULL AND revoked_at IS NULL
           AND expires_at > ? ORDER BY created_at DESC, id DESC`,
        teamId,
        now,
      ).map(toInvitation);
    },
    async revokeInvitation(teamId, invitationId) {
      return (
        run(
          `UPDATE team_invitations SET revoked_at = ? WHERE id = ? AND team_id = ? AND accepted_at IS NULL
             AND revoked_at IS NULL`,
          nowIso(),
          invitationId,
          teamId,
        ).changes > 0
      );
    },
    async acceptInvitation(tokenHash, userId, now) {
      return db
        .transaction(() => {
          // The UPDATE is the one-time use: of two accepts racing, one changes the row and the other finds none.
          const used = one(
            `UPDATE team_invitations SET accepted_at = ?, accepted_by = ?
             WHERE token_hash = ? AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ? RETURNING *`,
            now,
            userId,
            tokenHash,
            now,
          );
          if (!used) return null;
          const invitation = toInvitation(used);
          run(
            `INSERT INTO team_members (team_id, user_id, role, created_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (team_id, user_id) DO NOTHING`,
            invitation.teamId,
            userId,
            invitation.role,
            now,
          );
          const team = one("SELECT * FROM teams WHERE id = ?", invitation.teamId);
          const member = one(
            "SELECT role FROM team_members WHERE team_id = ? AND user_id = ?",
            invitation.teamId,
            userId,
          );
          return team && member ? { team: toTeam(team), role: roleOf(member) } : null;
        })
        .immediate();
    },
  };
}

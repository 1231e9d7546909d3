// Store: teams, members and invitations (src/store/teams.ts) on PostgreSQL.

import type postgres from "postgres";
import { conflict } from "../errors.ts";
import { first, violatedUnique } from "./query-postgres.ts";
import { newId, nowIso, type Row } from "./rows.ts";
import { roleOf, SLUG_TAKEN, toInvitation, toMember, toTeam } from "./team-rows.ts";
import type { MemberChange, Teams } from "./teams.ts";

export function postgresTeams(sql: postgres.Sql): Teams {
  /**
   * Applies `write` to a member unless it would leave the team without an owner. The team's row lock makes
   * concurrent changes of one team's members queue, so two last owners leaving at once cannot both go.
   */
  const changeMember = (
    teamId: string,
    userId: string,
    leavesOwner: boolean,
    write: (tx: postgres.TransactionSql) => Promise<unknown>,
  ) =>
    sql.begin(async (tx): Promise<MemberChange> => {
      await tx`SELECT 1 FROM teams WHERE id = ${teamId} FOR UPDATE`;
      const current = await first(
        tx<Row[]>`SELECT role FROM team_members WHERE team_id = ${teamId} AND user_id = ${userId}`,
      );
      if (!current) return "missing";
      if (roleOf(current) === "owner" && leavesOwner) {
        const [owners] = await tx<Row[]>`
          SELECT count(*) AS n FROM team_members WHERE team_id = ${teamId} AND role = 'owner'`;
        if (Number(owners?.n ?? 0) <= 1) return "last_owner";
      }
      await write(tx);
      return "ok";
    });

  return {
    async create({ slug, name, ownerId }) {
      const id = newId();
      const at = nowIso();
      try {
        await sql.begin(async (tx) => {
          await tx`INSERT INTO teams (id, slug, name, created_at) VALUES (${id}, ${slug}, ${name}, ${at})`;
          await tx`INSERT INTO team_members (team_id, user_id, role, created_at) VALUES (${id}, ${ownerId}, 'owner', ${at})`;
        });
      } catch (e) {
        if (violatedUnique(e) === "teams_slug_key") throw conflict(SLUG_TAKEN, "slug");
        throw e;
      }
      return { id, slug, name, createdAt: at };
    },
    async bySlug(slug) {
      const row = await first(sql<Row[]>`SELECT * FROM teams WHERE slug = ${slug}`);
      return row ? toTeam(row) : null;
    },
    async byId(id) {
      const row = await first(sql<Row[]>`SELECT * FROM teams WHERE id = ${id}`);
      return row ? toTeam(row) : null;
    },
    async ofUser(userId) {
      const rows = await sql<Row[]>`
        SELECT t.*, m.role FROM teams t JOIN team_members m ON m.team_id = t.id WHERE m.user_id = ${userId}
        ORDER BY t.slug`;
      return rows.map((row) => ({ ...toTeam(row), role: roleOf(row) }));
    },
    async role(teamId, userId) {
      const row = await first(
        sql<Row[]>`SELECT role FROM team_members WHERE team_id = ${teamId} AND user_id = ${userId}`,
      );
      return row ? roleOf(row) : null;
    },
    async members(teamId) {
      const rows = await sql<Row[]>`
        SELECT m.user_id, m.role, m.created_at, u.email FROM team_members m JOIN users u ON u.id = m.user_id
        WHERE m.team_id = ${teamId} ORDER BY m.created_at, u.email`;
      return rows.map(toMember);
    },
    async setRole(teamId, userId, role) {
      return changeMember(
        teamId,
        userId,
        role !== "owner",
        (tx) => tx`UPDATE team_members SET role = ${role} WHERE team_id = ${teamId} AND user_id = ${userId}`,
      );
    },
    async removeMember(teamId, userId) {
      return changeMember(
        teamId,
        userId,
        true,
        (tx) => tx`DELETE FROM team_members WHERE team_id = ${teamId} AND user_id = ${userId}`,
      );
    },
    async delete(teamId) {
      return sql.begin(async (tx) => {
        await tx`SELECT 1 FROM teams WHERE id = ${teamId} FOR UPDATE`;
        // Projects move into a team under the same lock (transfer), so none can arrive between check and delete.
        if (await first(tx<Row[]>`SELECT 1 AS x FROM projects WHERE team_id = ${teamId} LIMIT 1`))
          return false;
        const result = await tx`DELETE FROM teams WHERE id = ${teamId}`;
        return result.count > 0;
      });
    },
    async invite({ teamId, role, tokenHash, createdBy, expiresAt }) {
      const [row] = await sql<Row[]>`
        INSERT INTO team_invitations (id, team_id, role, token_hash, created_by, created_at, expires_at)
        VALUES (${newId()}, ${teamId}, ${role}, ${tokenHash}, ${createdBy}, ${nowIso()}, ${expiresAt})
        RETURNING *`;
      return toInvitation(row ?? {});
    },
    async invitations(teamId, now) {
      const rows = await sql<Row[]>`
        SELECT * FROM team_invitations WHERE team_id = ${teamId} AND accepted_at IS NULL AND revoked_at IS NULL
          AND expires_at > ${now} ORDER BY created_at DESC, id DESC`;
      return rows.map(toInvitation);
    },
    async revokeInvitation(teamId, invitationId) {
      const result = await sql`
        UPDATE team_invitations SET revoked_at = ${nowIso()}
        WHERE id = ${invitationId} AND team_id = ${teamId} AND accepted_at IS NULL AND revoked_at IS NULL`;
      return result.count > 0;
    },
    async acceptInvitation(tokenHash, userId, now) {
      return sql.begin(async (tx) => {
        // The UPDATE is the one-time use: of two accepts racing, one changes the row and the other finds none.
        const used = await first(tx<Row[]>`
          UPDATE team_invitations SET accepted_at = ${now}, accepted_by = ${userId}
          WHERE token_hash = ${tokenHash} AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ${now}
          RETURNING *`);
        if (!used) return null;
        const invitation = toInvitation(used);
        await tx`
          INSERT INTO team_members (team_id, user_id, role, created_at)
          VALUES (${invitation.teamId}, ${userId}, ${invitation.role}, ${now})
          ON CONFLICT (team_id, user_id) DO NOTHING`;
        const team = await first(tx<Row[]>`SELECT * FROM teams WHERE id = ${invitation.teamId}`);
        const member = await first(
          tx<
            Row[]
          >`SELECT role FROM team_members WHERE team_id = ${invitation.teamId} AND user_id = ${userId}`,
        );
        return team && member ? { team: toTeam(team), role: roleOf(member) } : null;
      });
    },
  };
}

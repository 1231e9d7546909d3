// Deployment protection, store: on PostgreSQL.

import type postgres from "postgres";
import { type AccessRule, type Protection, toAccessRules } from "./protection.ts";
import { toBypassToken, toProtected } from "./protection-sqlite.ts";
import { newId, nowIso, type Row, str } from "./rows.ts";

export function postgresProtection(sql: postgres.Sql): Protection {
  return {
    async setMode(projectId, mode) {
      const result = await sql`
        UPDATE projects SET protection = ${mode}, updated_at = ${nowIso()} WHERE id = ${projectId}`;
      return result.count > 0;
    },
    async setPassword(projectId, passwordHash) {
      const result = await sql`
        UPDATE projects SET protection_password_hash = ${passwordHash}, updated_at = ${nowIso()}
        WHERE id = ${projectId}`;
      return result.count > 0;
    },
    async addToken({ projectId, name, prefix, hash }) {
      const [row] = await sql<Row[]>`
        INSERT INTO protection_bypass_tokens (id, project_id, name, prefix, hash, created_at)
        VALUES (${newId()}, ${projectId}, ${name}, ${prefix}, ${hash}, ${nowIso()}) RETURNING *`;
      if (!row) throw new Error("store: bypass token insert returned nothing");
      return toBypassToken(row);
    },
    async tokens(projectId) {
      const rows = await sql<Row[]>`
        SELECT * FROM protection_bypass_tokens WHERE project_id = ${projectId} ORDER BY created_at, id`;
      return rows.map(toBypassToken);
    },
    async revokeToken(projectId, tokenId) {
      const result = await sql`
        DELETE FROM protection_bypass_tokens WHERE id = ${tokenId} AND project_id = ${projectId}`;
      return result.count > 0;
    },
    async useHandoff(nonce, expiresAt) {
      await sql`DELETE FROM protection_handoffs WHERE expires_at < ${nowIso()}`;
      const inserted = await sql`
        INSERT INTO protection_handoffs (nonce, expires_at) VALUES (${nonce}, ${expiresAt.toISOString()})
        ON CONFLICT (nonce) DO NOTHING`;
      return inserted.count > 0;
    },
    async access(projectId): Promise<AccessRule[]> {
      const one = projectId === undefined ? sql`` : sql`AND p.id = ${projectId}`;
      const projects = await sql<Row[]>`
        SELECT p.id, p.user_id, p.team_id, p.protection, p.protection_password_hash FROM projects p
        WHERE p.protection <> 'none' ${one}`;
      const tokens = await sql<Row[]>`
        SELECT t.id, t.project_id, t.hash FROM protection_bypass_tokens t JOIN projects p ON p.id = t.project_id
        WHERE p.protection <> 'none' ${one}`;
      const teams = [...new Set(projects.map((p) => p.team_id).filter((t) => typeof t === "string"))];
      const members = teams.length
        ? await sql<Row[]>`SELECT team_id, user_id FROM team_members WHERE team_id IN ${sql(teams)}`
        : [];
      return toAccessRules(
        projects.map(toProtected),
        tokens.map((t) => ({ projectId: str(t, "project_id"), id: str(t, "id"), hash: str(t, "hash") })),
        members.map((m) => ({ teamId: str(m, "team_id"), userId: str(m, "user_id") })),
      );
    },
  };
}

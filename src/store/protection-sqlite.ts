// Deployment protection, store: on bun:sqlite.

import type { Database } from "bun:sqlite";
import { type AccessRule, type Protection, toAccessRules } from "./protection.ts";
import { sqliteQueries } from "./query-sqlite.ts";
import { newId, nowIso, protectionOf, type Row, str } from "./rows.ts";

export const toBypassToken = (row: Row) => ({
  id: str(row, "id"),
  projectId: str(row, "project_id"),
  name: str(row, "name"),
  prefix: str(row, "prefix"),
  createdAt: str(row, "created_at"),
});

/** Protected project rows -> the fields toAccessRules takes ('none' rows are filtered by the query). */
export const toProtected = (row: Row) => {
  const mode = protectionOf(row);
  return {
    id: str(row, "id"),
    userId: str(row, "user_id"),
    teamId: typeof row.team_id === "string" ? row.team_id : null,
    mode: mode === "none" ? ("all" as const) : mode,
    passwordHash: typeof row.protection_password_hash === "string" ? row.protection_password_hash : null,
  };
};

export function sqliteProtection(db: Database): Protection {
  const { one, all, run } = sqliteQueries(db);
  return {
    async setMode(projectId, mode) {
      return (
        run("UPDATE projects SET protection = ?, updated_at = ? WHERE id = ?", mode, nowIso(), projectId)
          .changes > 0
      );
    },
    async setPassword(projectId, passwordHash) {
      return (
        run(
          "UPDATE projects SET protection_password_hash = ?, updated_at = ? WHERE id = ?",
          passwordHash,
          nowIso(),
          projectId,
        ).changes > 0
      );
    },
    async addToken({ projectId, name, prefix, hash }) {
      const row = one(
        `INSERT INTO protection_bypass_tokens (id, project_id, name, prefix, hash, created_at)
         VALUES (?, ?, ?, ?, ?, ?) RETURNING *`,
        newId(),
        projectId,
        name,
        prefix,
        hash,
        nowIso(),
      );
      if (!row) throw new Error("store: bypass token insert returned nothing");
      return toBypassToken(row);
    },
    async tokens(projectId) {
      return all(
        "SELECT * FROM protection_bypass_tokens WHERE project_id = ? ORDER BY created_at, id",
        projectId,
      ).map(toBypassToken);
    },
    async revokeToken(projectId, tokenId) {
      return (
        run("DELETE FROM protection_bypass_tokens WHERE id = ? AND project_id = ?", tokenId, projectId)
          .changes > 0
      );
    },
    async useHandoff(nonce, expiresAt) {
      const now = nowIso();
      return db
        .transaction(() => {
          run("DELETE FROM protection_handoffs WHERE expires_at < ?", now);
          return (
            run(
              "INSERT INTO protection_handoffs (nonce, expires_at) VALUES (?, ?) ON CONFLICT (nonce) DO NOTHING",
              nonce,
              expiresAt.toISOString(),
            ).changes > 0
          );
        })
        .immediate();
    },
    async access(projectId): Promise<AccessRule[]> {
      const projects =
        projectId === undefined
          ? all(
              "SELECT id, user_id, team_id, protection, protection_password_hash FROM projects WHERE protection <> 'none'",
            )
          : all(
              `SELECT id, user_id, team_id, protection, protection_password_hash FROM projects
               WHERE protection <> 'none' AND id = ?`,
              projectId,
            );
      const tokens =
        projectId === undefined
          ? all(
              `SELECT t.id, t.project_id, t.hash FROM protection_bypass_tokens t
               JOIN projects p ON p.id = t.project_id WHERE p.protection <> 'none'`,
            )
          : all("SELECT id, project_id, hash FROM protection_bypass_tokens WHERE project_id = ?", projectId);
      const teams = [...new Set(projects.map((p) => p.team_id).filter((t) => typeof t === "string"))];
      const members = teams.length
        ? all(
            `SELECT team_id, user_id FROM team_members WHERE team_id IN (${teams.map(() => "?").join(", ")})`,
            ...teams,
          )
        : [];
      return toAccessRules(
        projects.map(toProtected),
        tokens.map((t) => ({ projectId: str(t, "project_id"), id: str(t, "id"), hash: str(t, "hash") })),
        members.map((m) => ({ teamId: str(m, "team_id"), userId: str(m, "user_id") })),
      );
    },
  };
}

// Store: project environment variables, stored sealed (src/store/store.ts), on bun:sqlite.

import type { Database } from "bun:sqlite";
import { sqliteQueries } from "./query-sqlite.ts";
import { nowIso, toEnvVar } from "./rows.ts";
import type { ProjectEnv } from "./store.ts";

export function sqliteEnv(db: Database): ProjectEnv {
  const { all, run } = sqliteQueries(db);
  return {
    async set(projectId, key, valueEncrypted) {
      const at = nowIso();
      run(
        `INSERT INTO project_env (project_id, key, value_encrypted, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (project_id, key) DO UPDATE SET value_encrypted = excluded.value_encrypted, updated_at = excluded.updated_at`,
        projectId,
        key,
        valueEncrypted,
        at,
        at,
      );
    },
    async list(projectId) {
      return all("SELECT * FROM project_env WHERE project_id = ? ORDER BY key", projectId).map(toEnvVar);
    },
    async remove(projectId, key) {
      return run("DELETE FROM project_env WHERE project_id = ? AND key = ?", projectId, key).changes > 0;
    },
  };
}

// Store: project environment variables, stored sealed (src/store/store.ts), on PostgreSQL.

import type postgres from "postgres";
import { nowIso, type Row, toEnvVar } from "./rows.ts";
import type { ProjectEnv } from "./store.ts";

export function postgresEnv(sql: postgres.Sql): ProjectEnv {
  return {
    async set(projectId, key, valueEncrypted) {
      const at = nowIso();
      await sql`
        INSERT INTO project_env (project_id, key, value_encrypted, created_at, updated_at)
        VALUES (${projectId}, ${key}, ${valueEncrypted}, ${at}, ${at})
        ON CONFLICT (project_id, key) DO UPDATE SET value_encrypted = EXCLUDED.value_encrypted, updated_at = EXCLUDED.updated_at`;
    },
    async list(projectId) {
      const rows = await sql<Row[]>`SELECT * FROM project_env WHERE project_id = ${projectId} ORDER BY key`;
      return rows.map(toEnvVar);
    },
    async remove(projectId, key) {
      const result = await sql`DELETE FROM project_env WHERE project_id = ${projectId} AND key = ${key}`;
      return result.count > 0;
    },
  };
}

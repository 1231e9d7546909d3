// Store: project environment variables per target, stored sealed (src/store/store.ts), on PostgreSQL.

import type postgres from "postgres";
import type { DeploymentTarget } from "../model/entities.ts";
import { nowIso, type Row, toEnvVar } from "./rows.ts";
import type { ProjectEnv } from "./store.ts";

const flags = (targets: DeploymentTarget[]) =>
  [targets.includes("production"), targets.includes("preview")] as const;

export function postgresEnv(sql: postgres.Sql): ProjectEnv {
  /** One writer per project at a time: a key's rows are read, split and written as one step. */
  const locked = <T>(projectId: string, body: (tx: postgres.TransactionSql) => Promise<T>) =>
    sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(hashtext(${`minivercel:env:${projectId}`}))`;
      return body(tx);
    }) as Promise<T>;

  /** Takes `key` off `targets`: its rows holding only those go, rows shared with another target keep that one. */
  const release = async (
    tx: postgres.TransactionSql,
    projectId: string,
    key: string,
    targets: DeploymentTarget[],
  ): Promise<number> => {
    const [production, preview] = flags(targets);
    let changed = (
      await tx`DELETE FROM project_env WHERE project_id = ${projectId} AND key = ${key}
        AND (NOT production OR ${production}) AND (NOT preview OR ${preview})`
    ).count;
    if (production)
      changed += (
        await tx`UPDATE project_env SET production = FALSE
          WHERE project_id = ${projectId} AND key = ${key} AND production`
      ).count;
    if (preview)
      changed += (
        await tx`UPDATE project_env SET preview = FALSE
          WHERE project_id = ${projectId} AND key = ${key} AND preview`
      ).count;
    return changed;
  };

  return {
    async set(projectId, key, targets, valueEncrypted) {
      const [production, preview] = flags(targets);
      await locked(projectId, async (tx) => {
        const at = nowIso();
        // The same targets as before: a new value in place.
        const replaced =
          await tx`UPDATE project_env SET value_encrypted = ${valueEncrypted}, updated_at = ${at}
          WHERE project_id = ${projectId} AND key = ${key} AND production = ${production} AND preview = ${preview}`;
        if (replaced.count > 0) return;
        await release(tx, projectId, key, targets);
        await tx`
          INSERT INTO project_env (project_id, key, production, preview, value_encrypted, created_at, updated_at)
          VALUES (${projectId}, ${key}, ${production}, ${preview}, ${valueEncrypted}, ${at}, ${at})`;
      });
    },
    async list(projectId) {
      const rows = await sql<Row[]>`
        SELECT * FROM project_env WHERE project_id = ${projectId} ORDER BY key, production DESC`;
      return rows.map(toEnvVar);
    },
    async remove(projectId, key, targets) {
      return (await locked(projectId, (tx) => release(tx, projectId, key, targets))) > 0;
    },
  };
}

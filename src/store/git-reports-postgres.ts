// Commit statuses and pull-request comments, store: on PostgreSQL (claims skip rows another process has locked).

import type postgres from "postgres";
import type { GitReports } from "./git-reports.ts";
import { toProvider, toReport, UPSERT_SQL } from "./git-reports-sqlite.ts";
import { newId, type Row } from "./rows.ts";

export function postgresGitReports(sql: postgres.Sql): GitReports {
  return {
    async provider(projectId) {
      const [row] = await sql<Row[]>`SELECT * FROM git_providers WHERE project_id = ${projectId}`;
      return row ? toProvider(row) : null;
    },
    async setProvider(s) {
      const [row] = await sql<Row[]>`
        INSERT INTO git_providers (project_id, kind, api_url, repository, token_sealed, token_hint, updated_at)
        VALUES (${s.projectId}, ${s.kind}, ${s.apiUrl}, ${s.repository}, ${s.tokenSealed}, ${s.tokenHint},
          ${new Date().toISOString()})
        ON CONFLICT (project_id) DO UPDATE SET kind = excluded.kind, api_url = excluded.api_url,
          repository = excluded.repository, token_sealed = excluded.token_sealed,
          token_hint = excluded.token_hint, updated_at = excluded.updated_at
        RETURNING *`;
      if (!row) throw new Error("store: git provider upsert returned nothing");
      return toProvider(row);
    },
    async deleteProvider(projectId) {
      return sql.begin(async (tx) => {
        await tx`DELETE FROM git_reports WHERE project_id = ${projectId}`;
        return (await tx`DELETE FROM git_providers WHERE project_id = ${projectId}`).count > 0;
      });
    },
    async upsert(r) {
      const result = await sql.unsafe(UPSERT_SQL, [
        newId(),
        r.projectId,
        r.kind,
        r.subject,
        r.deploymentId,
        r.deploymentCreatedAt,
        r.state,
        r.now,
      ]);
      return result.count > 0;
    },
    async claimDue(holder, now, until, limit) {
      const rows = await sql<Row[]>`
        WITH due AS (
          SELECT id FROM git_reports
          WHERE status = 'pending' AND next_attempt_at <= ${now} AND (lease_until IS NULL OR lease_until <= ${now})
          ORDER BY next_attempt_at, id LIMIT ${limit}
          FOR UPDATE SKIP LOCKED
        )
        UPDATE git_reports r SET lease_holder = ${holder}, lease_until = ${until}
        FROM due WHERE r.id = due.id RETURNING r.*`;
      return rows.map(toReport);
    },
    async finish(id, holder, version, outcome, error, now) {
      return sql.begin(async (tx) => {
        const [row] = await tx<Row[]>`
          SELECT version FROM git_reports WHERE id = ${id} AND lease_holder = ${holder} FOR UPDATE`;
        if (!row) return false;
        if (Number(row.version) !== version) {
          await tx`UPDATE git_reports SET lease_holder = NULL, lease_until = NULL WHERE id = ${id}`;
          return true;
        }
        const status = outcome.kind === "retry" ? "pending" : outcome.kind;
        const next = outcome.kind === "retry" ? outcome.at : now;
        await tx`
          UPDATE git_reports SET status = ${status}, attempts = attempts + 1, next_attempt_at = ${next},
            last_error = ${error}, lease_holder = NULL, lease_until = NULL, updated_at = ${now}
          WHERE id = ${id}`;
        return true;
      });
    },
    async list(projectId, limit) {
      const rows = await sql<Row[]>`
        SELECT * FROM git_reports WHERE project_id = ${projectId} ORDER BY updated_at DESC, id LIMIT ${limit}`;
      return rows.map(toReport);
    },
    async prune(before) {
      return (await sql`DELETE FROM git_reports WHERE status <> 'pending' AND updated_at < ${before}`).count;
    },
  };
}

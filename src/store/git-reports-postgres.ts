// Commit statuses and pull-request comments, store: on PostgreSQL; claims, settles and prunes through the shared
// outbox (outbox-postgres.ts).

import type postgres from "postgres";
import type { GitReports } from "./git-reports.ts";
import { REPORTS_OUTBOX, toProvider, toReport, UPSERT_SQL } from "./git-reports-sqlite.ts";
import { postgresOutbox } from "./outbox-postgres.ts";
import { newId, type Row } from "./rows.ts";

export function postgresGitReports(sql: postgres.Sql): GitReports {
  const outbox = postgresOutbox(sql, REPORTS_OUTBOX);
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
      return (await outbox.claim(holder, now, until, limit)).map(toReport);
    },
    async finish(id, holder, version, outcome, error, now) {
      // A report that changed while it was sent stays pending, due now, for its new state: only the lease goes.
      return sql.begin(
        async (tx) =>
          (await outbox.settle(
            tx,
            id,
            holder,
            outcome,
            now,
            { last_error: error, updated_at: now },
            version,
          )) || (await outbox.release(tx, id, holder)),
      );
    },
    async list(projectId, limit) {
      const rows = await sql<Row[]>`
        SELECT * FROM git_reports WHERE project_id = ${projectId} ORDER BY updated_at DESC, id LIMIT ${limit}`;
      return rows.map(toReport);
    },
    async prune(before) {
      return outbox.prune(before);
    },
  };
}

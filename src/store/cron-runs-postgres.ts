// Cron jobs, store: runs on PostgreSQL, where every proxy keeps the schedule and the unique key picks the one
// that runs each job (INSERT ... ON CONFLICT DO NOTHING: of racing claims exactly one inserts).

import type postgres from "postgres";
import type { CronRuns } from "./cron-runs.ts";
import { newId, type Row, toCronRun } from "./rows.ts";

export function postgresCronRuns(sql: postgres.Sql): CronRuns {
  return {
    async claim(claim) {
      const [row] = await sql<Row[]>`
        INSERT INTO cron_runs (id, project_id, deployment_id, path, schedule, trigger, scheduled_at, started_at,
          claimed_by)
        SELECT ${newId()}, ${claim.projectId}, ${claim.deploymentId}, ${claim.path}, ${claim.schedule},
          ${claim.trigger}, ${claim.scheduledAt}, ${claim.startedAt}, ${claim.claimedBy}
        WHERE EXISTS (SELECT 1 FROM projects WHERE id = ${claim.projectId})
        ON CONFLICT (project_id, path, schedule, trigger, scheduled_at) DO NOTHING
        RETURNING *`;
      return row ? toCronRun(row) : null;
    },
    async finish(id, result) {
      await sql`
        UPDATE cron_runs SET finished_at = ${result.finishedAt}, status = ${result.status},
          duration_ms = ${Math.round(result.durationMs)}, error = ${result.error}
        WHERE id = ${id}`;
    },
    async recent(projectId, limit) {
      const rows = await sql<Row[]>`
        SELECT * FROM cron_runs WHERE project_id = ${projectId} ORDER BY started_at DESC, id DESC LIMIT ${limit}`;
      return rows.map(toCronRun);
    },
    async prune(before) {
      const result = await sql`DELETE FROM cron_runs WHERE started_at < ${before}`;
      return result.count;
    },
  };
}

// Cron jobs, store: runs on bun:sqlite (one process keeps the schedule; the unique key still guards a claim).

import type { Database } from "bun:sqlite";
import type { CronRuns } from "./cron-runs.ts";
import { type Params, sqliteQueries } from "./query-sqlite.ts";
import { newId, type Row, toCronRun } from "./rows.ts";

export function sqliteCronRuns(db: Database): CronRuns {
  const { all, run } = sqliteQueries(db);
  return {
    async claim(claim) {
      const row = db
        .query<Row, Params>(
          `INSERT INTO cron_runs (id, project_id, deployment_id, path, schedule, trigger, scheduled_at, started_at,
             claimed_by)
           SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM projects WHERE id = ?)
           ON CONFLICT (project_id, path, schedule, trigger, scheduled_at) DO NOTHING
           RETURNING *`,
        )
        .get(
          newId(),
          claim.projectId,
          claim.deploymentId,
          claim.path,
          claim.schedule,
          claim.trigger,
          claim.scheduledAt,
          claim.startedAt,
          claim.claimedBy,
          claim.projectId,
        );
      return row ? toCronRun(row) : null;
    },
    async finish(id, result) {
      run(
        "UPDATE cron_runs SET finished_at = ?, status = ?, duration_ms = ?, error = ? WHERE id = ?",
        result.finishedAt,
        result.status,
        Math.round(result.durationMs),
        result.error,
        id,
      );
    },
    async recent(projectId, limit) {
      return all(
        "SELECT * FROM cron_runs WHERE project_id = ? ORDER BY started_at DESC, id DESC LIMIT ?",
        projectId,
        limit,
      ).map(toCronRun);
    },
    async prune(before) {
      return run("DELETE FROM cron_runs WHERE started_at < ?", before).changes;
    },
  };
}

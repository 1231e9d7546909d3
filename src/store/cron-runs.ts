// Cron jobs, store port: one record per run of a deployment's cron job. Claiming a scheduled run inserts its
// key, so when several proxies keep the schedule, exactly one of them runs each job each time it is due.

/** "schedule": due by its schedule (one per job and minute); "manual": started from the dashboard or API. */
export type CronTrigger = "schedule" | "manual";

export interface CronRun {
  id: string;
  projectId: string;
  deploymentId: string;
  path: string;
  schedule: string;
  trigger: CronTrigger;
  /** The minute the run was due (scheduled), or when it was asked for (manual). */
  scheduledAt: string;
  startedAt: string;
  /** The process that ran it (its instance id). */
  claimedBy: string;
  /** Null while running. */
  finishedAt: string | null;
  /** The HTTP status the deployment answered, or null when no answer came (see `error`). */
  status: number | null;
  durationMs: number | null;
  error: string | null;
}

export type CronClaim = Pick<
  CronRun,
  "projectId" | "deploymentId" | "path" | "schedule" | "trigger" | "scheduledAt" | "startedAt" | "claimedBy"
>;

export interface CronRuns {
  /**
   * Records a run as started, unless a run with the same project, path, schedule, trigger and `scheduledAt`
   * exists: then null, and the caller must not run it (another process did). Null too when the project is gone.
   */
  claim(run: CronClaim): Promise<CronRun | null>;
  /** Records how a run ended. */
  finish(
    id: string,
    result: { finishedAt: string; status: number | null; durationMs: number; error: string | null },
  ): Promise<void>;
  /** A project's latest runs, newest first. */
  recent(projectId: string, limit: number): Promise<CronRun[]>;
  /** Deletes runs started before `before`; returns how many went. */
  prune(before: string): Promise<number>;
}

// A project's cron jobs as its owner sees them: the jobs of its production deployment (only production runs
// them), when each runs next, and the latest runs the proxies recorded (src/proxy/crons.ts runs them).

import type { Deps } from "../deps.ts";
import { nextFire, parseSchedule } from "../model/cron.ts";
import type { CronRun } from "../store/cron-runs.ts";
import { getProject } from "./access.ts";

/** Runs listed with the jobs. */
export const RECENT_RUNS = 50;

export type CronRunView = Omit<CronRun, "claimedBy" | "projectId">;

export interface CronJobView {
  path: string;
  schedule: string;
  /** The next minute it is due (UTC ISO time); null for a schedule that never fires (Feb 30). */
  nextRunAt: string | null;
  /** Its latest run, if any (by path and schedule, whichever deployment ran it). */
  lastRun: CronRunView | null;
}

export interface ProjectCrons {
  /** The production deployment whose jobs these are; null before the first production deployment. */
  deploymentId: string | null;
  jobs: CronJobView[];
  /** Latest runs first, jobs of earlier deployments included. */
  runs: CronRunView[];
}

const view = ({ claimedBy: _, projectId: __, ...run }: CronRun): CronRunView => run;

export async function projectCrons(
  { store, artifacts }: Pick<Deps, "store" | "artifacts">,
  userId: string,
  projectId: string,
  now = new Date(),
): Promise<ProjectCrons> {
  const project = await getProject(store, userId, projectId, "read");
  const deploymentId = project.productionDeploymentId;
  const manifest = deploymentId === null ? null : await artifacts.getManifest(deploymentId);
  const runs = (await store.cronRuns.recent(project.id, RECENT_RUNS)).map(view);
  const jobs = (manifest?.buildOutput?.crons ?? []).map(({ path, schedule }) => {
    const parsed = parseSchedule(schedule);
    const next = typeof parsed === "string" ? null : nextFire(parsed, now);
    return {
      path,
      schedule,
      nextRunAt: next?.toISOString() ?? null,
      lastRun: runs.find((r) => r.path === path && r.schedule === schedule) ?? null,
    };
  });
  return { deploymentId, jobs, runs };
}

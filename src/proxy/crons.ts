// Cron jobs: every proxy keeps the schedule of the production deployments' jobs (`crons` of a Build Output
// config.json, recorded in the manifest). Each minute, a job whose schedule is due is claimed in the store (of
// several proxies exactly one gets it) and run as Vercel runs it: a GET of its path on the production URL, through
// this proxy's own routing, with `user-agent: vercel-cron/1.0` and, when the project sets CRON_SECRET,
// `Authorization: Bearer <CRON_SECRET>`. Missed minutes (the process was down) are not caught up, and a failed
// run is not retried, as on Vercel. Each run is recorded (the dashboard's history) and logged in the deployment's
// runtime log, where the function's own lines carry the same request id.

import { hostname } from "node:os";
import { publishRuntimeLines } from "../bus/runtime-live.ts";
import type { Deps } from "../deps.ts";
import { firesAt, parseSchedule, type Schedule } from "../model/cron.ts";
import type { ManifestCron } from "../store/artifacts.ts";
import type { CronClaim, CronRun } from "../store/cron-runs.ts";
import type { RuntimeLogLine } from "../store/runtime-logs.ts";

export const CRON_USER_AGENT = "vercel-cron/1.0";
/** Runs are kept this long for the dashboard's history. */
const HISTORY_DAYS = 30;
/** Pruning the history: every this many ticks (an hour). */
const PRUNE_EVERY_TICKS = 60;
/** Deployments whose jobs are remembered at once (only production deployments are asked for). */
const MAX_REMEMBERED = 10_000;

export interface CronSchedule {
  /**
   * Runs what is due in the minute of `now` (once per minute: a second tick in the same minute does nothing);
   * resolves with the runs this process claimed, once they have ended. The timer calls it each minute.
   */
  tick(now?: Date): Promise<CronRun[]>;
  /** Stops the timer; runs under way end (the runtime's shutdown ends their functions). */
  stop(): Promise<void>;
}

export type CronDeps = Pick<
  Deps,
  "config" | "store" | "artifacts" | "projectEnv" | "runtimeLogs" | "bus" | "metrics" | "log"
>;

/** The jobs of a deployment, as its manifest recorded them (none for a static deployment). */
export async function deploymentCrons(
  artifacts: CronDeps["artifacts"],
  deploymentId: string,
): Promise<ManifestCron[]> {
  const manifest = await artifacts.getManifest(deploymentId);
  return manifest?.buildOutput?.crons ?? [];
}

export function startCronSchedule(
  deps: CronDeps,
  proxy: { fetch(request: Request): Response | Promise<Response> },
  options: { timer: boolean; instanceId?: string },
): CronSchedule {
  const { config, store } = deps;
  const log = deps.log.child({ role: "proxy", part: "crons" });
  const instanceId = options.instanceId ?? `${hostname()}:${process.pid}`;
  const jobs = new Map<string, Array<ManifestCron & { parsed: Schedule }>>();
  const running = new Set<Promise<CronRun>>();
  let lastMinute = -1;
  let ticks = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;

  async function jobsOf(deploymentId: string) {
    const known = jobs.get(deploymentId);
    if (known) return known;
    const parsed = (await deploymentCrons(deps.artifacts, deploymentId)).flatMap((cron) => {
      const schedule = parseSchedule(cron.schedule);
      return typeof schedule === "string" ? [] : [{ ...cron, parsed: schedule }];
    });
    if (jobs.size >= MAX_REMEMBERED) jobs.clear();
    jobs.set(deploymentId, parsed);
    return parsed;
  }

  /** One line in the deployment's runtime log, stored and sent to live watchers. */
  async function note(run: CronRun, requestId: string, text: string): Promise<void> {
    const line: RuntimeLogLine = {
      deploymentId: run.deploymentId,
      id: `cron-${run.id.replaceAll("-", "").slice(0, 24)}-${Date.now().toString(36)}`,
      function: run.path.split("?")[0] ?? run.path,
      requestId,
      stream: "system",
      text,
      at: new Date().toISOString(),
    };
    try {
      await deps.runtimeLogs.append([line]);
      await publishRuntimeLines(deps.bus, run.deploymentId, [line]);
    } catch (error) {
      log.warn("cannot log a cron run", { deploymentId: run.deploymentId, error });
    }
  }

  async function execute(run: CronRun, subDomain: string): Promise<CronRun> {
    const requestId = `cron-${run.id}`;
    const host = `${subDomain}.${config.sitesDomain}`;
    const headers = new Headers({ host, "user-agent": CRON_USER_AGENT, "x-request-id": requestId });
    const started = performance.now();
    let status: number | null = null;
    let error: string | null = null;
    try {
      const secret = (await deps.projectEnv(run.projectId, "production")).CRON_SECRET;
      if (secret) headers.set("authorization", `Bearer ${secret}`);
      await note(run, requestId, `cron: GET ${run.path} (schedule "${run.schedule}", ${run.trigger})`);
      const response = await proxy.fetch(new Request(`http://${host}${run.path}`, { headers }));
      status = response.status;
      // The answer is read to its end (a streamed one too) and dropped: the run lasts until the function ends.
      if (response.body) for await (const _ of response.body);
    } catch (cause) {
      error = cause instanceof Error ? cause.message : String(cause);
    }
    const durationMs = performance.now() - started;
    const ok = status !== null && status >= 200 && status < 400;
    deps.metrics.cronRuns.inc({ result: ok ? "ok" : "failed" });
    const outcome = status === null ? `failed: ${error}` : `answered ${status}`;
    await note(run, requestId, `cron: GET ${run.path} ${outcome} in ${Math.round(durationMs)} ms`);
    log[ok ? "info" : "warn"]("cron job ran", {
      projectId: run.projectId,
      deploymentId: run.deploymentId,
      path: run.path,
      status,
      durationMs: Math.round(durationMs),
      ...(error !== null && { error }),
    });
    const result = { finishedAt: new Date().toISOString(), status, durationMs, error };
    await store.cronRuns.finish(run.id, result).catch((cause: unknown) => {
      log.warn("cannot record a cron run's end", { runId: run.id, error: cause });
    });
    return { ...run, ...result, durationMs: Math.round(durationMs) };
  }

  async function tick(now = new Date()): Promise<CronRun[]> {
    const minute = Math.floor(now.getTime() / 60_000) * 60_000;
    if (minute === lastMinute || stopped) return [];
    lastMinute = minute;
    ticks += 1;
    const due = new Date(minute);
    const mine: Promise<CronRun>[] = [];
    const production = new Set<string>();
    for (const route of await store.projects.routes()) {
      const deploymentId = route.productionDeploymentId;
      if (deploymentId === null) continue;
      production.add(deploymentId);
      let list: Awaited<ReturnType<typeof jobsOf>>;
      try {
        list = await jobsOf(deploymentId);
      } catch (error) {
        log.warn("cannot read a deployment's cron jobs", { deploymentId, error });
        continue;
      }
      for (const job of list) {
        if (!firesAt(job.parsed, due)) continue;
        const claim: CronClaim = {
          projectId: route.id,
          deploymentId,
          path: job.path,
          schedule: job.schedule,
          trigger: "schedule",
          scheduledAt: due.toISOString(),
          startedAt: new Date().toISOString(),
          claimedBy: instanceId,
        };
        const run = await store.cronRuns.claim(claim);
        if (run === null) continue;
        const done = execute(run, route.subDomain);
        running.add(done);
        void done.finally(() => running.delete(done));
        mine.push(done);
      }
    }
    // Forget the jobs of deployments that are no longer production anywhere.
    for (const id of jobs.keys()) if (!production.has(id)) jobs.delete(id);
    if (ticks % PRUNE_EVERY_TICKS === 0) {
      const before = new Date(minute - HISTORY_DAYS * 86_400_000).toISOString();
      await store.cronRuns
        .prune(before)
        .catch((error: unknown) => log.warn("cannot prune cron runs", { error }));
    }
    return Promise.all(mine);
  }

  function schedule(): void {
    if (stopped || !options.timer) return;
    // A second past each minute: every proxy's clock may be a little off, and the claim settles who runs.
    const wait = 60_000 - (Date.now() % 60_000) + 1000;
    timer = setTimeout(() => {
      tick().catch((error: unknown) => log.error("cron tick failed", { error }));
      schedule();
    }, wait);
    timer.unref();
  }
  schedule();

  return {
    tick,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await Promise.allSettled([...running]);
    },
  };
}

// Launcher: claims QUEUED deployments (the durable queue), runs them within limits, and makes sure each one ends.

import { HEARTBEAT_MS } from "../../builder/emitter.ts";
import type { BuildJob } from "../../builder/job.ts";
import { packEvents } from "../../schema/events.ts";
import type { Bus } from "../bus/bus.ts";
import type { Live } from "../bus/live.ts";
import { HANDLER_RETRY, isUnavailable } from "../bus/retry.ts";
import type { BuildConfig, Config } from "../config/config.ts";
import { announceStatus, changeStatus } from "../deploy/state.ts";
import type { Deployment, DeploymentTarget, Project } from "../model/entities.ts";
import { isTerminal } from "../model/status.ts";
import type { Logger } from "../observe/log.ts";
import type { Metrics } from "../observe/metrics.ts";
import { describeProblem } from "../sandbox/sandbox.ts";
import type { Artifacts, ArtifactsConfig } from "../store/artifacts.ts";
import type { Store } from "../store/store.ts";
import { buildJob } from "./build-job.ts";
import { endInterrupted } from "./interrupted.ts";
import { boundCache } from "./package-cache.ts";
import { reuseBuild } from "./reuse.ts";
import type { Runner, RunningBuild } from "./runner.ts";

/** How long a build's events wait for an unreachable bus before the build is given up (see publishPatiently). */
const PUBLISH_PATIENCE_MS = 10 * 60_000;
/** How long a build whose builder has ended here is vouched for while its last events wait to be applied. */
const FINISH_PATIENCE_MS = 5 * 60_000;
/** How long a deployment may stay NOT_STARTED (an upload being stored, a rebuild being set up) before it is ended. */
const ABANDONED_AFTER_MS = 10 * 60_000;
/**
 * After the store was unreachable, the reaper waits a heartbeat timeout and this much more: the held build events
 * are retried every `maxOutageBackoffMs` at most during an outage (src/bus/retry.ts), so they may land that long
 * after the store is back, and the next heartbeat among them up to one builder heartbeat later.
 */
export const RECOVERY_SLACK_MS = HANDLER_RETRY.maxOutageBackoffMs + HEARTBEAT_MS;

export interface LauncherDeps {
  store: Store;
  artifactsConfig: ArtifactsConfig;
  /** To tell uploaded sources (built from the store) from repositories, and uploads that need no build. */
  artifacts: Artifacts;
  bus: Bus;
  runner: Runner;
  /** The project's variables for a deployment's target, decrypted, for its builds. */
  projectEnv: (projectId: string, target: DeploymentTarget) => Promise<Record<string, string>>;
  config: Pick<
    Config,
    "dataDir" | "allowLocalGit" | "allowPrivateGit" | "sitesDomain" | "proxyPort" | "https"
  > & { build: BuildConfig };
  /** True when no other worker can exist (embedded store): builds left IN_PROGRESS at start are orphans. */
  exclusive: boolean;
  /** Poll interval for new work; a deploy in this process also wakes the launcher at once. */
  pollMs?: number;
  /** A NOT_STARTED deployment untouched this long was left by a process that stopped creating it (default 10 min). */
  abandonedAfterMs?: number;
  log: Logger;
  /** Status changes of the builds this launcher claims or ends itself go through src/deploy/state.ts. */
  metrics: Metrics;
  live: Live;
}

export interface Launcher {
  /** Look for work now (called after a deployment is queued in this process). */
  wake(): void;
  /** Deployments building in this process. */
  active(): string[];
  /**
   * Stops claiming at once, lets running builds finish for up to `graceMs`, then stops the rest: each ends FAIL
   * ("the platform restarted") and is queued again as a new deployment (src/worker/interrupted.ts).
   */
  stop(graceMs?: number): Promise<void>;
}

export function startLauncher(deps: LauncherDeps): Launcher {
  const { store, bus, runner, config, log } = deps;
  const workerId = `worker-${crypto.randomUUID().slice(0, 8)}`;
  const running = new Map<string, RunningBuild>();
  /** Builds whose builder ended here, by when: vouched for until the store shows them ended (see watch). */
  const finishing = new Map<string, number>();
  // Per running build: the last log line number relayed, and whether a shutdown interrupted it.
  const lastSeq = new Map<string, number>();
  const interrupted = new Set<string>();
  /**
   * A build's events wait out a bus outage (a broker restart outlasting the client's own retries) instead of
   * ending the build: the builder is held up meanwhile (its output pipe fills), and this worker keeps vouching
   * for it in the store. Re-sent events are harmless: applying them is idempotent.
   */
  const publishPatiently = async (deploymentId: string, events: unknown[]) => {
    const deadline = Date.now() + PUBLISH_PATIENCE_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        await bus.publishAll("build-events", deploymentId, packEvents(events));
        if (attempt > 1) log.info("launcher: the bus takes build events again", { deploymentId, attempt });
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        if (attempt === 1)
          log.warn("launcher: the bus refused a build event; retrying until it is back", {
            deploymentId,
            error,
          });
        await Bun.sleep(Math.min(5_000, 250 * 2 ** Math.min(attempt, 5)));
      }
    }
  };
  const publish = (deploymentId: string) => async (events: unknown[]) => {
    // An interrupted build's last words ("Build canceled.") would contradict the reason already recorded.
    if (interrupted.has(deploymentId)) return;
    for (const event of events)
      if (typeof event === "object" && event !== null && "seq" in event && typeof event.seq === "number")
        lastSeq.set(deploymentId, Math.max(lastSeq.get(deploymentId) ?? 0, event.seq));
    await publishPatiently(deploymentId, events);
  };
  /**
   * When this launcher last found the store unreachable. No heartbeat can be written during an outage, so right
   * after one every build looks silent: the reaper judges none until a whole timeout has passed since, giving
   * the workers running them time to vouch for them again.
   */
  let storeDownAt = 0;
  const noteTrouble = (error: unknown) => {
    if (isUnavailable(error)) storeDownAt = Date.now();
  };
  let stopped = false;
  let claiming = false;
  let claimed: Promise<void> = Promise.resolve();

  // Through the bus like any other status: the worker applies it and live watchers see it.
  const fail = (d: Deployment, reason: string) =>
    publishPatiently(d.id, [
      { type: "status", deploymentId: d.id, status: "FAIL", reason, at: new Date().toISOString() },
    ]);

  const launch = async (deployment: Deployment, project: Project) => {
    let job: BuildJob;
    try {
      job = await buildJob(deps, deployment, project);
    } catch (error) {
      log.error("launcher: could not prepare a build", { deploymentId: deployment.id, error });
      return fail(deployment, "could not prepare the build (see the server log)");
    }
    // Made from exactly what an earlier READY deployment was: its output, no builder (src/worker/reuse.ts).
    if (config.build.reuse && (await reuseBuild(deps, deployment, project, job, publish(deployment.id))))
      return;
    // A build that cannot run here fails at once, saying why and what to run, rather than in a builder.
    const problem = runner.problem(job);
    if (problem) {
      // Within what a status event may carry (schema/events.ts): a longer one would be dropped, not applied.
      const reason = `builds cannot run on this server: ${describeProblem(problem)}`.slice(0, 1000);
      log.warn(`launcher: ${reason}`, { deploymentId: deployment.id });
      await publishPatiently(deployment.id, [
        {
          type: "log",
          deploymentId: deployment.id,
          seq: 1,
          stream: "system",
          text: `Error: ${reason}`,
          at: new Date().toISOString(),
        },
      ]);
      return fail(deployment, reason);
    }
    const build = runner.start(job, publish(deployment.id));
    running.set(deployment.id, build);
    // The builder enforces the limit step by step; this catches a step that hangs past it (e.g. a clone).
    const timer = setTimeout(() => build.stop("timeout"), job.limits.timeoutMs + 15_000);
    build.done
      .catch((error: unknown) =>
        log.error("launcher: a build failed to run", { deploymentId: deployment.id, error }),
      )
      .finally(() => {
        clearTimeout(timer);
        running.delete(deployment.id);
        finishing.set(deployment.id, Date.now());
        lastSeq.delete(deployment.id);
        interrupted.delete(deployment.id);
        if (job.cacheDir) boundCache(job.cacheDir, config.build.cacheMb);
        wake();
      });
  };

  const claim = async () => {
    if (claiming || stopped) return;
    claiming = true;
    try {
      while (!stopped && running.size < (runner.concurrency ?? config.build.concurrency)) {
        // MAX_CONCURRENT_BUILDS_PER_USER is checked in the claim itself, so it holds across workers.
        const next = await store.deployments.claimNext(
          workerId,
          new Date().toISOString(),
          config.build.maxPerUser,
        );
        if (!next) break;
        // The claim moved it QUEUED -> IN_PROGRESS inside the store's own transaction: watchers hear of it now.
        await announceStatus(deps, next.deployment);
        await launch(next.deployment, next.project);
      }
    } catch (error) {
      noteTrouble(error);
      log.error("launcher: claim failed", { error });
    } finally {
      claiming = false;
    }
  };
  // stop() waits for a claim in flight: what it took is launched (and then drained) rather than left behind.
  const wake = () => {
    if (!claiming) claimed = claim();
  };

  /** When this launcher last vouched for each of its builds in the store. */
  const vouched = new Map<string, number>();
  const vouchEveryMs = (config.build.heartbeatTimeoutSeconds * 1000) / 3;
  const vouch = async (id: string) => {
    const now = Date.now();
    if (now - (vouched.get(id) ?? 0) < vouchEveryMs) return;
    vouched.set(id, now);
    await store.deployments.heartbeat(id, new Date(now).toISOString());
  };

  /**
   * Cancels builds whose deployment was ended elsewhere (the cancel API, the reaper, another worker). A build this
   * launcher runs gets a heartbeat straight in the store too: the builder's own heartbeats travel over the bus,
   * and a broker restart that holds them up must not make a reaper take the build for lost. The same goes for a
   * build whose builder has ended here while its last events (READY) still wait in a lagging bus.
   */
  const watch = async () => {
    for (const id of vouched.keys()) if (!running.has(id) && !finishing.has(id)) vouched.delete(id);
    for (const [id, build] of running) {
      const d = await store.deployments.find(id);
      if (!d || isTerminal(d.status)) {
        build.stop("canceled");
        continue;
      }
      await vouch(id);
    }
    for (const [id, since] of finishing) {
      const d = await store.deployments.find(id);
      if (!d || isTerminal(d.status) || Date.now() - since > FINISH_PATIENCE_MS) {
        finishing.delete(id);
        continue;
      }
      await vouch(id);
    }
  };

  /** Ends a build nobody is running any more, and queues it again (see src/worker/interrupted.ts). */
  const requeue = async (d: Deployment, why: string) => {
    const result = await endInterrupted(deps, d, why);
    if (result.ended) log.warn(`launcher: ${result.ended.statusReason ?? why}`, { deploymentId: d.id });
    if (result.rebuild) wake();
    return result;
  };

  /**
   * Ends deployments left NOT_STARTED: an api killed while taking an upload, a worker killed between creating a
   * rebuild and queuing it. Nothing else would ever move them on; a long wait makes sure their creator is gone.
   */
  const endAbandoned = async () => {
    const before = new Date(Date.now() - (deps.abandonedAfterMs ?? ABANDONED_AFTER_MS)).toISOString();
    for (const d of await store.deployments.abandoned(before)) {
      const ended = await changeStatus(
        deps,
        d.id,
        "FAIL",
        "it was never queued: the process creating it stopped first; deploy again",
      );
      if (ended) log.warn(`launcher: ${ended.statusReason}`, { deploymentId: d.id });
    }
  };

  /**
   * Ends builds nobody is running: no heartbeat within the timeout (the worker running it was lost: kill -9, a
   * crashed machine), or (exclusive) left over from before a restart. Either way FAIL and queued again, as
   * src/worker/interrupted.ts decides: losing a worker should not cost a deployment. Several workers may reap the
   * same build at once; the FAIL transition lets exactly one of them queue the rebuild.
   */
  const reap = async (all: boolean) => {
    const timeout = config.build.heartbeatTimeoutSeconds;
    // A timeout, plus the bus's longest wait between retries of held events (their heartbeats land then).
    if (!all && Date.now() - storeDownAt < timeout * 1000 + RECOVERY_SLACK_MS) return;
    const before = new Date(all ? Date.now() + 1000 : Date.now() - timeout * 1000);
    const why = all
      ? "the platform restarted while this build was running"
      : `lost contact with the builder (no sign of life for ${timeout} s)`;
    if (!all) await endAbandoned();
    for (const d of await store.deployments.stale(before.toISOString())) {
      if (running.has(d.id) || finishing.has(d.id)) continue;
      try {
        const { ended } = await requeue(d, why);
        // Watchers in api processes hear of it from the bus (the workers find it already applied).
        if (ended && !all) await fail(ended, ended.statusReason ?? why);
      } catch (error) {
        noteTrouble(error);
        log.error("launcher: could not end a lost build", { deploymentId: d.id, error });
      }
    }
  };

  /** Shutdown with the build still running: recorded first, then the builder is stopped and its last words dropped. */
  const interrupt = async (id: string, build: RunningBuild) => {
    try {
      const d = await store.deployments.find(id);
      const { ended, rebuild } =
        d && !isTerminal(d.status)
          ? await requeue(d, "the platform restarted during this build")
          : { ended: null, rebuild: null };
      if (ended) {
        const seq = (lastSeq.get(id) ?? 0) + 1;
        const text = rebuild
          ? `Stopped: the platform is restarting. This build is queued again as ${rebuild.id}.`
          : "Stopped: the platform is restarting.";
        await bus.publish("build-events", id, {
          type: "log",
          deploymentId: id,
          seq,
          stream: "system",
          text,
          at: new Date().toISOString(),
        });
        interrupted.add(id);
      }
    } catch (error) {
      // Left IN_PROGRESS: the next start (embedded) or the heartbeat reaper (shared store) ends it.
      log.error("launcher: could not record the interruption of a build", { deploymentId: id, error });
    }
    build.stop("canceled");
  };

  const started = (async () => {
    if (deps.exclusive)
      await reap(true).catch((e: unknown) => log.error("launcher: reap failed", { error: e }));
    wake();
  })();
  const ticker = setInterval(() => {
    wake();
    void watch().catch((e: unknown) => {
      noteTrouble(e);
      log.error("launcher: watch failed", { error: e });
    });
  }, deps.pollMs ?? 1000);
  const reaper = setInterval(() => {
    void reap(false).catch((e: unknown) => {
      noteTrouble(e);
      log.error("launcher: reap failed", { error: e });
    });
  }, 5000);

  return {
    wake,
    active: () => [...running.keys()],
    async stop(graceMs = 0) {
      stopped = true;
      await started;
      await claimed;
      // Running builds may finish meanwhile (the ticker still notices cancels, the reaper lost builders).
      const deadline = Date.now() + graceMs;
      if (running.size > 0 && graceMs > 0)
        log.info(
          `launcher: waiting up to ${Math.ceil(graceMs / 1000)} s for ${running.size} build(s) to finish`,
        );
      while (running.size > 0 && Date.now() < deadline) {
        const ended = [...running.values()].map((b) => b.done.catch(() => undefined));
        await Promise.race([...ended, Bun.sleep(Math.max(1, Math.min(250, deadline - Date.now())))]);
      }
      clearInterval(ticker);
      clearInterval(reaper);
      await Promise.all([...running].map(([id, build]) => interrupt(id, build)));
      await Promise.all([...running.values()].map((b) => b.done.catch(() => undefined)));
    },
  };
}

// Launcher: claims QUEUED deployments (the durable queue), runs them within limits, and makes sure each one ends.

import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { BuildJob } from "../../builder/job.ts";
import type { Bus } from "../bus/bus.ts";
import type { BuildConfig, Config } from "../config.ts";
import { buildEnv, type Sealer } from "../deploy/env.ts";
import { sourceManifestId } from "../deploy/prebuilt.ts";
import { isTerminal } from "../deploy/status.ts";
import { pushRepoUrl } from "../git/repos.ts";
import type { Artifacts, ArtifactsConfig } from "../store/artifacts.ts";
import type { Deployment, Project, Store } from "../store/store.ts";
import type { Runner, RunningBuild } from "./runner.ts";

export interface LauncherDeps {
  store: Store;
  artifactsConfig: ArtifactsConfig;
  /** To tell uploaded sources (built from the store) from repositories, and uploads that need no build. */
  artifacts: Artifacts;
  bus: Bus;
  runner: Runner;
  sealer: Sealer;
  config: Pick<Config, "dataDir" | "allowLocalGit"> & { build: BuildConfig };
  /** True when no other worker can exist (embedded store): builds left IN_PROGRESS at start are orphans. */
  exclusive: boolean;
  /** Poll interval for new work; a deploy in this process also wakes the launcher at once. */
  pollMs?: number;
}

export interface Launcher {
  /** Look for work now (called after a deployment is queued in this process). */
  wake(): void;
  /** Deployments building in this process. */
  active(): string[];
  stop(): Promise<void>;
}

/** Wipes a project's package cache when it outgrows its budget: simple, and always bounded. */
function boundCache(dir: string, maxMb: number): void {
  let bytes = 0;
  const walk = (path: string, depth: number) => {
    if (depth > 40 || bytes > maxMb * 1024 * 1024) return;
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) walk(full, depth + 1);
      else if (entry.isFile()) bytes += statSync(full).size;
    }
  };
  try {
    walk(dir, 0);
  } catch {
    return;
  }
  if (bytes > maxMb * 1024 * 1024) rmSync(dir, { recursive: true, force: true });
}

export function startLauncher(deps: LauncherDeps): Launcher {
  const { store, bus, runner, sealer, config } = deps;
  const workerId = `worker-${crypto.randomUUID().slice(0, 8)}`;
  const running = new Map<string, RunningBuild>();
  const publish = (deploymentId: string) => (event: unknown) =>
    bus.publish("build-events", deploymentId, event);
  let stopped = false;
  let claiming = false;

  // Through the bus like any other status: the worker applies it and live watchers see it.
  const fail = (d: Deployment, reason: string) =>
    bus.publish("build-events", d.id, {
      type: "status",
      deploymentId: d.id,
      status: "FAIL",
      reason,
      at: new Date().toISOString(),
    });

  const jobFor = async (deployment: Deployment, project: Project): Promise<BuildJob> => {
    const timeoutSeconds = project.buildTimeoutSeconds ?? config.build.timeoutSeconds;
    const cacheDir = config.build.cacheMb > 0 ? join(config.dataDir, "cache", project.id) : null;
    if (cacheDir) mkdirSync(cacheDir, { recursive: true });
    const uploaded = sourceManifestId(deployment.id);
    const fromUpload = (await deps.artifacts.getManifest(uploaded)) !== null;
    return {
      deploymentId: deployment.id,
      gitUrl: project.gitUrl ?? "",
      branch: deployment.branch,
      commitSha: deployment.commitSha,
      source: fromUpload ? { kind: "manifest", manifestId: uploaded } : { kind: "git" },
      rootDirectory: project.rootDirectory,
      installCommand: project.installCommand,
      buildCommand: project.buildCommand,
      outputDirectory: project.outputDirectory,
      env: await buildEnv(store, sealer, project.id),
      // The project's own push remote is a local path the platform owns: cloning it needs no local-git opt-in.
      allowLocalGit: config.allowLocalGit || project.gitUrl === pushRepoUrl(config.dataDir, project.id),
      sandbox: config.build.sandbox,
      limits: { memoryMb: config.build.memoryMb, pids: config.build.pids, timeoutMs: timeoutSeconds * 1000 },
      workDir: join(config.dataDir, "builds", deployment.id),
      cacheDir,
      output: { kind: "local", artifacts: deps.artifactsConfig },
    };
  };

  const launch = async (deployment: Deployment, project: Project) => {
    let job: BuildJob;
    try {
      job = await jobFor(deployment, project);
    } catch (error) {
      console.error(`launcher: could not prepare ${deployment.id}:`, error);
      return fail(deployment, "could not prepare the build (see the server log)");
    }
    const build = runner.start(job, publish(deployment.id));
    running.set(deployment.id, build);
    // The builder enforces the limit step by step; this catches a step that hangs past it (e.g. a clone).
    const timer = setTimeout(() => build.stop("timeout"), job.limits.timeoutMs + 15_000);
    build.done
      .catch((error: unknown) => console.error(`launcher: build ${deployment.id} failed to run:`, error))
      .finally(() => {
        clearTimeout(timer);
        running.delete(deployment.id);
        if (job.cacheDir) boundCache(job.cacheDir, config.build.cacheMb);
        wake();
      });
  };

  const claim = async () => {
    if (claiming || stopped) return;
    claiming = true;
    try {
      while (!stopped && running.size < config.build.concurrency) {
        const next = await store.deployments.claimNext(workerId, new Date().toISOString());
        if (!next) break;
        await launch(next.deployment, next.project);
      }
    } catch (error) {
      console.error("launcher: claim failed:", error);
    } finally {
      claiming = false;
    }
  };
  const wake = () => void claim();

  /** Cancels builds whose deployment was ended elsewhere (the cancel API, the reaper, another worker). */
  const watch = async () => {
    for (const [id, build] of running) {
      const d = await store.deployments.find(id);
      if (!d || isTerminal(d.status)) build.stop("canceled");
    }
  };

  /** Fails builds nobody is running: no heartbeat within the timeout, or (exclusive) left over from before a restart. */
  const reap = async (all: boolean) => {
    const before = new Date(
      all ? Date.now() + 1000 : Date.now() - config.build.heartbeatTimeoutSeconds * 1000,
    );
    for (const d of await store.deployments.stale(before.toISOString())) {
      if (running.has(d.id)) continue;
      await fail(
        d,
        all
          ? "the platform restarted while this build was running"
          : `lost contact with the builder (no sign of life for ${config.build.heartbeatTimeoutSeconds} s)`,
      );
    }
  };

  const started = (async () => {
    if (deps.exclusive) await reap(true).catch((e: unknown) => console.error("launcher: reap failed:", e));
    wake();
  })();
  const ticker = setInterval(() => {
    wake();
    void watch().catch((e: unknown) => console.error("launcher: watch failed:", e));
  }, deps.pollMs ?? 1000);
  const reaper = setInterval(() => {
    void reap(false).catch((e: unknown) => console.error("launcher: reap failed:", e));
  }, 5000);

  return {
    wake,
    active: () => [...running.keys()],
    async stop() {
      stopped = true;
      clearInterval(ticker);
      clearInterval(reaper);
      await started;
      // Recorded first, so the builders' own "canceled" reports (refused: already terminal) do not mislead.
      for (const id of running.keys())
        await store.deployments.transition(id, "FAIL", "the platform shut down during this build");
      for (const build of running.values()) build.stop("canceled");
      await Promise.all([...running.values()].map((b) => b.done.catch(() => undefined)));
    },
  };
}

// The function runtime: a request for a deployment's function -> an instance (started on demand, kept warm
// while used, stopped when idle) -> its response, streamed. Failures are answers, never hangs: a start that fails
// or a crash is a 502, a request past the function's maxDuration a 504 (and that instance is stopped). What the
// instances print goes to the runtime logs (log-sink.ts); what happens to requests, to /metrics.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Bus } from "../bus/bus.ts";
import type { Config } from "../config/config.ts";
import type { Logger } from "../observe/log.ts";
import type { Metrics } from "../observe/metrics.ts";
import type { Artifacts, ManifestFunction } from "../store/artifacts.ts";
import type { RuntimeLogs } from "../store/runtime-logs.ts";
// @ts-expect-error: the app launcher's source, embedded as text (it runs as its own file inside the sandbox)
import appLauncherText from "./app-launcher.ts" with { type: "text" };
import { type AppPool, createAppPool } from "./apps.ts";
import { type Bundles, openBundles } from "./bundles.ts";
import { forwardedHeaders, relayAnswer } from "./forward.ts";
import { type FunctionError, functionMetrics } from "./function-metrics.ts";
import { type Instance, startInstance } from "./instances.ts";
// @ts-expect-error: the launcher's source, embedded as text (it runs as its own file inside the sandbox)
import launcherText from "./launcher.ts" with { type: "text" };
import { createLogSink } from "./log-sink.ts";

const launcherSource: string = launcherText;
const appLauncherSource: string = appLauncherText;
const STATE_DIR = "/run/minivercel-sandbox";
/** Answers with a Content-Length up to this size are read whole before they are sent on (see invoke). */
const WHOLE_BODY_MAX_BYTES = 1024 * 1024;

/** Which function of which deployment a request is for. */
export interface FunctionTarget {
  deploymentId: string;
  projectId: string;
  /** production or preview: the environment the function sees as VERCEL_ENV. */
  environment: "production" | "preview";
  /** The deployment's own URL (VERCEL_URL, x-vercel-deployment-url). */
  deploymentUrl: string;
  /** Its path in the manifest ("/api/hello"). */
  path: string;
  fn: ManifestFunction;
}

/** What the proxy forwards: the (possibly rewritten) path and query, and who asked. */
export interface Invocation {
  request: Request;
  path: string;
  search: string;
  host: string;
  proto: "http" | "https";
  clientIp: string | null;
  requestId: string;
}

/**
 * The function answered (any status), or the platform could not get an answer from it: it failed (502), no
 * functions node could take it (503, src/proxy/functions-remote.ts), or it ran past its maxDuration (504).
 */
export type Outcome =
  | { kind: "response"; response: Response }
  | { kind: "failed"; status: 502 | 503 | 504; reason: string };

export interface FunctionRuntime {
  invoke(target: FunctionTarget, invocation: Invocation): Promise<Outcome>;
  /** Running instances (for /metrics and tests). */
  instances(): { key: string; state: string; inFlight: number }[];
  /** App servers, in the same pool (absent where they cannot run: a proxy sending functions to remote nodes). */
  apps?: AppPool;
  stop(): Promise<void>;
}

export type RuntimeDeps = {
  config: Pick<Config, "dataDir" | "functions"> & { build: Pick<Config["build"], "sandbox"> };
  /** The project's environment variables for one target, decrypted (deps.ts: the same as its builds get). */
  projectEnv: (projectId: string, target: FunctionTarget["environment"]) => Promise<Record<string, string>>;
  artifacts: Pick<Artifacts, "getBlob">;
  /** Where instances' output goes: stored, and published to live watchers. */
  runtimeLogs: RuntimeLogs;
  bus: Bus;
  metrics: Metrics;
  log: Logger;
};

interface Entry {
  key: string;
  instance: Instance;
  inFlight: number;
  idle: ReturnType<typeof setTimeout> | null;
  maxDurationMs: number;
}

export function createRuntime(deps: RuntimeDeps): FunctionRuntime {
  const { config, log } = deps;
  const bundles: Bundles = openBundles(deps.artifacts, join(config.dataDir, "runtime", "bundles"));
  mkdirSync(STATE_DIR, { recursive: true, mode: 0o755 });
  const launcher = join(STATE_DIR, `launcher-${Bun.hash(launcherSource).toString(16)}.ts`);
  writeFileSync(launcher, launcherSource, { mode: 0o644 });
  const entries = new Map<string, Entry>();
  const starting = new Map<string, Promise<Entry>>();
  const sink = createLogSink(deps, { bytesPerMinute: config.functions.logKbPerMinute * 1024 });
  const measured = functionMetrics(deps.metrics);
  const appLauncher = join(STATE_DIR, `app-launcher-${Bun.hash(appLauncherSource).toString(16)}.ts`);
  writeFileSync(appLauncher, appLauncherSource, { mode: 0o644 });
  const apps = createAppPool({
    mode: config.build.sandbox,
    launcher: appLauncher,
    bundles,
    sink,
    measured,
    projectEnv: deps.projectEnv,
    pids: config.functions.pids,
    memoryMb: config.functions.appMemoryMb,
    startTimeoutMs: config.functions.startTimeoutSeconds * 1000,
    log,
  });

  async function start(key: string, target: FunctionTarget): Promise<Entry> {
    const bundle = await bundles.prepare(target.fn);
    const projectEnv = await deps.projectEnv(target.projectId, target.environment);
    const host = new URL(target.deploymentUrl).host;
    const fnLog = log.child({ deploymentId: target.deploymentId, function: target.path });
    const source = { deploymentId: target.deploymentId, function: target.path };
    const instance = startInstance(
      { dir: bundle.dir, memoryMb: bundle.spec.memoryMb },
      {
        mode: config.build.sandbox,
        launcher,
        // The output's own variables, then the project's (which win), then what Vercel's functions always see.
        env: {
          ...bundle.spec.environment,
          ...projectEnv,
          NODE_ENV: "production",
          VERCEL: "1",
          VERCEL_ENV: target.environment,
          VERCEL_URL: host,
          VERCEL_REGION: "minivercel",
          MV_HANDLER: bundle.spec.handler,
          MV_RUNTIME: bundle.spec.runtime,
          MV_HELPERS: bundle.spec.helpers ? "1" : "0",
        },
        pids: config.functions.pids,
        startTimeoutMs: config.functions.startTimeoutSeconds * 1000,
        onLog: (stream, line) => {
          sink.write(source, stream, line);
          fnLog.debug(line, { stream });
        },
      },
    );
    const entry: Entry = {
      key,
      instance,
      inFlight: 0,
      idle: null,
      maxDurationMs: bundle.spec.maxDurationSeconds * 1000,
    };
    entries.set(key, entry);
    measured.instances(1);
    void instance.exited.then((why) => {
      measured.instances(-1);
      if (entries.get(key) === entry) entries.delete(key);
      if (entry.idle) clearTimeout(entry.idle);
      fnLog.info(`function instance ${instance.id} stopped: it ${why}`);
    });
    await instance.ready;
    measured.coldStart(target.path);
    return entry;
  }

  async function entryFor(target: FunctionTarget): Promise<Entry> {
    const key = `${target.deploymentId}:${target.path}`;
    const existing = entries.get(key);
    if (existing && existing.instance.state() === "ready") return existing;
    let pending = starting.get(key);
    if (!pending) {
      pending = start(key, target).finally(() => starting.delete(key));
      starting.set(key, pending);
    }
    return pending;
  }

  function release(entry: Entry): void {
    entry.inFlight -= 1;
    if (entry.inFlight > 0 || entry.instance.state() !== "ready") return;
    entry.idle = setTimeout(() => entry.instance.stop("was idle"), config.functions.idleSeconds * 1000);
  }

  async function invoke(target: FunctionTarget, invocation: Invocation): Promise<Outcome> {
    const started = performance.now();
    const answered = (status: number) =>
      measured.invoked(target.path, status, (performance.now() - started) / 1000);
    let entry: Entry;
    try {
      entry = await entryFor(target);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      log.warn("function: could not start", {
        deploymentId: target.deploymentId,
        function: target.path,
        reason,
      });
      measured.failed(target.path, "start");
      answered(502);
      return { kind: "failed", status: 502, reason };
    }
    entry.inFlight += 1;
    if (entry.idle) clearTimeout(entry.idle);
    entry.idle = null;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
      entry.instance.stop(`ran past its maxDuration (${entry.maxDurationMs / 1000} s)`);
    }, entry.maxDurationMs);
    let finished = false;
    // Once per request, when its answer is over: the instance is free again, and the request is counted.
    const done = (status: number, error: FunctionError | null = null) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      release(entry);
      const kind = timedOut ? "timeout" : error;
      if (kind) measured.failed(target.path, kind);
      answered(timedOut ? 504 : status);
    };
    /** A crash, or the function's maxDuration if that is what cut it off. */
    const failed = (reason: string): Outcome => {
      done(502, "crash");
      if (!timedOut) return { kind: "failed", status: 502, reason };
      const limit = `the function did not answer within ${entry.maxDurationMs / 1000} s`;
      return { kind: "failed", status: 504, reason: limit };
    };
    const { request } = invocation;
    const hasBody = request.method !== "GET" && request.method !== "HEAD" && request.body !== null;
    let answer: Response;
    try {
      answer = await fetch(`http://localhost${invocation.path}${invocation.search}`, {
        unix: entry.instance.socket,
        method: request.method,
        headers: forwardedHeaders(invocation, target.deploymentUrl),
        redirect: "manual",
        signal: controller.signal,
        ...(hasBody && { body: request.body, duplex: "half" }),
        decompress: false,
      } as RequestInit);
    } catch {
      const outcome = failed("the function crashed or closed the connection");
      if (!timedOut) entry.instance.stop("stopped answering");
      return outcome;
    }
    // A body cut short (read whole) is the function's failure, as before its first byte; a stream cut short by the
    // client is not its error, and one cut by maxDuration is a timeout.
    return relayAnswer(answer, WHOLE_BODY_MAX_BYTES, done, () =>
      failed("the function closed the connection mid-answer"),
    );
  }

  return {
    invoke,
    apps,
    instances: () =>
      [...entries.values()].map((e) => ({ key: e.key, state: e.instance.state(), inFlight: e.inFlight })),
    async stop() {
      const all = [...entries.values()];
      for (const entry of all) entry.instance.stop("was stopped with the platform");
      await Promise.all([...all.map((entry) => entry.instance.exited), apps.stop()]);
      // Their last lines, printed while they stopped, are stored before the stores close.
      await sink.stop();
    },
  };
}

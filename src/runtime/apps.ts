// App servers in the runtime pool: a deployment's start command runs as sandboxed instances (the same instances,
// bundles store, log sink and metrics as functions), started by the first request (which waits for the health
// check rather than failing), more of them while all are busy (up to the project's maximum), each stopped after the
// project's idle time (0: never). A crash is restarted with a growing backoff; several in a row are a crash loop,
// answered at once with a 502 saying so until the backoff has passed.

import { APP_LABEL } from "../model/settings.ts";
import type { Logger } from "../observe/log.ts";
import type { SandboxMode } from "../sandbox/sandbox.ts";
import type { ManifestServer } from "../store/artifacts.ts";
import { forwardToInstance } from "./app-forward.ts";
import type { Bundles } from "./bundles.ts";
import type { FunctionMetrics } from "./function-metrics.ts";
import { type Instance, startInstance } from "./instances.ts";
import type { LogSink } from "./log-sink.ts";
import type { Invocation, Outcome } from "./runtime.ts";
import type { UpstreamAddress } from "./websocket.ts";

/** Crashes in a row (without a healthy minute between) after which a deployment is in a crash loop. */
export const CRASH_LOOP_AFTER = 3;
const HEALTHY_MS = 60_000;
const MAX_BACKOFF_MS = 30_000;

/** Which deployment's server a request is for, with its project's settings. */
export interface AppTarget {
  deploymentId: string;
  projectId: string;
  environment: "production" | "preview";
  deploymentUrl: string;
  server: ManifestServer;
  /** Stopped after this long without a request; 0: always on once started. */
  idleMs: number;
  maxInstances: number;
}

/** One instance as the dashboard and the API show it. */
export interface AppInstanceView {
  id: string;
  deploymentId: string;
  state: "starting" | "ready" | "stopping" | "stopped";
  inFlight: number;
  /** Its cgroup's memory use now, in bytes (null without cgroups). */
  memoryBytes: number | null;
  startedAt: string;
  lastRequestAt: string | null;
}

/** A deployment's server as a whole: its instances, restarts and whether it is crash-looping. */
export interface AppView {
  deploymentId: string;
  instances: AppInstanceView[];
  /** Crashes since the server last ran healthy for a minute. */
  crashes: number;
  restarts: number;
  crashLoop: boolean;
  /** Why the last instance ended ("exited with code 1", "ran out of memory (256 MB)"), or null. */
  lastExit: string | null;
}

export interface AppPool {
  invoke(target: AppTarget, invocation: Invocation): Promise<Outcome>;
  /**
   * A ready instance for a WebSocket the caller opens itself (`invocation` is the visitor's upgrade request): where
   * to open it, the instance busy (never idle-stopped) until `release`; or why there is none.
   */
  acquire(
    target: AppTarget,
    invocation: Invocation,
  ): Promise<{ address: UpstreamAddress; release: () => void } | { failed: string }>;
  /** Starts the deployment's server (healthy) without a request: before a promotion switches its hosts to it. */
  warm(target: AppTarget): Promise<void>;
  /** Every deployment with a server in this process (or only `deploymentId`'s). */
  view(deploymentId?: string): AppView[];
  /** Stops the deployment's instances; the next request (or the always-on restart) starts fresh ones. */
  restart(deploymentId: string): Promise<number>;
  stop(): Promise<void>;
}

export interface AppPoolDeps {
  mode: SandboxMode;
  launcher: string;
  bundles: Bundles;
  sink: LogSink;
  measured: FunctionMetrics;
  projectEnv: (projectId: string, target: AppTarget["environment"]) => Promise<Record<string, string>>;
  pids: number;
  memoryMb: number;
  startTimeoutMs: number;
  log: Logger;
}

interface Entry {
  instance: Instance;
  inFlight: number;
  idle: ReturnType<typeof setTimeout> | null;
  startedAt: number;
  readyAt: number | null;
  lastRequestAt: number | null;
}

interface Server {
  target: AppTarget;
  entries: Set<Entry>;
  starting: Promise<Entry> | null;
  crashes: number;
  restarts: number;
  lastExit: string | null;
  /** No start before this time (the backoff after a crash). */
  notBefore: number;
  restartTimer: ReturnType<typeof setTimeout> | null;
}

/** A free TCP port of this machine, for the app to listen on when it shares the host's network (mode "none"). */
function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = probe;
  probe.stop(true);
  return port;
}

const backoffMs = (crashes: number) => Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.max(0, crashes - 1));

export function createAppPool(deps: AppPoolDeps): AppPool {
  const servers = new Map<string, Server>();
  let stopping = false;

  function serverOf(target: AppTarget): Server {
    let server = servers.get(target.deploymentId);
    if (!server) {
      server = {
        target,
        entries: new Set(),
        starting: null,
        crashes: 0,
        restarts: 0,
        lastExit: null,
        notBefore: 0,
        restartTimer: null,
      };
      servers.set(target.deploymentId, server);
    }
    // Settings changed since (idle time, instances) apply from now on.
    server.target = target;
    return server;
  }

  async function start(server: Server): Promise<Entry> {
    const { target } = server;
    const wait = server.notBefore - Date.now();
    if (wait > 0) await Bun.sleep(wait);
    const dir = await deps.bundles.prepareFiles(target.server.files);
    const projectEnv = await deps.projectEnv(target.projectId, target.environment);
    const host = new URL(target.deploymentUrl).host;
    const source = { deploymentId: target.deploymentId, function: APP_LABEL };
    const appLog = deps.log.child({ deploymentId: target.deploymentId, function: APP_LABEL });
    // In the sandbox the app has a network namespace of its own; without it, it shares the host's ports.
    const port = deps.mode === "bwrap" ? 3000 : freePort();
    const instance = startInstance(
      { dir, memoryMb: deps.memoryMb },
      {
        mode: deps.mode,
        launcher: deps.launcher,
        env: {
          ...projectEnv,
          NODE_ENV: "production",
          VERCEL: "1",
          VERCEL_ENV: target.environment,
          VERCEL_URL: host,
          HOSTNAME: "127.0.0.1",
          PORT: String(port),
          MV_APP_COMMAND: target.server.command,
        },
        pids: deps.pids,
        startTimeoutMs: deps.startTimeoutMs,
        onLog: (stream, line) => {
          deps.sink.write(source, stream, line);
          appLog.debug(line, { stream });
        },
      },
    );
    const entry: Entry = {
      instance,
      inFlight: 0,
      idle: null,
      startedAt: Date.now(),
      readyAt: null,
      lastRequestAt: null,
    };
    server.entries.add(entry);
    deps.measured.instances(1);
    deps.sink.write(source, "stderr", `[minivercel] starting ${target.server.command} (PORT=${port})`);
    void instance.exited.then((why) => {
      deps.measured.instances(-1);
      server.entries.delete(entry);
      if (entry.idle) clearTimeout(entry.idle);
      const asked = stoppedByUs.has(instance);
      server.lastExit = why;
      deps.sink.write(source, "stderr", `[minivercel] app server instance ${instance.id} stopped: it ${why}`);
      appLog.info(`app server instance ${instance.id} stopped: it ${why}`);
      if (asked || stopping) return;
      // A crash: the healthy minute resets the count; then back off before the next start.
      if (entry.readyAt !== null && Date.now() - entry.readyAt > HEALTHY_MS) server.crashes = 0;
      server.crashes += 1;
      server.notBefore = Date.now() + backoffMs(server.crashes);
      deps.measured.failed(APP_LABEL, entry.readyAt === null ? "start" : "crash");
      if (server.crashes >= CRASH_LOOP_AFTER)
        deps.sink.write(
          source,
          "stderr",
          `[minivercel] crash loop: the app server failed ${server.crashes} times in a row; next start in ${Math.round(backoffMs(server.crashes) / 1000)} s at the earliest`,
        );
      // Always-on servers come back by themselves; the others with their next request.
      if (server.target.idleMs === 0 && server.entries.size === 0) scheduleRestart(server);
    });
    await instance.ready;
    entry.readyAt = Date.now();
    deps.measured.coldStart(APP_LABEL);
    armIdle(server, entry);
    return entry;
  }

  const stoppedByUs = new WeakSet<Instance>();
  function stopEntry(entry: Entry, why: string): void {
    stoppedByUs.add(entry.instance);
    entry.instance.stop(why);
  }

  function scheduleRestart(server: Server): void {
    if (server.restartTimer || stopping) return;
    server.restartTimer = setTimeout(
      () => {
        server.restartTimer = null;
        if (server.entries.size > 0 || server.starting) return;
        server.restarts += 1;
        launch(server).catch(() => undefined);
      },
      Math.max(0, server.notBefore - Date.now()),
    );
  }

  function launch(server: Server): Promise<Entry> {
    if (!server.starting) {
      server.starting = start(server).finally(() => {
        server.starting = null;
      });
    }
    return server.starting;
  }

  function armIdle(server: Server, entry: Entry): void {
    if (entry.idle) clearTimeout(entry.idle);
    entry.idle = null;
    const { idleMs } = server.target;
    if (idleMs === 0 || entry.inFlight > 0 || entry.instance.state() !== "ready") return;
    entry.idle = setTimeout(() => stopEntry(entry, "was idle"), idleMs);
  }

  /**
   * The least busy ready instance, claimed for one request or connection (its count goes up before anything else
   * runs, so requests arriving together see each other); another starts when all are busy and the maximum allows.
   */
  async function entryFor(server: Server): Promise<Entry> {
    const ready = [...server.entries].filter((e) => e.instance.state() === "ready");
    ready.sort((a, b) => a.inFlight - b.inFlight);
    const best = ready[0];
    if (best) {
      if (best.inFlight > 0 && server.entries.size < server.target.maxInstances && !server.starting)
        launch(server).catch(() => undefined);
      best.inFlight += 1;
      return best;
    }
    if (server.crashes >= CRASH_LOOP_AFTER && server.notBefore > Date.now())
      throw new Error(
        `the app server is in a crash loop (${server.crashes} failures in a row; last: it ${server.lastExit ?? "failed"})`,
      );
    if (server.crashes > 0 && !server.starting) server.restarts += 1;
    const started = await launch(server);
    started.inFlight += 1;
    return started;
  }

  async function invoke(target: AppTarget, invocation: Invocation): Promise<Outcome> {
    const started = performance.now();
    const answered = (status: number) =>
      deps.measured.invoked(APP_LABEL, status, (performance.now() - started) / 1000);
    const server = serverOf(target);
    let entry: Entry;
    try {
      entry = await entryFor(server);
    } catch (error) {
      const reason = (error instanceof Error ? error.message : String(error)).replace(
        /^the function did not start/,
        "the app server did not start",
      );
      answered(502);
      return { kind: "failed", status: 502, reason };
    }
    entry.lastRequestAt = Date.now();
    if (entry.idle) clearTimeout(entry.idle);
    entry.idle = null;
    let finished = false;
    const done = (status: number) => {
      if (finished) return;
      finished = true;
      entry.inFlight -= 1;
      entry.lastRequestAt = Date.now();
      armIdle(server, entry);
      answered(status);
    };
    return forwardToInstance(entry.instance, target.deploymentUrl, invocation, done);
  }

  async function acquire(target: AppTarget): ReturnType<AppPool["acquire"]> {
    const server = serverOf(target);
    let entry: Entry;
    try {
      entry = await entryFor(server);
    } catch (error) {
      return { failed: error instanceof Error ? error.message : String(error) };
    }
    entry.lastRequestAt = Date.now();
    if (entry.idle) clearTimeout(entry.idle);
    entry.idle = null;
    let released = false;
    return {
      address: { unix: entry.instance.socket },
      release: () => {
        if (released) return;
        released = true;
        entry.inFlight -= 1;
        entry.lastRequestAt = Date.now();
        armIdle(server, entry);
      },
    };
  }

  function viewOf(server: Server): AppView {
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return {
      deploymentId: server.target.deploymentId,
      instances: [...server.entries].map((e) => ({
        id: e.instance.id,
        deploymentId: server.target.deploymentId,
        state: e.instance.state(),
        inFlight: e.inFlight,
        memoryBytes: e.instance.memoryBytes(),
        startedAt: new Date(e.startedAt).toISOString(),
        lastRequestAt: iso(e.lastRequestAt),
      })),
      crashes: server.crashes,
      restarts: server.restarts,
      crashLoop: server.crashes >= CRASH_LOOP_AFTER,
      lastExit: server.lastExit,
    };
  }

  return {
    invoke,
    acquire,
    async warm(target) {
      const acquired = await acquire(target);
      if ("failed" in acquired) throw new Error(acquired.failed);
      acquired.release();
    },
    view(deploymentId) {
      const all =
        deploymentId === undefined ? [...servers.values()] : [servers.get(deploymentId) ?? []].flat();
      return all.map(viewOf);
    },
    async restart(deploymentId) {
      const server = servers.get(deploymentId);
      if (!server) return 0;
      const entries = [...server.entries];
      for (const entry of entries) stopEntry(entry, "was restarted by its owner");
      await Promise.all(entries.map((e) => e.instance.exited));
      server.crashes = 0;
      server.notBefore = 0;
      server.restarts += entries.length > 0 ? 1 : 0;
      if (server.target.idleMs === 0) launch(server).catch(() => undefined);
      return entries.length;
    },
    async stop() {
      stopping = true;
      const all = [...servers.values()].flatMap((s) => {
        if (s.restartTimer) clearTimeout(s.restartTimer);
        return [...s.entries];
      });
      for (const entry of all) stopEntry(entry, "was stopped with the platform");
      await Promise.all(all.map((e) => e.instance.exited));
    },
  };
}

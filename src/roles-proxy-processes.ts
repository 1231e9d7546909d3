// Proxy processes (PROXY_PROCESSES > 1): the first process (`serve`) starts the extra ones as children of the same
// binary (src/roles-proxy-process.ts), restarts one that dies, and stops them with itself. It keeps them coherent:
// every route change it hears goes to each of them over IPC (their route tables reload at once, as its own does);
// a scrape of its /metrics asks each for its counters and histograms and adds them up (src/observe/registry.ts);
// and what needs the function runtime reaches it over a private Unix socket (src/proxy/forward.ts), so that
// instances, their limits and idle timers exist once.

import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import type { Subscription, Topic } from "./bus/bus.ts";
import type { Deps } from "./deps.ts";
import type { Snapshot } from "./observe/registry.ts";
import { type ForwardedRequests, serveForwarded } from "./proxy/forward.ts";
import type { SiteProxy } from "./proxy/proxy.ts";
import type { RelayData } from "./runtime/websocket.ts";
import { selfCommand } from "./worker/self.ts";

/** Messages from the first process to an extra one. */
export type FromFirst =
  | { type: "bus"; topic: Topic; key: string; value: unknown }
  | { type: "metrics"; id: number };
/** Messages from an extra process to the first. */
export type ToFirst = { type: "ready"; pid: number } | { type: "metrics"; id: number; snapshot: Snapshot };

/** An extra process that does not answer a scrape within this long is left out of it. */
const SCRAPE_MS = 2000;
/** One that dies sooner than this after its start is started again only after RESTART_DELAY_MS (no hot loop). */
const QUICK_DEATH_MS = 5000;
const RESTART_DELAY_MS = 1000;
/** How long the extra processes may take to listen before a warning says so. */
const READY_MS = 30_000;

export interface ProxyProcesses {
  /** The extra processes running now. */
  pids(): number[];
  /** The first process's forwarding socket's server (for its idle timeouts). */
  internal: ReturnType<typeof Bun.serve<RelayData>>;
  /** Stops the extra processes (they finish their requests within `graceMs`), then the forwarding socket. */
  stop(graceMs?: number): Promise<void>;
}

interface Slot {
  index: number;
  proc: Subprocess | null;
  startedAt: number;
  ready: () => void;
}

const EMPTY: Snapshot = { counters: [], histograms: [] };
const SOCKET_DIR_PREFIX = "minivercel-proxy-";

/** Socket directories of a `serve` that was killed (SIGKILL leaves them): named by its pid, gone now. */
function removeStaleSockets(): void {
  for (const name of readdirSync(tmpdir())) {
    const pid = Number(/^minivercel-proxy-(\d+)-/.exec(name)?.[1]);
    if (!pid || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch (error) {
      // ESRCH: no such process. EPERM: someone else's, left alone.
      if ((error as NodeJS.ErrnoException).code === "ESRCH")
        rmSync(join(tmpdir(), name), { recursive: true, force: true });
    }
  }
}

export async function startProxyProcesses(
  deps: Pick<Deps, "config" | "bus" | "metrics" | "log">,
  options: { count: number; port: number; proxy: SiteProxy; forwarded: ForwardedRequests },
): Promise<ProxyProcesses> {
  const { config } = deps;
  const log = deps.log.child({ part: "proxy-processes" });
  // A directory only this user may enter: whoever reaches the socket is trusted with the visitor's address.
  removeStaleSockets();
  const dir = mkdtempSync(join(tmpdir(), `${SOCKET_DIR_PREFIX}${process.pid}-`));
  const socketPath = join(dir, "forward.sock");
  const internal = serveForwarded(
    socketPath,
    options.proxy,
    options.forwarded,
    config.functions.maxBodyMb * 1024 * 1024,
  );

  let stopping = false;
  let nextId = 0;
  const pending = new Map<number, (snapshot: Snapshot) => void>();
  const slots: Slot[] = [];

  function onMessage(slot: Slot, message: ToFirst) {
    if (message.type === "ready") slot.ready();
    else pending.get(message.id)?.(message.snapshot);
  }

  function start(slot: Slot): Promise<void> {
    const ready = new Promise<void>((resolve) => {
      slot.ready = resolve;
    });
    slot.startedAt = Date.now();
    const proc = Bun.spawn(
      [
        ...selfCommand(),
        "proxy-process",
        "--proxy-port",
        String(options.port),
        "--data",
        config.dataDir,
        "--host",
        config.host,
        "--socket",
        socketPath,
      ],
      {
        stdin: "ignore",
        stdout: "inherit",
        stderr: "inherit",
        serialization: "json",
        ipc: (message: ToFirst) => onMessage(slot, message),
      },
    );
    slot.proc = proc;
    void proc.exited.then((code) => {
      if (slot.proc === proc) slot.proc = null;
      slot.ready();
      if (stopping) return;
      const quick = Date.now() - slot.startedAt < QUICK_DEATH_MS;
      log.warn(`proxy process ${proc.pid} exited (${proc.signalCode ?? `code ${code}`}): starting another`);
      setTimeout(() => stopping || void start(slot), quick ? RESTART_DELAY_MS : 0);
    });
    return ready;
  }

  function send(slot: Slot, message: FromFirst): boolean {
    try {
      slot.proc?.send(message);
      return slot.proc !== null;
    } catch {
      // Exiting: it is started again, and a new process reads every route at its start.
      return false;
    }
  }

  function ask(slot: Slot): Promise<Snapshot> {
    const id = ++nextId;
    return new Promise<Snapshot>((resolve) => {
      const done = (snapshot: Snapshot) => {
        clearTimeout(timer);
        pending.delete(id);
        resolve(snapshot);
      };
      const timer = setTimeout(() => done(EMPTY), SCRAPE_MS);
      pending.set(id, done);
      if (!send(slot, { type: "metrics", id })) done(EMPTY);
    });
  }

  for (let index = 1; index < options.count; index++)
    slots.push({ index, proc: null, startedAt: 0, ready: () => {} });
  // Not awaited: this process already answers on the port, and the others join it as they come up.
  const started = Promise.all(slots.map(start));
  let timer: ReturnType<typeof setTimeout> | undefined;
  void Promise.race([
    started.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), READY_MS);
    }),
  ]).then((ready) => {
    clearTimeout(timer);
    if (stopping) return;
    if (ready) log.info(`${options.count} proxy processes answer on port ${options.port}`);
    else log.warn(`some proxy processes did not start listening within ${READY_MS / 1000} s`);
  });

  // Its own group: every route change reaches this subscription, as every proxy's.
  const routes: Subscription = await deps.bus.consume(
    "route-changes",
    `proxy-processes-${crypto.randomUUID()}`,
    async (value, key) => {
      for (const slot of slots) send(slot, { type: "bus", topic: "route-changes", key, value });
    },
    { transient: true },
  );
  const unfederate = deps.metrics.registry.federate(() => Promise.all(slots.map(ask)));

  return {
    internal,
    pids: () => slots.flatMap((slot) => (slot.proc ? [slot.proc.pid] : [])),
    async stop(graceMs) {
      stopping = true;
      clearTimeout(timer);
      unfederate();
      await routes.stop();
      await Promise.all(
        slots.map(async (slot) => {
          const proc = slot.proc;
          if (!proc) return;
          proc.kill("SIGTERM");
          const cut = setTimeout(() => proc.kill("SIGKILL"), (graceMs ?? 30_000) + 5000);
          await proc.exited;
          clearTimeout(cut);
        }),
      );
      await internal.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

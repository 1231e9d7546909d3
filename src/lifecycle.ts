// Lifecycle: how `serve` stops. The first SIGTERM/SIGINT drains (requests, log streams, builds, events) within
// SHUTDOWN_TIMEOUT_SECONDS; a second one, or a drain that hangs well past the timeout, exits at once.

import type { Logger } from "./observe/log.ts";

type Server = Pick<ReturnType<typeof Bun.serve>, "stop" | "pendingRequests">;

export const SHUTDOWN_SIGNALS = ["SIGTERM", "SIGINT"] as const;
export type ShutdownSignal = (typeof SHUTDOWN_SIGNALS)[number];

/** Beyond the timeout: stopped builders get their own kill grace, and the bus its last commit. */
const WATCHDOG_EXTRA_MS = 30_000;

/** Resolves with the first shutdown signal this process receives. */
export function waitForSignal(): Promise<ShutdownSignal> {
  return new Promise((resolve) => {
    const handlers = SHUTDOWN_SIGNALS.map((signal) => {
      const handler = () => {
        for (const [s, h] of handlers) process.off(s, h);
        resolve(signal);
      };
      process.on(signal, handler);
      return [signal, handler] as const;
    });
  });
}

/**
 * While a drain runs: a second signal, or the drain outliving `graceMs` by far, exits the process at once
 * (anything left IN_PROGRESS is ended and queued again at the next start). Returns the disarm function.
 */
export function armForcedExit(log: Logger, graceMs: number): () => void {
  const force = (why: string) => {
    log.error(`${why}: exiting now without finishing the shutdown`);
    process.exit(1);
  };
  const onSignal = (signal: ShutdownSignal) => force(`second ${signal}`);
  for (const signal of SHUTDOWN_SIGNALS) process.on(signal, onSignal);
  const watchdog = setTimeout(
    () =>
      force(`shutdown still running ${Math.round((graceMs + WATCHDOG_EXTRA_MS) / 1000)} s after the signal`),
    graceMs + WATCHDOG_EXTRA_MS,
  );
  watchdog.unref();
  return () => {
    clearTimeout(watchdog);
    for (const signal of SHUTDOWN_SIGNALS) process.off(signal, onSignal);
  };
}

/**
 * Stops the servers listening at once and lets their in-flight requests finish, until `deadline` (epoch ms;
 * null: as long as they take); requests still running then are cut.
 */
export async function drainServers(servers: Server[], deadline: number | null, log: Logger): Promise<void> {
  const pending = servers.reduce((n, s) => n + s.pendingRequests, 0);
  if (pending > 0) log.info(`shutdown: finishing ${pending} in-flight request(s)`);
  // Without `true`, stop() closes the listeners and idle connections and resolves once every request is done.
  const drained = Promise.all(servers.map((s) => s.stop()));
  if (deadline === null) {
    await drained;
    return;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), Math.max(0, deadline - Date.now()));
  });
  const outcome = await Promise.race([drained.then(() => "drained" as const), late]);
  clearTimeout(timer);
  if (outcome === "late") {
    const left = servers.reduce((n, s) => n + s.pendingRequests, 0);
    log.warn(`shutdown: cutting ${left} request(s) still running at SHUTDOWN_TIMEOUT_SECONDS`);
    await Promise.all(servers.map((s) => s.stop(true)));
  }
}

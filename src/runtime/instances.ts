// Function instances: one sandboxed process per (deployment, function), started by its first request, serving
// many requests at once over a Unix socket, stopped when idle (scale to zero), after a crash, or when a request
// outlives the function's maxDuration (the process is the only thing that can stop a handler that never returns).
//
// In the sandbox (mode "bwrap") an instance sees its bundle read-only at /var/task, the platform's binary as bun,
// the launcher, a private writable /tmp, a working directory holding only its socket, outbound network that never
// reaches the host, and the project's environment variables; memory and processes are held by cgroup limits.

import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  platformBinary,
  runSandboxed,
  SANDBOX_BUN_DIR,
  type SandboxMode,
  visiblePath,
} from "../sandbox/sandbox.ts";

export const READY_MARKER = "@@minivercel-ready@@";
const MB = 1024 * 1024;
/** No instance lives longer than this, even when busy: a slow leak or a stuck loop ends some day. */
const MAX_LIFETIME_MS = 12 * 3600 * 1000;
const SOCKET_DIR = "/run/minivercel-sandbox/fn";

/** What an instance runs: a function's bundle, or an app server's files (both read-only at /var/task). */
export interface InstanceCode {
  /** Host directory of the code. */
  dir: string;
  /** Memory of the instance's whole process tree. */
  memoryMb: number;
}

export interface InstanceOptions {
  mode: SandboxMode;
  /**
   * Host path of the launcher script (src/runtime/launcher.ts for functions, app-launcher.ts for app servers,
   * written out once); it reads MV_FUNCTION_DIR (the code) and MV_SOCKET, and what else `env` gives it.
   */
  launcher: string;
  env: Record<string, string>;
  pids: number;
  startTimeoutMs: number;
  /** Output of the function's process, line by line, as it arrives. */
  onLog: (stream: "stdout" | "stderr", line: string) => void;
}

/** "stopping": asked to stop, its process not gone yet; it takes no new requests. */
export type InstanceState = "starting" | "ready" | "stopping" | "stopped";

export interface Instance {
  readonly id: string;
  readonly state: () => InstanceState;
  /** Resolves when the function listens; rejects with why it did not start. */
  readonly ready: Promise<void>;
  /** Resolves when the process is gone, with why. */
  readonly exited: Promise<string>;
  /** Host path of the socket it listens on. */
  readonly socket: string;
  /** Memory its processes use now (its cgroup's), in bytes; null without cgroups or once it is gone. */
  memoryBytes(): number | null;
  stop(why: string): void;
}

/** Starts `code` in its sandbox. */
export function startInstance(bundle: InstanceCode, options: InstanceOptions): Instance {
  const id = crypto.randomUUID().slice(0, 12);
  // Short on purpose: a Unix socket path has at most 107 bytes.
  const workspace = join(SOCKET_DIR, id);
  mkdirSync(workspace, { recursive: true, mode: 0o755 });
  const socket = join(workspace, "fn.sock");
  const controller = new AbortController();
  let state: InstanceState = "starting";
  let stopReason = "";
  let markReady: () => void = () => {};
  let failStart: (error: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    failStart = reject;
  });
  // A start that failed is reported by `ready` itself; nobody else needs to catch it.
  ready.catch(() => undefined);

  const bun = platformBinary();
  const code = { source: bundle.dir, target: "/var/task" };
  const launcher = { source: options.launcher, target: "/opt/minivercel/launcher.ts" };
  const inside = (bind: { source: string; target: string }) => visiblePath(options.mode, bind);
  const lines = { stdout: "", stderr: "" };
  const onOutput = (stream: "stdout" | "stderr", text: string) => {
    const buffered = lines[stream] + text;
    const parts = buffered.split("\n");
    lines[stream] = parts.pop() ?? "";
    for (const line of parts) {
      if (stream === "stdout" && line === READY_MARKER && state === "starting") {
        state = "ready";
        markReady();
      } else options.onLog(stream, line);
    }
  };

  let readMemory: () => number | null = () => null;
  const run = runSandboxed({
    mode: options.mode,
    workspace,
    cwd: "",
    command: 'exec "$1" "$2"',
    args: [inside(bun), inside(launcher)],
    readOnly: [bun, code, launcher],
    env: {
      ...options.env,
      PATH: [
        ...(options.mode === "bwrap" ? [SANDBOX_BUN_DIR] : []),
        "/usr/local/bin",
        "/usr/bin",
        "/bin",
      ].join(":"),
      BUN_BE_BUN: "1",
      MV_SOCKET: options.mode === "bwrap" ? "/workspace/fn.sock" : socket,
      MV_FUNCTION_DIR: inside(code),
    },
    network: "registry",
    limits: { memoryBytes: bundle.memoryMb * MB, pids: options.pids, timeoutMs: MAX_LIFETIME_MS },
    onOutput,
    signal: controller.signal,
    onMemoryReader: (read) => {
      readMemory = read;
    },
  });

  const exited = run.then(
    (result) => {
      if (stopReason) return stopReason;
      if (result.memoryExceeded) return `ran out of memory (${bundle.memoryMb} MB)`;
      if (result.timedOut) return "reached the longest an instance may live";
      return `exited with code ${result.exitCode ?? "unknown"}`;
    },
    (error: unknown) =>
      `could not start its sandbox: ${error instanceof Error ? error.message : String(error)}`,
  );
  void exited.then((why) => {
    for (const stream of ["stdout", "stderr"] as const)
      if (lines[stream]) options.onLog(stream, lines[stream]);
    if (state === "starting") failStart(new Error(`the function did not start: it ${why}`));
    state = "stopped";
    rmSync(workspace, { recursive: true, force: true });
  });

  const startTimer = setTimeout(() => {
    if (state !== "starting") return;
    stop(`did not listen within ${Math.round(options.startTimeoutMs / 1000)} s`);
  }, options.startTimeoutMs);
  void ready.finally(() => clearTimeout(startTimer)).catch(() => undefined);

  function stop(why: string): void {
    if (state === "stopped" || controller.signal.aborted) return;
    stopReason ||= why;
    if (state === "ready") state = "stopping";
    controller.abort(new Error(why));
  }

  return {
    id,
    state: () => state,
    ready,
    exited,
    socket,
    memoryBytes: () => (state === "stopped" ? null : readMemory()),
    stop,
  };
}

// Build sandbox, both modes: streams the output, enforces the time limit and cancel, and tells how the run ended.

import type { ChildProcess } from "node:child_process";
import { deadline } from "./proc.ts";
import type { SandboxRun } from "./sandbox.ts";

export interface Watch {
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): void;
  timedOut(): boolean;
  canceled(): boolean;
  /** We killed the run (timeout, cancel, a throwing onOutput, failed setup). */
  stopped(): boolean;
  stderrTail(): string;
  /** Throws what onOutput threw, if it did. */
  rethrow(): void;
}

export function supervise(
  child: ChildProcess,
  run: SandboxRun,
  killTree: () => void,
  afterExit = () => {},
): Watch {
  let stopped = false;
  let timedOut = false;
  let canceled = false;
  let callbackError: { error: unknown } | null = null;
  let tail = "";
  const kill = () => {
    stopped = true;
    killTree();
  };
  const emit = (stream: "stdout" | "stderr", text: string) => {
    if (text === "" || callbackError !== null) return;
    if (stream === "stderr") tail = (tail + text).slice(-2000);
    try {
      run.onOutput(stream, text);
    } catch (error) {
      callbackError = { error };
      kill();
    }
  };
  for (const name of ["stdout", "stderr"] as const) {
    const decoder = new TextDecoder("utf-8");
    const stream = child[name];
    stream?.on("data", (chunk: Buffer) => emit(name, decoder.decode(chunk, { stream: true })));
    stream?.on("end", () => emit(name, decoder.decode()));
  }
  const timer = setTimeout(() => {
    if (stopped) return;
    timedOut = true;
    kill();
  }, run.limits.timeoutMs);
  const onAbort = () => {
    if (!timedOut) canceled = true;
    kill();
  };
  run.signal?.addEventListener("abort", onAbort, { once: true });
  if (run.signal?.aborted) onAbort();

  const closed = new Promise<void>((resolve) => child.on("close", () => resolve()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on("error", (error) => {
      clearTimeout(timer);
      run.signal?.removeEventListener("abort", onAbort);
      reject(error);
    });
    child.on("exit", async (code, signal) => {
      clearTimeout(timer);
      run.signal?.removeEventListener("abort", onAbort);
      afterExit();
      // Output pipes close when the last holder exits; give stragglers a moment, then stop reading.
      if ((await Promise.race([closed.then(() => true), deadline(2000).then(() => false)])) === false) {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }
      resolve({ code, signal });
    });
  });
  return {
    exited,
    kill,
    timedOut: () => timedOut,
    canceled: () => canceled,
    stopped: () => stopped,
    stderrTail: () => tail,
    rethrow: () => {
      if (callbackError !== null) throw callbackError.error;
    },
  };
}

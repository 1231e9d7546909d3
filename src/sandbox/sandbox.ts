// Build step "install/build": runs one untrusted shell command in a bubblewrap sandbox held to cgroup limits.
//
// Mode "bwrap" is in sandbox-bwrap.ts (with sandbox-bwrap-args.ts, sandbox-uid.ts, sandbox-cgroup.ts and
// sandbox-net.ts), mode "none" in sandbox-none.ts; both report through sandbox-supervise.ts.
//
// Weaker spots, by design or by host: without writable cgroups (v1 memory+pids, or v2) the limits fall back
// to rlimits (per-process memory, no OOM detection); there is no seccomp filter beyond what the namespaces
// and the unprivileged uid give; slirp4netns runs as root (capabilities dropped, seccomp, empty root) because
// it must open /dev/net/tun and enter a root-owned namespace; mode "none" isolates nothing but env and time.

import path from "node:path";
import { invalid } from "../errors.ts";
import { runBwrap } from "./bwrap.ts";
import { runPlain } from "./none.ts";
import { findBwrapProblem } from "./probe.ts";
import { HELPER_PATH } from "./proc.ts";

/** "bwrap": the full sandbox. "none": a plain child process (operator opted out with BUILD_SANDBOX=none). */
export type SandboxMode = "bwrap" | "none";

/** Resource limits for one run. */
export interface SandboxLimits {
  /** Memory of the whole process tree (cgroup), page cache and tmpfs /tmp included. */
  memoryBytes: number;
  /** Processes plus threads of the whole tree. */
  pids: number;
  /** Wall clock; on expiry the tree is killed and the result says timedOut. */
  timeoutMs: number;
}

/** One untrusted command to run. */
export interface SandboxRun {
  mode: SandboxMode;
  /** Where mode "bwrap" finds its helper programs (BUILD_SANDBOX_PATH); default the system's bin and sbin dirs. */
  helperPath?: string;
  /** Host dir; the ONLY writable host path, bound at /workspace (see SANDBOX_WORKSPACE). */
  workspace: string;
  /** Path relative to the workspace to run in ("" = its root); must stay inside it. */
  cwd: string;
  /** Run as ["/bin/sh", "-c", command, "sh", ...args]. */
  command: string;
  /** The script's positional parameters ("$1", ...): how user input reaches a fixed script, never as shell text. */
  args?: string[];
  /**
   * The ONLY environment the command sees, over defaults: PATH, HOME (private), TMPDIR (private), CI=1, and
   * NODE_EXTRA_CA_CERTS (the system CA bundle) when the host has one.
   */
  env: Record<string, string>;
  /** Optional host dir bound read-write at /cache for package-manager caches; never shared by concurrent runs. */
  cacheDir?: string;
  /**
   * Host files or directories the command may read, at `target` (absolute) in mode "bwrap": a function's bundle,
   * the platform's own binary (platformBinary). Mode "none" binds nothing: use `visiblePath` for what to pass.
   */
  readOnly?: ReadOnlyBind[];
  /**
   * "registry": outbound IPv4 through slirp4netns; unreachable: the host's loopback, the host's own addresses
   * and directly connected subnets, link-local (cloud metadata). "none": loopback only.
   */
  network: "registry" | "none";
  limits: SandboxLimits;
  /** Decoded UTF-8 chunks as they arrive. Must not throw: a throw cancels the run and rejects its promise. */
  onOutput: (stream: "stdout" | "stderr", text: string) => void;
  /** Abort = cancel: the whole process tree is killed at once. */
  signal?: AbortSignal;
  /**
   * Called once the run's cgroup exists (mode "bwrap" with cgroups), with a reader of the memory its processes use
   * now: long-running instances show it.
   */
  onMemoryReader?: (read: () => number | null) => void;
}

/** How a run ended. The promise resolves only once every process of the run is gone. */
export interface SandboxResult {
  /** The command's exit status (128+N when killed by signal N); null when we killed it or it never started. */
  exitCode: number | null;
  timedOut: boolean;
  canceled: boolean;
  /** The kernel's OOM killer fired inside the run's memory cgroup. */
  memoryExceeded: boolean;
  durationMs: number;
}

/** Why mode "bwrap" cannot run here, and what to run (or change) so that it can. */
export interface SandboxProblem {
  reason: string;
  fix: string;
}

/** "<reason>; fix: <fix>": the one line a log, a deployment's status or the CLI shows. */
export const describeProblem = (problem: SandboxProblem): string => `${problem.reason}; fix: ${problem.fix}`;

export interface ReadOnlyBind {
  source: string;
  target: string;
}

/** Where the platform's binary is inside the sandbox: Bun itself, or the release binary run as Bun (BUN_BE_BUN). */
export const SANDBOX_BUN_DIR = "/opt/minivercel/bin";

/** This process's executable, bound read-only as `bun`: builds and functions run JavaScript with it. */
export function platformBinary(): ReadOnlyBind {
  return { source: process.execPath, target: `${SANDBOX_BUN_DIR}/bun` };
}

/** The path under which the command sees `bind`: its target in the sandbox, its source without one. */
export function visiblePath(mode: SandboxMode, bind: ReadOnlyBind): string {
  return mode === "bwrap" ? bind.target : bind.source;
}

/** Where the command sees the workspace and the cache in mode "bwrap". */
export { SANDBOX_CACHE, SANDBOX_WORKSPACE } from "./bwrap-args.ts";

/**
 * Runs `run.command` per `run.mode` and resolves once every process of the run is gone. Rejects before
 * anything runs on a bad cwd, env, command or limit (AppError "validation_failed") or when mode "bwrap" is
 * unavailable (see sandboxProblem); rejects after cleanup if the sandbox itself failed to start or onOutput threw.
 */
export async function runSandboxed(run: SandboxRun): Promise<SandboxResult> {
  const cwd = relativeCwd(run.cwd);
  checkRun(run);
  if (run.signal?.aborted) {
    return { exitCode: null, timedOut: false, canceled: true, memoryExceeded: false, durationMs: 0 };
  }
  switch (run.mode) {
    case "bwrap": {
      const problem = sandboxProblem(run.helperPath);
      if (problem !== null) throw new Error(`build sandbox unavailable: ${describeProblem(problem)}`);
      return runBwrap(run, cwd);
    }
    case "none":
      return runPlain(run, cwd);
  }
}

/** A problem found is looked for again after this long: a fix (say, installing bubblewrap) needs no restart. */
const RECHECK_MS = 5_000;
const problemMemo = new Map<string, { value: SandboxProblem | null; at: number }>();

/**
 * Whether mode "bwrap" can work here with the helpers of `helperPath`; when not, what is missing and the fix.
 * A working sandbox is remembered for good, a problem for a few seconds (the probe spawns a sandbox).
 */
export function sandboxProblem(helperPath: string = HELPER_PATH): SandboxProblem | null {
  const known = problemMemo.get(helperPath);
  if (known && (known.value === null || Date.now() - known.at < RECHECK_MS)) return known.value;
  const value = findBwrapProblem(helperPath);
  problemMemo.set(helperPath, { value, at: Date.now() });
  return value;
}

function relativeCwd(cwd: string): string {
  if (cwd.includes("\0")) throw invalid("the working directory contains a NUL byte", "cwd");
  if (path.posix.isAbsolute(cwd))
    throw invalid("the working directory must be relative to the project", "cwd");
  const normal = path.posix.normalize(cwd === "" ? "." : cwd);
  if (normal === ".." || normal.startsWith("../")) {
    throw invalid("the working directory must stay inside the project", "cwd");
  }
  return normal === "." ? "" : normal.replace(/\/$/, "");
}

function checkRun({ command, args, env, limits, readOnly }: SandboxRun): void {
  for (const bind of readOnly ?? []) {
    if (!path.isAbsolute(bind.source) || !path.posix.isAbsolute(bind.target) || bind.target.includes(".."))
      throw invalid("read-only binds need absolute paths", "readOnly");
  }
  if (command.includes("\0")) throw invalid("the command contains a NUL byte", "command");
  if (args?.some((arg) => arg.includes("\0"))) throw invalid("an argument contains a NUL byte", "args");
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0)
      throw invalid(`limit ${name} must be a positive integer`, "limits");
  }
  for (const [key, value] of Object.entries(env)) {
    if (key === "" || key.includes("=") || key.includes("\0"))
      throw invalid(`bad environment variable name "${key}"`, "env");
    if (value.includes("\0")) throw invalid(`environment variable ${key} contains a NUL byte`, "env");
  }
}

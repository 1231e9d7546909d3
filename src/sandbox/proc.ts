// Build sandbox, shared: the helper programs we exec and their environment, and host processes by pid.

import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import { Duplex } from "node:stream";

/** Where the sandbox's helper programs are looked up unless BUILD_SANDBOX_PATH says otherwise. */
export const HELPER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
export const STATE_ROOT = "/run/minivercel-sandbox";
export const TOOLS = [
  "bwrap",
  "setpriv",
  "unshare",
  "mount",
  "chown",
  "prlimit",
  "slirp4netns",
  "ip",
] as const;
export type Tool = (typeof TOOLS)[number];

// Node ignores the system CA store unless told; pointing it there makes builds trust what the host trusts
// (e.g. an operator's TLS-inspecting proxy), as git and curl already do.
const SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

export function defaultEnv(home: string, tmp: string): Record<string, string> {
  const env: Record<string, string> = { PATH: HELPER_PATH, HOME: home, TMPDIR: tmp, CI: "1" };
  if (fs.existsSync(SYSTEM_CA_BUNDLE)) env.NODE_EXTRA_CA_CERTS = SYSTEM_CA_BUNDLE;
  return env;
}

/** The helper programs of one search path: how the sandbox finds and runs bwrap, slirp4netns, setpriv, ... */
export interface Helpers {
  /** The search path (BUILD_SANDBOX_PATH, default HELPER_PATH). */
  path: string;
  /**
   * The whole environment helpers run with, nothing of our own: the search path first, then the system's
   * directories for the basic utilities (mkdir, cat, ...) the sandbox's setup script also uses.
   */
  env: { PATH: string };
  /** The program's full path there; its bare name when it is missing (spawning it then fails). */
  tool(name: Tool): string;
}

const helpersMemo = new Map<string, Helpers>();

export function helpers(searchPath: string = HELPER_PATH): Helpers {
  const known = helpersMemo.get(searchPath);
  if (known) return known;
  // Only found programs are remembered: one installed while we run is found on the next look.
  const found = new Map<Tool, string>();
  const made: Helpers = {
    path: searchPath,
    env: { PATH: searchPath === HELPER_PATH ? HELPER_PATH : `${searchPath}:${HELPER_PATH}` },
    tool(name) {
      const cached = found.get(name);
      if (cached !== undefined) return cached;
      const where = Bun.which(name, { PATH: searchPath });
      if (where === null) return name;
      found.set(name, where);
      return where;
    },
  };
  helpersMemo.set(searchPath, made);
  return made;
}

export function duplexAt(child: ChildProcess, fd: number): Duplex {
  const stream = child.stdio[fd];
  if (!(stream instanceof Duplex)) throw new Error(`no pipe at fd ${fd}`);
  return stream;
}

export function writeAll(stream: Duplex, text: string): void {
  // bwrap may be gone already (killed, failed); the exit status reports that.
  stream.on("error", () => undefined);
  stream.end(text);
}

export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number | null {
  if (code !== null) return code;
  const number = signal === null ? undefined : os.constants.signals[signal];
  return number === undefined ? null : 128 + number;
}

export function killPid(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === "EPERM";
  }
}

// Field 22 of /proc/<pid>/stat, to tell a process from a later one that reuses its pid; null once it is a zombie or gone.
export function processStartTime(pid: number): string | null {
  const fields = statFields(pid);
  return fields === null || fields[0] === "Z" ? null : (fields[19] ?? null);
}

/** /proc/<pid>/stat from the state field on (state, ppid, pgrp, ...), or null when there is no such process. */
export function statFields(pid: number): string[] | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

export async function waitGone(pid: number, startTime: string): Promise<void> {
  for (let waited = 0; processStartTime(pid) === startTime; waited += 20) {
    if (waited > 10_000) throw new Error(`build sandbox: pid ${pid} did not exit`);
    killPid(pid);
    await sleep(20);
  }
}

export function errorCode(error: unknown): string | undefined {
  return error instanceof Error && "code" in error && typeof error.code === "string" ? error.code : undefined;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A timer for races: it does not keep the process alive once the race is decided. */
export function deadline(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

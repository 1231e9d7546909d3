// Processes of a scale-out cluster for tests and benches: `serve --role=<role>` started and read until it serves,
// and what runs under a process (from /proc), so a fault test kills the worker running a build, not one that
// happens to have some other child (a preview capture).

import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Subprocess } from "bun";

const MAIN = resolve(import.meta.dir, "../main.ts");

export type ClusterRole = "api" | "worker" | "proxy" | "functions";

/** What each role prints once it serves (src/main.ts), as the URL to reach it at (a worker has none: "worker"). */
const READY: Record<ClusterRole, (banner: string) => string | null> = {
  api: (text) =>
    /dashboard and API: (http:\/\/\S+)/.exec(text)?.[1]?.replace("localhost", "127.0.0.1") ?? null,
  worker: (text) => (/roles: worker/.test(text) ? "worker" : null),
  proxy: (text) => {
    const port = /sites: +http:\/\/<project>\.localhost:(\d+)/.exec(text)?.[1];
    return port ? `http://127.0.0.1:${port}` : null;
  },
  functions: (text) => /functions node: +(http:\/\/\S+)/.exec(text)?.[1] ?? null,
};

export interface RoleProcess {
  proc: Subprocess;
  url: string;
}

/**
 * Starts `serve --role=<role>` with `env` and resolves once its banner says it serves. `started` sees the process
 * at once (so a caller can stop it even when it never gets ready); `stderr` gets its stderr stream (default:
 * inherited). Its stdout is drained afterwards: a full pipe would block the process.
 */
export async function startRole(
  role: ClusterRole,
  env: Record<string, string>,
  options: {
    name?: string;
    started?: (proc: Subprocess) => void;
    stderr?: (stream: ReadableStream<Uint8Array>) => Promise<void>;
  } = {},
): Promise<RoleProcess> {
  const keep = options.stderr;
  const proc = Bun.spawn([process.execPath, MAIN, "serve", `--role=${role}`], {
    env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: keep ? "pipe" : "inherit",
  });
  options.started?.(proc);
  if (keep && proc.stderr instanceof ReadableStream) void keep(proc.stderr).catch(() => {});
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`${options.name ?? role} exited before it was ready:\n${text}`);
    text += decoder.decode(value, { stream: true });
    const url = READY[role](text);
    if (url === null) continue;
    void (async () => {
      while (!(await reader.read()).done) {}
    })().catch(() => {});
    return { proc, url };
  }
}

/** Stops the processes: SIGTERM, up to `graceMs` for each to exit, then SIGKILL for any still running. */
export async function stopProcesses(procs: Iterable<Subprocess>, graceMs = 10_000): Promise<void> {
  const all = [...procs];
  for (const proc of all) proc.kill("SIGTERM");
  await Promise.all(all.map((proc) => Promise.race([proc.exited, Bun.sleep(graceMs)])));
  for (const proc of all) if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
}

/** Runs a `minivercel` command with `env` (its stderr shown); its trimmed stdout, or an error if it failed. */
export async function cliOutput(
  env: Record<string, string>,
  args: string[],
  stdin?: string,
): Promise<string> {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], {
    env,
    stdin: stdin ? new Blob([stdin]) : "ignore",
    stdout: "pipe",
    stderr: "inherit",
  });
  const out = await new Response(proc.stdout).text();
  const code = await proc.exited;
  if (code !== 0) throw new Error(`minivercel ${args.join(" ")} exited with ${code}`);
  return out.trim();
}

/** A process under another one: its pid and its command line, argument by argument. */
export interface ProcessInfo {
  pid: number;
  argv: string[];
}

/** The processes whose parent is `pid` (none once it is gone). */
export function childrenOf(pid: number): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The parent is the second field after the command name, which may itself hold spaces or parentheses.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (parent !== pid) continue;
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (argv.at(-1) === "") argv.pop();
      found.push({ pid: Number(entry), argv });
    } catch {
      // It ended while being read.
    }
  }
  return found;
}

/** Every process under `pid`, its children first. */
export function descendantsOf(pid: number): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  for (let level = childrenOf(pid); level.length > 0; level = level.flatMap((p) => childrenOf(p.pid)))
    found.push(...level);
  return found;
}

/**
 * Whether the worker `pid` runs a build now: it has a builder child, as the local runner starts it
 * (src/worker/runner-local.ts: `<bun> <main.ts> builder`, or `<binary> builder` compiled).
 */
export function runsBuilder(pid: number | undefined): boolean {
  return pid !== undefined && childrenOf(pid).some((p) => p.argv.at(-1) === "builder");
}

/**
 * Whether the process `pid` (a proxy or a functions node) runs a function instance now: a sandbox under it runs
 * the function launcher (src/runtime/instances.ts).
 */
export function runsFunctions(pid: number | undefined): boolean {
  return (
    pid !== undefined && descendantsOf(pid).some((p) => p.argv.some((arg) => arg.endsWith("/launcher.ts")))
  );
}

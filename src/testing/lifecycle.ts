// Test fixtures for the lifecycle: `serve` as a real child process (its output kept), the CLI, and API calls.

import { resolve } from "node:path";
import type { Subprocess } from "bun";
import { tempDir } from "./deps.ts";

const MAIN = resolve(import.meta.dir, "../main.ts");

export interface ServeProcess {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** API base URL from the banner. */
  api: string;
  /** Everything printed so far (stdout and stderr interleaved as they arrive). */
  output(): string;
  /** Resolves when the output matches (or rejects after `ms`). */
  waitFor(pattern: RegExp, ms?: number): Promise<void>;
}

/** A fresh data directory and the environment a user's shell would give `serve` (nothing of the host's). */
export function lifecycleEnv(extra: Record<string, string> = {}): Record<string, string> {
  const data = tempDir("minivercel-lifecycle-");
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: data,
    MINIVERCEL_DATA: data,
    PORT: "0",
    PROXY_PORT: "0",
    MINIVERCEL_ROLE: "api,worker",
    MINIVERCEL_ALLOW_LOCAL_GIT: "1",
    DEPLOYMENT_PROTECTION_DEFAULT: "none",
    LOG_FORMAT: "text",
    GC_INTERVAL_MINUTES: "0",
    // Preview images only where a test asks for them: a capture is a browser start per READY deployment.
    SCREENSHOT_BROWSER: "off",
    ...extra,
  };
}

/** Runs a CLI command to completion. */
export async function cli(
  env: Record<string, string>,
  args: string[],
  stdin?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], {
    env,
    stdin: stdin === undefined ? "ignore" : new Blob([stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** An account and an API token in the data directory of `env`. */
export async function tokenFor(env: Record<string, string>): Promise<string> {
  const created = await cli(
    env,
    ["user", "create", "ops@example.com", "--password-stdin"],
    "a long password\n",
  );
  if (created.code !== 0) throw new Error(`user create failed: ${created.stderr}`);
  const token = await cli(env, ["token", "create", "ops@example.com"]);
  if (token.code !== 0) throw new Error(`token create failed: ${token.stderr}`);
  return token.stdout.trim();
}

const running = new Set<Subprocess>();

/** Kills whatever a failed test left running. */
export function killLeftovers(): void {
  for (const proc of running) if (proc.exitCode === null) proc.kill("SIGKILL");
}

/** Starts `serve` and waits for its banner. */
export async function startServe(env: Record<string, string>): Promise<ServeProcess> {
  const proc = Bun.spawn([process.execPath, MAIN, "serve"], {
    env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  running.add(proc);
  void proc.exited.then(() => running.delete(proc));
  let text = "";
  const waiters = new Set<() => void>();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      for (const wake of waiters) wake();
    }
  };
  void pump(proc.stdout);
  void pump(proc.stderr);
  const waitFor = (pattern: RegExp, ms = 30_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (pattern.test(text)) {
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`serve never printed ${pattern}; it printed:\n${text}`));
      }, ms);
      waiters.add(check);
      void proc.exited.then(() => setTimeout(check, 50));
      check();
    });
  await waitFor(/dashboard and API: http:\/\/\S+/);
  const api = /dashboard and API: (http:\/\/\S+)/.exec(text)?.[1] ?? "";
  return { proc, api, output: () => text, waitFor };
}

/** A JSON API call as the token's user. */
export async function call(
  base: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const value = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${JSON.stringify(value)}`);
  return value;
}

/** Polls a deployment until `done` says so; returns its last state. */
export async function until(
  base: string,
  token: string,
  id: string,
  done: (d: Record<string, unknown>) => boolean,
  ms = 60_000,
): Promise<Record<string, unknown>> {
  const end = Date.now() + ms;
  for (;;) {
    const d = await call(base, token, "GET", `/api/deployments/${id}`);
    if (done(d) || Date.now() > end) return d;
    await Bun.sleep(100);
  }
}

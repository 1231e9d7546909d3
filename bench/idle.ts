// Bench: size and resident memory of the release binary running every role, idle and after light traffic.
// Run: bun bench/idle.ts   (Linux only: reads /proc/<pid>/status). The project's aim is idle RSS < 60 MB.

import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const BINARY = join(ROOT, "dist", "minivercel");
const AIM_MB = 60;
const REQUESTS = 200;

const mb = (bytes: number) => bytes / 1024 / 1024;

/** VmRSS (current) and VmHWM (peak) of a process, in MB. */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
}

/** Reads stdout until the start-up banner names the API URL. */
async function apiUrl(stdout: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const chunk = await reader.read();
    if (chunk.done) throw new Error(`serve exited before printing its URL:\n${text}`);
    text += decoder.decode(chunk.value, { stream: true });
    const url = /dashboard and API: (http:\/\/\S+)/.exec(text)?.[1];
    if (url) {
      reader.releaseLock();
      return url;
    }
  }
}

const build = Bun.spawnSync([process.execPath, join(ROOT, "scripts", "build.ts"), BINARY], {
  cwd: ROOT,
  stdout: "inherit",
  stderr: "inherit",
});
if (build.exitCode !== 0) process.exit(build.exitCode ?? 1);
const sizeMb = mb(statSync(BINARY).size);

// An empty directory and no configuration: exactly what a fresh install runs with (ports picked free).
const cwd = mkdtempSync(join(tmpdir(), "minivercel-bench-"));
const started = performance.now();
const proc = Bun.spawn([BINARY, "serve", "--role=all"], {
  cwd,
  env: {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? cwd,
    PORT: "0",
    PROXY_PORT: "0",
    LISTEN_HOST: "127.0.0.1",
  },
  stdin: "ignore",
  stdout: "pipe",
  stderr: "inherit",
});

const rows: [string, { rss: number; peak: number }][] = [];
try {
  const api = await apiUrl(proc.stdout);
  for (;;) {
    const ok = await fetch(`${api}/api/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (performance.now() - started > 10_000) throw new Error("no healthy answer within 10 s");
    await Bun.sleep(20);
  }
  const readyMs = performance.now() - started;
  rows.push(["healthy (just started)", memory(proc.pid)]);

  await Bun.sleep(2000);
  rows.push(["idle 2 s", memory(proc.pid)]);

  for (let i = 0; i < REQUESTS; i++) {
    const res = await fetch(`${api}/api/health`);
    if (!res.ok) throw new Error(`health request ${i} answered ${res.status}`);
    await res.arrayBuffer();
  }
  rows.push([`after ${REQUESTS} health requests`, memory(proc.pid)]);

  await Bun.sleep(2000);
  rows.push(["idle 2 s more", memory(proc.pid)]);

  const idle = rows[1]?.[1].rss ?? NaN;
  console.log(`\nbinary: ${BINARY} (${sizeMb.toFixed(1)} MB); roles: api, worker, proxy; store: sqlite`);
  console.log(`time to first healthy answer: ${readyMs.toFixed(0)} ms\n`);
  console.log(`| ${"sample".padEnd(30)} | VmRSS MB | VmHWM MB |`);
  console.log(`|${"-".repeat(32)}|----------|----------|`);
  for (const [label, m] of rows) {
    console.log(
      `| ${label.padEnd(30)} | ${m.rss.toFixed(1).padStart(8)} | ${m.peak.toFixed(1).padStart(8)} |`,
    );
  }
  console.log(`\nidle RSS ${idle.toFixed(1)} MB vs aim < ${AIM_MB} MB: ${idle < AIM_MB ? "met" : "NOT met"}`);
} finally {
  proc.kill("SIGTERM");
  const code = await Promise.race([proc.exited, Bun.sleep(5000).then(() => null)]);
  if (code === null) proc.kill("SIGKILL");
  else if (code !== 0) console.error(`serve exited with ${code} on SIGTERM`);
  rmSync(cwd, { recursive: true, force: true });
}

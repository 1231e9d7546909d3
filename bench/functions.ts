// Bench: functions. Cold start (first request to a new deployment -> first byte), warm requests/s of a hello-world
// function through the proxy beside the same handler in a plain Bun.serve (same run, interleaved), and the memory
// of 200 deployments whose instances went idle. Aims (issue 16): cold start p50 < 250 ms; warm >= 0.7x the direct
// handler; 200 idle deployments cost no memory.
//
// Everything real: `bun src/main.ts serve` (all roles, embedded sqlite, temp data dir) as its own process, its
// user and token made with `minivercel user create` / `token create`, each deployment a Build Output uploaded with
// `minivercel deploy --prebuilt --prod` and built by the server's worker; functions run in the sandbox (bubblewrap)
// when it works here, else with BUILD_SANDBOX=none (the output says which). Needs wrk (apt-get install wrk).
// Run: bun bench/functions.ts   (Linux: reads /proc). BENCH_COLD (20), BENCH_IDLE_DEPLOYMENTS (200),
// BENCH_IDLE_SECONDS (60: the FUNCTION_IDLE_SECONDS the server runs with), BENCH_IDLE_BATCHES (2), BENCH_SECONDS (10),
// BENCH_ROUNDS (3);
// BENCH_CPU_PROFILE=<dir> has the server write a CPU profile there (bun --cpu-prof-md) when it stops.

import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { sandboxProblem } from "../src/sandbox/sandbox.ts";
import { tempDir } from "../src/testing/deps.ts";

const COLD = Number(process.env.BENCH_COLD ?? 20);
const IDLE_DEPLOYMENTS = Number(process.env.BENCH_IDLE_DEPLOYMENTS ?? 200);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 60);
const IDLE_BATCHES = Number(process.env.BENCH_IDLE_BATCHES ?? 2);
const HIT_CONCURRENCY = 4;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const MAIN = resolve(import.meta.dir, "..", "src", "main.ts");
const EMAIL = "bench@example.com";
const PATH = "/api/hello";
const BODY = "hello world\n";

function need(command: string): void {
  if (Bun.which(command) === null) {
    console.error(`bench/functions: ${command} is not installed (apt-get install ${command})`);
    process.exit(2);
  }
}

async function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

const percentile = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};
const median = (xs: number[]) => percentile(xs, 50);

/** The hello-world handler: the module the function deploys and the direct server imports. */
const handlerSource = (tag: string) =>
  `// ${tag}\nexport function GET() {\n  return new Response(${JSON.stringify(BODY)}, { headers: { "content-type": "text/plain" } });\n}\n`;

/**
 * A folder holding a Build Output with one function at /api/hello. `tag` makes its source (so its bundle) unique:
 * a new deployment's function is not on the machine yet, as after any real change.
 */
function writeApp(dir: string, tag: string): void {
  const files: Record<string, string> = {
    ".vercel/output/config.json": JSON.stringify({ version: 3, routes: [{ handle: "filesystem" }] }),
    ".vercel/output/static/index.html": "<h1>bench</h1>\n",
    ".vercel/output/functions/api/hello.func/.vc-config.json": JSON.stringify({
      runtime: "nodejs20.x",
      handler: "index.mjs",
      launcherType: "Nodejs",
    }),
    ".vercel/output/functions/api/hello.func/index.mjs": handlerSource(tag),
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

function cli(argv: string[], env: Record<string, string>, stdin?: string): string {
  const run = Bun.spawnSync([process.execPath, MAIN, ...argv], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  if (run.exitCode !== 0)
    throw new Error(`minivercel ${argv.join(" ")} failed (${run.exitCode}): ${run.stderr.toString()}`);
  return run.stdout.toString();
}

/** Reads `serve`'s stdout until the banner's last line; returns the API URL and the proxy's port. */
async function banner(stdout: ReadableStream<Uint8Array>): Promise<{ api: string; proxyPort: number }> {
  const reader = stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const api = /dashboard and API: (http:\/\/\S+)/.exec(text)?.[1];
    const proxyPort = /sites: +http:\/\/\S+:(\d+)\s*$/m.exec(text)?.[1];
    if (api && proxyPort && /first account: .*\n/.test(text)) {
      reader.releaseLock();
      // The rest of its output is not needed; keep the pipe drained.
      void stdout.pipeTo(new WritableStream());
      return { api: api.replace("localhost", "127.0.0.1"), proxyPort: Number(proxyPort) };
    }
    const chunk = await reader.read();
    if (chunk.done) throw new Error(`serve exited before printing its URLs:\n${text}`);
    text += decoder.decode(chunk.value, { stream: true });
  }
}

interface ProcInfo {
  pid: number;
  ppid: number;
  name: string;
  rssKb: number;
}

function proc(pid: number): ProcInfo | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const field = (name: string) => new RegExp(`^${name}:\\s+(.*)$`, "m").exec(status)?.[1] ?? "";
    return {
      pid,
      ppid: Number(field("PPid")),
      name: field("Name"),
      rssKb: Number(/^(\d+)/.exec(field("VmRSS"))?.[1] ?? 0),
    };
  } catch {
    return null;
  }
}

/** The server process and every process below it (sandbox helpers, function instances, slirp4netns...). */
function tree(root: number): ProcInfo[] {
  const all = readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map((name) => proc(Number(name)))
    .filter((p): p is ProcInfo => p !== null);
  const children = new Map<number, ProcInfo[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const out: ProcInfo[] = [];
  const walk = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      out.push(child);
      walk(child.pid);
    }
  };
  const self = all.find((p) => p.pid === root);
  if (self) out.push(self);
  walk(root);
  return out;
}

/** The function instances among them: processes running the launcher. */
function instancePids(root: number): number[] {
  return tree(root)
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p.pid}/cmdline`, "utf8").includes("launcher");
      } catch {
        return false;
      }
    })
    .filter((p) => p.name !== "bwrap" && p.name !== "sh")
    .map((p) => p.pid);
}

interface Memory {
  serverMb: number;
  /** RSS summed over the server and its children (pages they share, such as Bun's own code, counted each time). */
  treeMb: number;
  /** Proportional set size summed: shared pages divided among those sharing them, so the memory really used. */
  treePssMb: number;
  processes: number;
  instances: number;
}

/** Pss of a process in kB (0 when it is gone). */
function pssKb(pid: number): number {
  try {
    return Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** `pss`: also sum the PSS (slower: the kernel walks every page table), else treePssMb is NaN. */
function memory(root: number, pss = true): Memory {
  const all = tree(root);
  return {
    serverMb: (all.find((p) => p.pid === root)?.rssKb ?? 0) / 1024,
    treeMb: all.reduce((sum, p) => sum + p.rssKb, 0) / 1024,
    treePssMb: pss ? all.reduce((sum, p) => sum + pssKb(p.pid), 0) / 1024 : Number.NaN,
    processes: all.length,
    instances: instancePids(root).length,
  };
}

/** CPU time (user + system) a process has used, in ms. */
function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after "pid (comm) ".
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}
const CLOCK_TICKS = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim()) || 100;

interface WrkResult {
  rps: number;
  p50ms: number;
  p99ms: number;
  errors: number;
  requests: number;
}

function parseDuration(text: string): number {
  const found = /([\d.]+)(us|ms|s|m)/.exec(text);
  if (!found) return Number.NaN;
  const value = Number(found[1]);
  const unit = found[2];
  return unit === "us" ? value / 1000 : unit === "ms" ? value : unit === "s" ? value * 1000 : value * 60_000;
}

function wrk(url: string, host: string, seconds: number): WrkResult {
  const argv = ["wrk", "-t1", "-c50", `-d${seconds}s`, "--latency", "-H", `Host: ${host}`, url];
  const run = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  const out = run.stdout.toString();
  if (run.exitCode !== 0) throw new Error(`wrk failed: ${run.stderr.toString()}`);
  const errors =
    Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) +
    (/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/
      .exec(out)
      ?.slice(1)
      .reduce((a, b) => a + Number(b), 0) ?? 0);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
    p50ms: parseDuration(/\s50%\s+(\S+)/.exec(out)?.[1] ?? ""),
    p99ms: parseDuration(/\s99%\s+(\S+)/.exec(out)?.[1] ?? ""),
    errors,
    requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? 0),
  };
}

need("wrk");
if (IDLE_SECONDS <= 2 * SECONDS + 5) {
  // The function's instance must stay up while the direct server has its turns (two in a row, as the order
  // alternates) in the warm rounds.
  console.error("bench/functions: BENCH_IDLE_SECONDS must be more than 2 x BENCH_SECONDS + 5");
  process.exit(2);
}
const problem = sandboxProblem();
const sandbox = problem === null ? "bwrap" : "none";
const work = tempDir("minivercel-bench-functions-");
const dataDir = join(work, "data");
const home = join(work, "home");
mkdirSync(home, { recursive: true });
const children: ReturnType<typeof Bun.spawn>[] = [];

try {
  console.log(
    problem === null
      ? "sandbox: bubblewrap (as in production)"
      : `sandbox: NONE (BUILD_SANDBOX=none): bubblewrap cannot run here: ${JSON.stringify(problem)}`,
  );
  const dataEnv = { MINIVERCEL_DATA: dataDir, HOME: home };
  cli(["user", "create", EMAIL, "--password-stdin"], dataEnv, "bench password\n");
  const token = cli(["token", "create", EMAIL, "--name", "bench"], dataEnv).trim();

  // BENCH_CPU_PROFILE=<dir>: the server writes a CPU profile (markdown) there when it stops.
  const profile = process.env.BENCH_CPU_PROFILE;
  const profiling = profile ? ["--cpu-prof-md", `--cpu-prof-dir=${resolve(profile)}`] : [];
  const server = Bun.spawn([process.execPath, ...profiling, MAIN, "serve"], {
    cwd: work,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: home,
      MINIVERCEL_DATA: dataDir,
      PORT: "0",
      PROXY_PORT: "0",
      LISTEN_HOST: "127.0.0.1",
      BUILD_SANDBOX: sandbox,
      FUNCTION_IDLE_SECONDS: String(IDLE_SECONDS),
      // The bench deploys hundreds of times in a few minutes: no request budgets.
      RATE_LIMIT_IP_PER_MINUTE: "0",
      RATE_LIMIT_USER_PER_MINUTE: "0",
      RATE_LIMIT_USER_WRITES_PER_MINUTE: "0",
      RATE_LIMIT_UPLOADS_PER_MINUTE: "0",
      LOG_LEVEL: "warn",
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "inherit",
  });
  children.push(server);
  const { api, proxyPort } = await banner(server.stdout);
  const proxy = `http://127.0.0.1:${proxyPort}`;
  const cliEnv = { HOME: home, MINIVERCEL_URL: api, MINIVERCEL_TOKEN: token };
  const created = await fetch(`${api}/api/projects`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "fnbench" }),
  });
  if (created.status !== 201)
    throw new Error(`POST /api/projects: ${created.status} ${await created.text()}`);
  const project = ((await created.json()) as { id: string }).id;

  let deployments = 0;
  /** Deploys a new Build Output with the CLI; returns the deployment's own host. */
  async function deployNew(): Promise<{ host: string; ms: number }> {
    deployments += 1;
    const dir = join(work, `app-${deployments}`);
    writeApp(dir, `deployment ${deployments} ${crypto.randomUUID()}`);
    const started = performance.now();
    const out = cli(["deploy", dir, "--prebuilt", "--prod", "--project", project, "--json"], cliEnv);
    const ms = performance.now() - started;
    rmSync(dir, { recursive: true, force: true });
    const { url, status } = JSON.parse(out) as { url: string; status: string };
    if (status !== "READY") throw new Error(`deployment ${deployments} is ${status}`);
    return { host: new URL(url).host, ms };
  }

  // --- cold start ---------------------------------------------------------------------------------
  const cold: number[] = [];
  const deployMs: number[] = [];
  let warmHost = "";
  for (let i = 0; i < COLD + 1; i++) {
    const { host, ms } = await deployNew();
    deployMs.push(ms);
    const started = performance.now();
    const res = await fetch(`${proxy}${PATH}`, { headers: { host } });
    const firstByte = performance.now() - started;
    const body = await res.text();
    if (res.status !== 200 || body !== BODY)
      throw new Error(`${host}${PATH} answered ${res.status}: ${body}`);
    // The first deployment warms the server's own code paths (route table, bundles directory); not counted.
    if (i > 0) cold.push(firstByte);
    warmHost = host;
    console.log(
      `cold start ${i === 0 ? "(warm-up)" : i}: ${firstByte.toFixed(1)} ms (deploy ${ms.toFixed(0)} ms)`,
    );
  }

  // --- warm ----------------------------------------------------------------------------------------
  const directDir = join(work, "direct");
  mkdirSync(directDir, { recursive: true });
  writeFileSync(join(directDir, "index.mjs"), handlerSource("direct"));
  const directPort = await freePort();
  writeFileSync(
    join(directDir, "serve.mjs"),
    `import { GET } from "./index.mjs";\nBun.serve({ hostname: "127.0.0.1", port: ${directPort}, fetch: GET });\n`,
  );
  const direct = Bun.spawn([process.execPath, join(directDir, "serve.mjs")], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", NODE_ENV: "production" },
    stdout: "inherit",
    stderr: "inherit",
  });
  children.push(direct);
  for (let i = 0; ; i++) {
    const ok = await fetch(`http://127.0.0.1:${directPort}/`).then(
      async (r) => (await r.text()) === BODY,
      () => false,
    );
    if (ok) break;
    if (i > 200) throw new Error("the direct server did not answer");
    await Bun.sleep(20);
  }
  // CPU per request, by process: where the function path spends what the direct server does not.
  const targets = [
    {
      name: "function via proxy",
      url: `${proxy}${PATH}`,
      host: warmHost,
      parts: () => ({ proxy: [server.pid], instance: instancePids(server.pid) }),
    },
    {
      name: "Bun.serve, same handler",
      url: `http://127.0.0.1:${directPort}${PATH}`,
      host: "localhost",
      parts: () => ({ server: [direct.pid] }),
    },
  ];
  for (const t of targets) wrk(t.url, t.host, 2); // warm-up
  const warm = new Map<string, WrkResult[]>();
  const cpu = new Map<string, number[]>();
  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 === 1 ? targets : [...targets].reverse();
    for (const t of order) {
      const parts = Object.entries(t.parts());
      const before = parts.map(([, pids]) => pids.reduce((sum, pid) => sum + cpuMs(pid), 0));
      const r = wrk(t.url, t.host, SECONDS);
      const used = parts.map(
        ([part, pids], i) =>
          [
            part,
            ((pids.reduce((sum, pid) => sum + cpuMs(pid), 0) - (before[i] ?? 0)) * 1000) / r.requests,
          ] as const,
      );
      for (const [part, us] of used) {
        const key = `${t.name}|${part}`;
        cpu.set(key, [...(cpu.get(key) ?? []), us]);
      }
      warm.set(t.name, [...(warm.get(t.name) ?? []), r]);
      console.log(
        `round ${round} ${t.name}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50ms.toFixed(2)} ms, p99 ${r.p99ms.toFixed(2)} ms${r.errors ? `, ${r.errors} errors` : ""}; CPU per request: ${used.map(([part, us]) => `${part} ${us.toFixed(1)} µs`).join(", ")}`,
      );
    }
  }
  direct.kill("SIGTERM");
  await direct.exited;

  // --- idle ----------------------------------------------------------------------------------------
  console.log(`\nwaiting for the instances so far to stop (FUNCTION_IDLE_SECONDS=${IDLE_SECONDS})`);
  await Bun.sleep((IDLE_SECONDS + 3) * 1000);
  const baseline = memory(server.pid);
  let peak = baseline;
  // While hitting, RSS only (fast): the peak's PSS is not summed.
  const sample = (pss = false) => {
    const now = memory(server.pid, pss);
    if (now.treeMb > peak.treeMb) peak = now;
    return now;
  };
  // Per batch: all deployed first, then each hit once (HIT_CONCURRENCY at a time, so that the instances are all up
  // at once: none idles out before the last request), then all left idle. Past the idle timeout, then on: the
  // instances are gone at once, the server's heap is given back over a minute or two (the garbage collector and
  // the allocator return pages lazily). A second batch tells a one-time high-water mark from a cost per deployment.
  const rows: [string, Memory][] = [["baseline (before)", baseline]];
  let last = baseline;
  for (let batch = 1; batch <= IDLE_BATCHES; batch++) {
    const hosts: string[] = [];
    for (let i = 0; i < IDLE_DEPLOYMENTS; i++) {
      hosts.push((await deployNew()).host);
      if ((i + 1) % 50 === 0) console.log(`batch ${batch}: ${i + 1} deployments made`);
    }
    const made = batch * IDLE_DEPLOYMENTS;
    rows.push([`${made} deployments made, the last ${IDLE_DEPLOYMENTS} not requested yet`, sample(true)]);
    peak = baseline;
    const hitStarted = performance.now();
    let hit = 0;
    const next = async (): Promise<void> => {
      const host = hosts.shift();
      if (host === undefined) return;
      const res = await fetch(`${proxy}${PATH}`, { headers: { host } });
      if (res.status !== 200 || (await res.text()) !== BODY)
        throw new Error(`${host} answered ${res.status}`);
      hit += 1;
      const now = sample();
      if (hit % 50 === 0)
        console.log(
          `batch ${batch}: ${hit} hit: server ${now.serverMb.toFixed(1)} MB, with children ${now.treeMb.toFixed(1)} MB, ${now.instances} instances`,
        );
      return next();
    };
    await Promise.all(Array.from({ length: HIT_CONCURRENCY }, next));
    const hitSeconds = (performance.now() - hitStarted) / 1000;
    const busy = sample(true);
    rows.push([`peak while hitting the ${IDLE_DEPLOYMENTS} new ones once each`, peak]);
    rows.push([`just after the last request (${hitSeconds.toFixed(1)} s of hits)`, busy]);
    const hitsEnded = performance.now();
    for (const at of [IDLE_SECONDS + 5, IDLE_SECONDS + 35, IDLE_SECONDS + 65, IDLE_SECONDS + 125]) {
      await Bun.sleep(Math.max(0, at * 1000 - (performance.now() - hitsEnded)));
      last = memory(server.pid);
      rows.push([`${at} s after the last request`, last]);
    }
  }

  // --- report --------------------------------------------------------------------------------------
  console.log(
    `\nsandbox: ${sandbox === "bwrap" ? "bubblewrap (as in production)" : "none (bubblewrap unavailable here)"}`,
  );
  console.log(
    `deploy with the CLI (--prebuilt, built by the server's worker): median ${median(deployMs).toFixed(0)} ms`,
  );
  console.log(`\nCold start: request sent -> first byte, ${cold.length} new deployments (ms)\n`);
  console.log("| p50 | p95 | max | min | aim |");
  console.log("|---|---|---|---|---|");
  console.log(
    `| ${median(cold).toFixed(0)} | ${percentile(cold, 95).toFixed(0)} | ${Math.max(...cold).toFixed(0)} | ${Math.min(...cold).toFixed(0)} | p50 < 250: ${median(cold) < 250 ? "met" : "NOT met"} |`,
  );

  console.log(`\nWarm: wrk -t1 -c50 -d${SECONDS}s, median of ${ROUNDS} interleaved rounds\n`);
  console.log("| server | req/s | p50 ms | p99 ms | errors | CPU per request (median) |");
  console.log("|---|---|---|---|---|---|");
  const cell = (name: string) => {
    const rs = warm.get(name) ?? [];
    return {
      rps: median(rs.map((r) => r.rps)),
      p50: median(rs.map((r) => r.p50ms)),
      p99: median(rs.map((r) => r.p99ms)),
      errors: rs.reduce((a, r) => a + r.errors, 0),
    };
  };
  for (const t of targets) {
    const c = cell(t.name);
    console.log(
      `| ${t.name} | ${c.rps.toFixed(0)} | ${c.p50.toFixed(2)} | ${c.p99.toFixed(2)} | ${c.errors} | ${Object.keys(
        t.parts(),
      )
        .map((part) => `${part} ${median(cpu.get(`${t.name}|${part}`) ?? []).toFixed(1)} µs`)
        .join(", ")} |`,
    );
  }
  const ratio = cell(targets[0]?.name ?? "").rps / cell(targets[1]?.name ?? "").rps;
  console.log(
    `\nratio (function / direct): ${ratio.toFixed(2)}, aim >= 0.7: ${ratio >= 0.7 ? "met" : "NOT met"}`,
  );

  console.log(
    `\nIdle: ${IDLE_BATCHES} x ${IDLE_DEPLOYMENTS} deployments, each hit once, then idle (FUNCTION_IDLE_SECONDS=${IDLE_SECONDS})\n`,
  );
  console.log(
    "| sample | server RSS MB | server + children: RSS MB | server + children: PSS MB | processes | live instances |",
  );
  console.log("|---|---|---|---|---|---|");
  for (const [label, m] of rows) {
    console.log(
      `| ${label} | ${m.serverMb.toFixed(1)} | ${m.treeMb.toFixed(1)} | ${Number.isNaN(m.treePssMb) ? "-" : m.treePssMb.toFixed(1)} | ${m.processes} | ${m.instances} |`,
    );
  }
  const grew = last.treeMb - baseline.treeMb;
  const met = last.instances === 0 && last.processes === 1 && grew < 10;
  console.log(
    `\nlast sample - baseline: ${grew.toFixed(1)} MB, ${last.instances} live instances, ${last.processes - 1} child processes: ${met ? "cost no memory (met)" : "NOT met"} (aim: no instance or child left, RSS within 10 MB of the baseline)`,
  );
} finally {
  for (const child of children) child.kill("SIGTERM");
  await Promise.all(children.map((c) => Promise.race([c.exited, Bun.sleep(10_000)])));
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
}

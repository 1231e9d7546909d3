// Bench: our proxy against nginx serving the same generated site (bench/proxy-site.ts), under wrk, interleaved,
// three rounds: one process, PROXY_PROCESSES=auto, one process with web analytics off (ANALYTICS=0), and nginx
// (worker_processes auto). Every request carries a browser's User-Agent and Referer (analytics parses both).
// Needs nginx and wrk (apt-get install nginx wrk); installs nothing. Run: bun bench/proxy.ts
// BENCH_SERVERS picks the servers (default all): proxy,proxy-auto,proxy-noanalytics,nginx,bun,bun-auto (bun: the
// floor, a bare Bun.serve answering from memory, bench/bun-floor.ts); with proxy and proxy-noanalytics both, it
// prints analytics on / off (requests/s and CPU per request, per round and median).
// BENCH_SECONDS (default 10) sets each wrk run's duration; BENCH_ROUNDS (default 3) the rounds (0: no wrk runs);
// BENCH_CASES (default index,pages,bundle,404; also page, index-script) picks the cases;
// BENCH_WRK (default "-t2 -c64") wrk's threads and connections; BENCH_IN_PROCESS=1 adds the proxy's handler alone,
// in process, analytics on against off (bench/proxy-in-process.ts); BENCH_CPU_PROF=<dir> writes a CPU profile
// (Markdown, bun --cpu-prof-md) of the one-process proxy there; BENCH_PERF=<dir> records each server's first-round
// run of each case with `perf record` (kernel and native code included, which a JavaScript profile cannot see) and
// prints where its CPU went: the share of the kernel, the server's binary, libc and JIT code, the top symbols, and
// the JavaScript functions by name (from the jitdump files Bun writes there, bench/lib/jitdump.ts).

import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { tempDir } from "../src/testing/deps.ts";
import { jitShares, readJitDumps } from "./lib/jitdump.ts";
import { output, processes } from "./lib/proc.ts";
import { BUNDLE, deploy, generateSite, HOST, nginxConfig, PAGES, precompressForNginx } from "./proxy-site.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** wrk's load, as in issue #20: two threads, 64 connections (the analytics runs of issue #21 used -t1 -c50). */
const WRK = (process.env.BENCH_WRK ?? "-t2 -c64").split(" ").filter((a) => a !== "");
const CPU_PROF = process.env.BENCH_CPU_PROF ?? null;
const PERF = process.env.BENCH_PERF ?? null;
/** Where the Bun servers write their jitdump files when profiled (bench/lib/jitdump.ts). */
const JIT_DIR = PERF === null ? null : join(PERF, "jit");
const IN_PROCESS = process.env.BENCH_IN_PROCESS === "1";
/** Every request as a browser would send it: analytics parses the agent and the Referer. */
const BROWSER = {
  "User-Agent":
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
  Referer: "https://news.example.com/item?id=42",
};

/** The servers it can compare, by their BENCH_SERVERS name. */
const SERVERS = {
  proxy: { name: "minivercel, 1 process", processes: "1", analytics: "1" },
  "proxy-auto": { name: "minivercel, auto", processes: "auto", analytics: "1" },
  "proxy-noanalytics": { name: "minivercel, 1 process, analytics off", processes: "1", analytics: "0" },
  nginx: { name: "nginx, auto" },
  /** The floor of any proxy on Bun: a bare Bun.serve answering from memory (bench/bun-floor.ts). */
  bun: { name: "bare Bun.serve, 1 process", processes: "1" },
  "bun-auto": { name: "bare Bun.serve, 2 processes", processes: "2" },
} as const;
type Ours = "proxy" | "proxy-auto" | "proxy-noanalytics";
const isOurs = (key: ServerKey): key is Ours => key.startsWith("proxy");
type ServerKey = keyof typeof SERVERS;
const isServerKey = (key: string): key is ServerKey => Object.hasOwn(SERVERS, key);

function selectedServers(): ServerKey[] {
  const keys = (process.env.BENCH_SERVERS ?? Object.keys(SERVERS).join(","))
    .split(",")
    .map((k) => k.trim())
    .filter((k) => k !== "");
  const unknown = keys.filter((k) => !isServerKey(k));
  if (unknown.length > 0 || keys.length === 0) {
    console.error(
      `bench/proxy: BENCH_SERVERS must name some of ${Object.keys(SERVERS).join(", ")} (got ${unknown.join(", ") || "none"})`,
    );
    process.exit(2);
  }
  return [...new Set(keys.filter(isServerKey))];
}

function need(command: string): void {
  if (Bun.which(command) === null) {
    const from = command === "perf" ? "linux-perf" : "nginx wrk";
    console.error(`bench/proxy: ${command} is not installed (apt-get install ${from})`);
    process.exit(2);
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitHttp(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/`, { headers: { host: HOST } });
      return;
    } catch {
      await Bun.sleep(50);
    }
  }
  throw new Error(`nothing answered on port ${port}`);
}

interface Case {
  name: string;
  path: string;
  headers: Record<string, string>;
  /** A wrk Lua script (the pages case picks one of the 1,000 pages at random per request). */
  script?: string;
  /** The expected status (200 unless said). */
  status?: number;
}

interface Result {
  rps: number;
  p99ms: number;
  errors: number;
  /** Requests wrk completed in the run. */
  requests: number;
  /** CPU time (user + system) the server's processes spent per request, microseconds: less noisy than req/s. */
  cpuUs: number;
  /** The system (kernel) part of cpuUs: the sockets' work, which no server's own code can shave. */
  systemUs: number;
  /** With BENCH_PERF: where the server's CPU went in this run. */
  profile: string | null;
}

/** A server's processes: `root` and its children (nginx's workers, our extra proxy processes). */
const serverProcesses = (root: number) => processes().filter((p) => p.pid === root || p.ppid === root);

/** CPU seconds used so far by `root` and its child processes (a server's workers), in all and in the kernel. */
function treeCpuSeconds(root: number): { cpu: number; system: number } {
  const mine = serverProcesses(root);
  return {
    cpu: mine.reduce((sum, p) => sum + p.cpu, 0),
    system: mine.reduce((sum, p) => sum + p.system, 0),
  };
}

function parseDuration(text: string): number {
  const found = /([\d.]+)(us|ms|s|m)/.exec(text);
  if (!found) return Number.NaN;
  const value = Number(found[1]);
  return found[2] === "us"
    ? value / 1000
    : found[2] === "ms"
      ? value
      : found[2] === "s"
        ? value * 1000
        : value * 60_000;
}

/**
 * Records `pid` and its children with perf for most of a wrk run of `seconds` (from a second in, so that the
 * connections are open); `report` prints the summary once the run is over.
 */
function perfRecord(pid: number, seconds: number, out: string): { report(): Promise<string> } {
  const pids = serverProcesses(pid)
    .map((p) => p.pid)
    .join(",");
  const recording = (async () => {
    await Bun.sleep(1000);
    const perf = Bun.spawn(
      [
        "perf",
        "record",
        "-F",
        "999",
        "-g",
        "-p",
        pids,
        "-o",
        out,
        "--",
        "sleep",
        String(Math.max(1, seconds - 2)),
      ],
      { stdout: "ignore", stderr: "ignore" },
    );
    await perf.exited;
  })();
  const report = async (sort: string) => {
    const { stdout } = await output([
      "perf",
      "report",
      "-i",
      out,
      "--no-children",
      "-g",
      "none",
      "--sort",
      sort,
    ]);
    return stdout.split("\n").filter((line) => /^\s+[\d.]+%/.test(line));
  };
  const top = async (sort: string, lines: number) =>
    (await report(sort))
      .slice(0, lines)
      .map((line) => line.trim().replace(/\s+/g, " "))
      .join("; ");
  return {
    async report() {
      await recording;
      const js = jitShares(await report("dso,sym"), JIT_DIR === null ? new Map() : readJitDumps(JIT_DIR))
        .slice(0, 8)
        .map(([name, percent]) => `${percent.toFixed(2)}% ${name}`)
        .join("; ");
      return `  perf: ${await top("dso", 5)}\n  top: ${await top("sym", 8)}${js ? `\n  js: ${js}` : ""}`;
    },
  };
}

async function wrk(port: number, c: Case, pid: number, perfOut: string | null): Promise<Result> {
  const perf = perfOut === null ? null : perfRecord(pid, SECONDS, perfOut);
  const cpuBefore = treeCpuSeconds(pid);
  const argv = ["wrk", ...WRK, `-d${SECONDS}s`, "--latency", "-H", `Host: ${HOST}`];
  for (const [k, v] of Object.entries({ ...BROWSER, ...c.headers })) argv.push("-H", `${k}: ${v}`);
  if (c.script) argv.push("-s", c.script);
  argv.push(`http://127.0.0.1:${port}${c.path}`);
  // Asynchronous, so that perf can start while wrk runs.
  const { stdout: out, stderr: err, code: exitCode } = await output(argv);
  if (exitCode !== 0) throw new Error(`wrk failed: ${err}`);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p99 = parseDuration(/\s99%\s+(\S+)/.exec(out)?.[1] ?? "");
  const errors =
    // The 404 case expects nothing but non-2xx answers.
    (c.status === undefined ? Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) : 0) +
    Number(
      /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/
        .exec(out)
        ?.slice(1)
        .reduce((a, b) => a + Number(b), 0) ?? 0,
    );
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const cpuAfter = treeCpuSeconds(pid);
  const perRequest = (seconds: number) => (requests > 0 ? (seconds * 1e6) / requests : Number.NaN);
  const cpuUs = perRequest(cpuAfter.cpu - cpuBefore.cpu);
  const systemUs = perRequest(cpuAfter.system - cpuBefore.system);
  const profile = perf ? await perf.report() : null;
  return { rps, p99ms: p99, errors, requests, cpuUs, systemUs, profile };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/** One server's medians for one case. */
interface Cell {
  rps: number;
  p99: number;
  cpu: number;
  /** The kernel's part of `cpu`. */
  system: number;
  errors: number;
}

const fmt = (x: Cell) =>
  `${x.rps.toFixed(0)} req/s; p99 ${x.p99.toFixed(2)} ms; ${x.cpu.toFixed(1)} µs CPU (${x.system.toFixed(1)} kernel)${x.errors ? ` (${x.errors} errors)` : ""}`;

/** Starts one of ours over `dataDir` on `port`. */
async function startOurs(key: Ours, dataDir: string, port: number): Promise<Bun.Subprocess> {
  const { processes, analytics } = SERVERS[key];
  const profile =
    CPU_PROF && key === "proxy" ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${CPU_PROF}`] : [];
  return Bun.spawn(["bun", ...profile, "src/main.ts", "serve", "--role=proxy"], {
    env: {
      ...process.env,
      MINIVERCEL_DATA: dataDir,
      PROXY_PORT: String(port),
      PROXY_PROCESSES: processes,
      LISTEN_HOST: "127.0.0.1",
      ANALYTICS: analytics,
    },
    stdout: "ignore",
    stderr: "inherit",
  });
}

const keys = ROUNDS > 0 ? selectedServers() : [];
if (keys.includes("nginx")) need("nginx");
if (keys.length > 0) need("wrk");
if (PERF !== null && JIT_DIR !== null) {
  need("perf");
  // Every Bun server started from here (ours, the floor) writes what it compiles, so that the report can name
  // JavaScript functions where perf sees addresses (bench/lib/jitdump.ts). Read by the child processes only.
  process.env.BUN_JSC_useJITDump = "1";
  process.env.BUN_JSC_jitDumpDirectory = JIT_DIR;
  mkdirSync(JIT_DIR, { recursive: true });
}
const work = tempDir("minivercel-bench-proxy-");
const site = join(work, "site");
const dataDir = join(work, "data");
const children: Bun.Subprocess[] = [];
try {
  console.log(`generating the site and deploying it into ${dataDir}`);
  generateSite(site);
  await deploy(dataDir, site);
  await precompressForNginx(site);

  // Ours over the same data directory (one process, as before #20; one per core; one with analytics off) and
  // nginx. The proxies flush analytics on the in-process bus, where no worker listens: what is measured is the
  // proxy's own share (counting, hashing, sending).
  const servers: { key: ServerKey; name: string; port: number; pid: number }[] = [];
  for (const key of keys) {
    const port = await freePort();
    const child =
      key === "nginx"
        ? Bun.spawn(["nginx", "-c", nginxConfig(work, site, port, "auto"), "-p", work], { stderr: "inherit" })
        : isOurs(key)
          ? await startOurs(key, dataDir, port)
          : Bun.spawn(["bun", "bench/bun-floor.ts", site, String(port), SERVERS[key].processes], {
              // Passed on explicitly: Bun.spawn's default environment leaves out the BUN_JSC_ variables set above.
              env: { ...process.env },
              stderr: "inherit",
            });
    children.push(child);
    servers.push({ key, name: SERVERS[key].name, port, pid: child.pid });
  }
  await Promise.all(servers.map((s) => waitHttp(s.port)));
  // The auto proxy's extra processes start after its first one answers: give them a moment.
  if (keys.includes("proxy-auto")) await Bun.sleep(2000);

  const pagesScript = join(work, "pages.lua");
  writeFileSync(
    pagesScript,
    `math.randomseed(42)\nrequest = function()\n  return wrk.format("GET", "/pages/p" .. math.random(0, ${PAGES - 1}))\nend\n`,
  );
  const indexScript = join(work, "index.lua");
  writeFileSync(indexScript, `request = function()\n  return wrk.format("GET", "/")\nend\n`);
  const allCases: Record<string, Case> = {
    index: { name: "index.html (2 KB)", path: "/", headers: {} },
    pages: {
      name: "random small pages (1,000 x 1-4 KB, clean URLs)",
      path: "/pages/p0",
      headers: {},
      script: pagesScript,
    },
    bundle: {
      name: "bundle 150 KB, Accept-Encoding: gzip",
      path: BUNDLE,
      headers: { "Accept-Encoding": "gzip" },
    },
    "404": {
      name: "404 (a missing .js: no SPA fallback)",
      path: "/assets/missing.0000.js",
      headers: {},
      status: 404,
    },
    // Diagnostics (not in the default set): one small page without a script, and the index through a script, to
    // tell the cost of many paths from the cost of wrk's Lua request function.
    page: { name: "one small page (/pages/p0)", path: "/pages/p0", headers: {} },
    "index-script": { name: "index.html through a wrk script", path: "/", headers: {}, script: indexScript },
  };
  const picked = (process.env.BENCH_CASES ?? "index,pages,bundle,404").split(",").map((c) => c.trim());
  const unknownCase = picked.find((c) => !(c in allCases));
  if (unknownCase !== undefined) {
    console.error(`bench/proxy: no case "${unknownCase}" (cases: ${Object.keys(allCases).join(", ")})`);
    process.exit(2);
  }
  const cases = picked.map((c) => allCases[c] as Case);

  // Same bytes from all before measuring anything (404 pages differ: each server has its own; the status must match).
  for (const c of servers.length > 0 ? cases : []) {
    const bodies = await Promise.all(
      servers.map(async (s) => {
        const res = await fetch(`http://127.0.0.1:${s.port}${c.path}`, {
          headers: { host: HOST, ...BROWSER, ...c.headers },
        });
        if (res.status !== (c.status ?? 200))
          throw new Error(`${s.name} answered ${res.status} for ${c.path}`);
        const body = await res.arrayBuffer();
        return c.status === 404 ? "404" : Bun.hash(body);
      }),
    );
    if (new Set(bodies).size !== 1) throw new Error(`the servers disagree on ${c.path}`);
  }
  const ours = servers.find((s) => isOurs(s.key));
  if (ours) {
    const gz = await fetch(`http://127.0.0.1:${ours.port}${BUNDLE}`, {
      headers: { host: HOST, "accept-encoding": "gzip" },
      decompress: false,
    } as RequestInit);
    console.log(
      `bundle over gzip: ${gz.headers.get("content-length")} bytes (${gz.headers.get("content-encoding")})`,
    );
  }

  // warm-up: every server, every case, 2 s
  const results = new Map<string, Result[]>();
  for (const c of servers.length > 0 ? cases : [])
    for (const s of servers) {
      const headers = Object.entries(BROWSER).flatMap(([k, v]) => ["-H", `${k}: ${v}`]);
      Bun.spawnSync([
        "wrk",
        ...WRK,
        "-d2s",
        "-H",
        `Host: ${HOST}`,
        ...headers,
        `http://127.0.0.1:${s.port}${c.path}`,
      ]);
    }
  for (let round = 1; round <= ROUNDS; round++) {
    for (const c of cases) {
      // Interleaved: each case runs on every server within the same minute; the server order rotates per round.
      const order = servers
        .map((_, i) => servers[(i + round) % servers.length])
        .filter((s) => s !== undefined);
      for (const s of order) {
        const perfOut =
          PERF !== null && round === 1 ? join(PERF, `${s.key}-${c.path.replace(/\W+/g, "_")}.data`) : null;
        const r = await wrk(s.port, c, s.pid, perfOut);
        const key = `${c.name}|${s.key}`;
        results.set(key, [...(results.get(key) ?? []), r]);
        console.log(
          `round ${round} ${c.name} ${s.name}: ${r.rps.toFixed(0)} req/s, p99 ${r.p99ms.toFixed(2)} ms, ${r.cpuUs.toFixed(1)} µs CPU/request (${r.systemUs.toFixed(1)} in the kernel)${r.errors ? `, ${r.errors} errors` : ""}`,
        );
        if (r.profile !== null) console.log(r.profile);
      }
    }
  }

  const runs = (c: Case, key: ServerKey) => results.get(`${c.name}|${key}`) ?? [];
  const cell = (c: Case, key: ServerKey): Cell => {
    const rs = runs(c, key);
    return {
      rps: median(rs.map((r) => r.rps)),
      p99: median(rs.map((r) => r.p99ms)),
      cpu: median(rs.map((r) => r.cpuUs)),
      system: median(rs.map((r) => r.systemUs)),
      errors: rs.reduce((a, r) => a + r.errors, 0),
    };
  };
  if (servers.length > 0) {
    console.log(
      `\nwrk ${WRK.join(" ")} -d${SECONDS}s, median of ${ROUNDS} interleaved rounds (req/s; p99 ms; CPU per request)\n`,
    );
    const against = servers.filter((s) => s.key !== "nginx" && keys.includes("nginx"));
    console.log(
      `| case | ${[...servers.map((s) => s.name), ...against.map((s) => `${s.name} / nginx`)].join(" | ")} |`,
    );
    console.log(`|---|${"---|".repeat(servers.length + against.length)}`);
    for (const c of cases) {
      const nginx = cell(c, "nginx");
      const ratios = against.map((s) => (cell(c, s.key).rps / nginx.rps).toFixed(2));
      console.log(`| ${c.name} | ${[...servers.map((s) => fmt(cell(c, s.key))), ...ratios].join(" | ")} |`);
    }
  }
  if (keys.includes("proxy") && keys.includes("proxy-noanalytics")) {
    // Analytics: what it costs, per round (the pair ran in the same round), then the median of the rounds; CPU per
    // request is the steadier figure on a shared machine (above 1: analytics costs CPU).
    console.log(
      "\n| case | analytics on | analytics off | req/s on / off (median) | per round | CPU per request on / off (median) | per round |",
    );
    console.log("|---|---|---|---|---|---|---|");
    for (const c of cases) {
      const on = runs(c, "proxy");
      const off = runs(c, "proxy-noanalytics");
      const rps = on.map((r, i) => r.rps / (off[i]?.rps ?? Number.NaN));
      const cpu = on.map((r, i) => r.cpuUs / (off[i]?.cpuUs ?? Number.NaN));
      const list = (xs: number[]) => xs.map((x) => x.toFixed(3)).join(", ");
      console.log(
        `| ${c.name} | ${fmt(cell(c, "proxy"))} | ${fmt(cell(c, "proxy-noanalytics"))} | ${median(rps).toFixed(3)} | ${list(rps)} | ${median(cpu).toFixed(3)} | ${list(cpu)} |`,
      );
    }
  }
  if (IN_PROCESS) {
    const { compareInProcess } = await import("./proxy-in-process.ts");
    await compareInProcess(dataDir, BROWSER);
  }
  console.log(`\nload: ${Bun.spawnSync(["uptime"]).stdout.toString().trim()}`);
} finally {
  for (const child of children) child.kill("SIGTERM");
  await Promise.all(children.map((c) => c.exited));
  rmSync(work, { recursive: true, force: true });
}

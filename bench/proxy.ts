// Bench: our proxy (one process, and PROXY_PROCESSES=auto) against nginx (worker_processes auto) serving the
// same generated site, under wrk, interleaved, three rounds.
// Needs nginx and wrk (apt-get install nginx wrk); installs nothing. Run: bun bench/proxy.ts
// BENCH_SECONDS (default 10) sets each wrk run's duration; BENCH_ROUNDS (default 3) the rounds;
// BENCH_CPU_PROF=<dir> writes a CPU profile (Markdown, bun --cpu-prof-md) of the one-process proxy there.

import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { uploadOutput } from "../builder/upload.ts";
import { loadConfig } from "../src/config/config.ts";
import { createProject } from "../src/deploy/projects.ts";
import { openDeps } from "../src/deps.ts";
import { createUser } from "../src/identity/accounts.ts";
import { tempDir } from "../src/testing/deps.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const HOST = "bench.localhost";
const BUNDLE = "/assets/app.3f9a1c2b.js";
const PAGES = 1000;
/** wrk's load, as in issue #20: two threads, 64 connections. */
const WRK = ["-t2", "-c64"];
const CPU_PROF = process.env.BENCH_CPU_PROF ?? null;

function need(command: string): void {
  if (Bun.which(command) === null) {
    console.error(`bench/proxy: ${command} is not installed (apt-get install nginx wrk)`);
    process.exit(2);
  }
}

/** Deterministic pseudo-random numbers, so every run generates the same site. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

const WORDS =
  "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua deploy static site preview branch rollback".split(
    " ",
  );

function prose(rand: () => number, bytes: number): string {
  let out = "";
  while (out.length < bytes) out += `${WORDS[Math.floor(rand() * WORDS.length)]} `;
  return out.slice(0, bytes);
}

/** Minified-looking JavaScript: identifiers and literals vary, as in a real bundle (compresses ~3-4x). */
function bundle(rand: () => number, bytes: number): string {
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const id = Math.floor(rand() * 1e6).toString(36);
    const part = `function ${id}_${i}(e,t){var n=e.${WORDS[i % WORDS.length]}||${Math.floor(rand() * 1e5)};return t.push("${prose(rand, 12 + Math.floor(rand() * 20))}"),n*${(rand() * 100).toFixed(3)}}`;
    parts.push(part);
    size += part.length;
  }
  return parts.join(";").slice(0, bytes);
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title><script type="module" src="${BUNDLE}"></script></head><body><main><h1>${title}</h1><p>${body}</p></main></body></html>\n`;
}

/** The site: a 2 KB index, a 150 KB bundle, 1,000 pages of 1-4 KB, a 500 KB image. */
function generateSite(root: string): void {
  const rand = random(42);
  const write = (path: string, content: string | Uint8Array) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  };
  const index = page("Home", prose(rand, 1700));
  write("index.html", `${index}<!--${"x".repeat(Math.max(0, 2048 - index.length - 8))}-->\n`);
  write(BUNDLE.slice(1), bundle(rand, 150 * 1024));
  for (let i = 0; i < PAGES; i++)
    write(`pages/p${i}.html`, page(`Page ${i}`, prose(rand, 900 + Math.floor(rand() * 3000))));
  const image = new Uint8Array(500 * 1024);
  for (let i = 0; i < image.length; i++) image[i] = Math.floor(rand() * 256);
  image.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  write("img/hero.png", image);
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

/** Stores the site as the production deployment of project "bench" in `dataDir` (as a build would). */
async function deploy(dataDir: string, site: string): Promise<void> {
  const deps = await openDeps(loadConfig({ MINIVERCEL_DATA: dataDir }));
  try {
    const user = await createUser(deps.store, "bench@example.com", "bench password");
    const project = await createProject(deps.store, deps.config, user.id, {
      name: "bench",
      subDomain: "bench",
    });
    const d = await deps.store.deployments.create({
      projectId: project.id,
      userId: user.id,
      status: "QUEUED",
      target: "production",
      branch: "main",
      commitSha: null,
    });
    await deps.store.deployments.transition(d.id, "IN_PROGRESS", null);
    await uploadOutput(deps.artifacts, d.id, site, { log: (m) => console.log(`  upload: ${m}`) });
    await deps.store.deployments.markReady(d.id);
  } finally {
    await deps.close();
  }
}

function nginxConfig(dir: string, site: string, port: number, workers: string): string {
  const conf = join(dir, `nginx-${workers}.conf`);
  for (const d of ["body", "proxy", "fastcgi", "uwsgi", "scgi"]) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(
    conf,
    `${process.getuid?.() === 0 ? "user root;\n" : ""}worker_processes ${workers};
daemon off;
pid ${join(dir, `nginx-${workers}.pid`)};
error_log ${join(dir, `nginx-${workers}.log`)} warn;
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  open_file_cache max=10000 inactive=60s;
  open_file_cache_valid 60s;
  open_file_cache_errors on;
  gzip_static on;
  gzip_vary on;
  client_body_temp_path ${join(dir, "body")};
  proxy_temp_path ${join(dir, "proxy")};
  fastcgi_temp_path ${join(dir, "fastcgi")};
  uwsgi_temp_path ${join(dir, "uwsgi")};
  scgi_temp_path ${join(dir, "scgi")};
  server {
    listen 127.0.0.1:${port} reuseport backlog=4096;
    server_name ${HOST};
    root ${site};
    location / {
      try_files $uri $uri.html $uri/ =404;
      add_header Cache-Control "public, max-age=0, must-revalidate";
      add_header X-Content-Type-Options nosniff;
    }
    location /assets/ {
      add_header Cache-Control "public, max-age=31536000, immutable";
      add_header X-Content-Type-Options nosniff;
    }
  }
}
`,
  );
  return conf;
}

/** gzip_static serves <file>.gz: precompress what our upload precompresses (text over 1 KB), at level 9. */
async function precompressForNginx(site: string): Promise<void> {
  const glob = new Bun.Glob("**/*.{html,js}");
  for await (const path of glob.scan(site)) {
    const data = await Bun.file(join(site, path)).bytes();
    if (data.length >= 1024) writeFileSync(join(site, `${path}.gz`), gzipSync(data, { level: 9 }));
  }
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
}

const TICKS_PER_SECOND = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim()) || 100;

/** CPU seconds used so far by `root` and its child processes (a server's workers). */
function treeCpuSeconds(root: number): number {
  let ticks = 0;
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // fields[1] is the parent pid; fields[11] and [12] are utime and stime (man 5 proc, from field 3 on).
      if (Number(name) === root || Number(fields[1]) === root)
        ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // Gone meanwhile.
    }
  }
  return ticks / TICKS_PER_SECOND;
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

function wrk(port: number, c: Case, pid: number): Result {
  const cpuBefore = treeCpuSeconds(pid);
  const argv = ["wrk", ...WRK, `-d${SECONDS}s`, "--latency", "-H", `Host: ${HOST}`];
  for (const [k, v] of Object.entries(c.headers)) argv.push("-H", `${k}: ${v}`);
  if (c.script) argv.push("-s", c.script);
  argv.push(`http://127.0.0.1:${port}${c.path}`);
  const run = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  const out = run.stdout.toString();
  if (run.exitCode !== 0) throw new Error(`wrk failed: ${run.stderr.toString()}`);
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
  const cpuUs = requests > 0 ? ((treeCpuSeconds(pid) - cpuBefore) * 1e6) / requests : Number.NaN;
  return { rps, p99ms: p99, errors, requests, cpuUs };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

need("nginx");
need("wrk");
const work = tempDir("minivercel-bench-proxy-");
const site = join(work, "site");
const dataDir = join(work, "data");
const children: ReturnType<typeof Bun.spawn>[] = [];
try {
  console.log(`generating the site and deploying it into ${dataDir}`);
  generateSite(site);
  await deploy(dataDir, site);
  await precompressForNginx(site);

  // Two of ours over the same data directory: one process (as before #20), and one per core.
  const ourPorts: number[] = [];
  for (const processes of ["1", "auto"]) {
    const port = await freePort();
    ourPorts.push(port);
    const profile =
      CPU_PROF && processes === "1" ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${CPU_PROF}`] : [];
    children.push(
      Bun.spawn(["bun", ...profile, "src/main.ts", "serve", "--role=proxy"], {
        env: {
          ...process.env,
          MINIVERCEL_DATA: dataDir,
          PROXY_PORT: String(port),
          PROXY_PROCESSES: processes,
          LISTEN_HOST: "127.0.0.1",
        },
        stdout: "ignore",
        stderr: "inherit",
      }),
    );
  }
  const [oursOne = 0, oursAuto = 0] = ourPorts;
  const nginxAuto = await freePort();
  children.push(
    Bun.spawn(["nginx", "-c", nginxConfig(work, site, nginxAuto, "auto"), "-p", work], { stderr: "inherit" }),
  );
  await Promise.all([waitHttp(oursOne), waitHttp(oursAuto), waitHttp(nginxAuto)]);
  // The auto proxy's extra processes start after its first one answers: give them a moment.
  await Bun.sleep(2000);

  const pagesScript = join(work, "pages.lua");
  writeFileSync(
    pagesScript,
    `math.randomseed(42)\nrequest = function()\n  return wrk.format("GET", "/pages/p" .. math.random(0, ${PAGES - 1}))\nend\n`,
  );
  const cases: Case[] = [
    { name: "index.html (2 KB)", path: "/", headers: {} },
    {
      name: "random small pages (1,000 x 1-4 KB, clean URLs)",
      path: "/pages/p0",
      headers: {},
      script: pagesScript,
    },
    { name: "bundle 150 KB, Accept-Encoding: gzip", path: BUNDLE, headers: { "Accept-Encoding": "gzip" } },
    {
      name: "404 (a missing .js: no SPA fallback)",
      path: "/assets/missing.0000.js",
      headers: {},
      status: 404,
    },
  ];
  const servers = [
    { name: "minivercel, 1 process", port: oursOne, pid: children[0]?.pid ?? 0 },
    { name: "minivercel, auto", port: oursAuto, pid: children[1]?.pid ?? 0 },
    { name: "nginx, auto", port: nginxAuto, pid: children[2]?.pid ?? 0 },
  ];

  // Same bytes from all before measuring anything (404 pages differ: each server has its own; the status must match).
  for (const c of cases) {
    const bodies = await Promise.all(
      servers.map(async (s) => {
        const res = await fetch(`http://127.0.0.1:${s.port}${c.path}`, {
          headers: { host: HOST, ...c.headers },
        });
        if (res.status !== (c.status ?? 200))
          throw new Error(`${s.name} answered ${res.status} for ${c.path}`);
        const body = await res.arrayBuffer();
        return c.status === 404 ? "404" : Bun.hash(body);
      }),
    );
    if (new Set(bodies).size !== 1) throw new Error(`the servers disagree on ${c.path}`);
  }
  const gz = await fetch(`http://127.0.0.1:${oursOne}${BUNDLE}`, {
    headers: { host: HOST, "accept-encoding": "gzip" },
    decompress: false,
  } as RequestInit);
  console.log(
    `bundle over gzip: ${gz.headers.get("content-length")} bytes (${gz.headers.get("content-encoding")})`,
  );

  // warm-up: every server, every case, 2 s
  const results = new Map<string, Result[]>();
  for (const c of cases)
    for (const s of servers)
      Bun.spawnSync(["wrk", ...WRK, "-d2s", "-H", `Host: ${HOST}`, `http://127.0.0.1:${s.port}${c.path}`]);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const c of cases) {
      // Interleaved: each case runs on every server within the same minute; the server order rotates per round.
      const order = servers
        .map((_, i) => servers[(i + round) % servers.length])
        .filter((s) => s !== undefined);
      for (const s of order) {
        const r = wrk(s.port, c, s.pid);
        const key = `${c.name}|${s.name}`;
        results.set(key, [...(results.get(key) ?? []), r]);
        console.log(
          `round ${round} ${c.name} ${s.name}: ${r.rps.toFixed(0)} req/s, p99 ${r.p99ms.toFixed(2)} ms, ${r.cpuUs.toFixed(1)} µs CPU/request${r.errors ? `, ${r.errors} errors` : ""}`,
        );
      }
    }
  }

  console.log(
    `\nwrk ${WRK.join(" ")} -d${SECONDS}s, median of ${ROUNDS} interleaved rounds (req/s; p99 ms)\n`,
  );
  console.log(
    "| case | minivercel, 1 process | minivercel, auto | nginx, auto | ratio 1 / nginx | ratio auto / nginx |",
  );
  console.log("|---|---|---|---|---|---|");
  for (const c of cases) {
    const cell = (server: string) => {
      const rs = results.get(`${c.name}|${server}`) ?? [];
      const errors = rs.reduce((a, r) => a + r.errors, 0);
      return {
        rps: median(rs.map((r) => r.rps)),
        p99: median(rs.map((r) => r.p99ms)),
        cpu: median(rs.map((r) => r.cpuUs)),
        errors,
      };
    };
    const [one, auto, nginx] = servers.map((s) => cell(s.name));
    const fmt = (x: { rps: number; p99: number; cpu: number; errors: number } | undefined) =>
      x
        ? `${x.rps.toFixed(0)} req/s; p99 ${x.p99.toFixed(2)} ms; ${x.cpu.toFixed(1)} µs CPU${x.errors ? ` (${x.errors} errors)` : ""}`
        : "";
    const ratio = (x: { rps: number } | undefined) => (x && nginx ? (x.rps / nginx.rps).toFixed(2) : "");
    console.log(
      `| ${c.name} | ${fmt(one)} | ${fmt(auto)} | ${fmt(nginx)} | ${ratio(one)} | ${ratio(auto)} |`,
    );
  }
  console.log(`\nload: ${Bun.spawnSync(["uptime"]).stdout.toString().trim()}`);
} finally {
  for (const child of children) child.kill("SIGTERM");
  await Promise.all(children.map((c) => c.exited));
  rmSync(work, { recursive: true, force: true });
}

// Bench: our proxy against nginx serving the same generated site, under wrk, interleaved, three rounds; and our
// proxy with web analytics on (the default) against the same proxy with ANALYTICS=0, in the same run.
// Needs nginx and wrk (apt-get install nginx wrk); installs nothing. Run: bun bench/proxy-analytics.ts
// BENCH_SECONDS (default 10) sets each wrk run's duration; BENCH_ROUNDS (default 3) the rounds; BENCH_NGINX=0
// leaves nginx out (only analytics on against off); BENCH_IN_PROCESS=0 skips the handler-only comparison at the end,
// BENCH_ROUNDS=0 runs only that.

import { mkdirSync, rmSync, writeFileSync } from "node:fs";
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
const NGINX = process.env.BENCH_NGINX !== "0";
/** Every request as a browser would send it: analytics parses the agent and the Referer. */
const BROWSER = {
  "User-Agent":
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
  Referer: "https://news.example.com/item?id=42",
};

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
  /** A wrk Lua script (the pages case rotates over all 1,000 pages). */
  script?: string;
}

interface Result {
  rps: number;
  p99ms: number;
  errors: number;
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

function wrk(port: number, c: Case): Result {
  const argv = ["wrk", "-t1", "-c50", `-d${SECONDS}s`, "--latency", "-H", `Host: ${HOST}`];
  for (const [k, v] of Object.entries({ ...BROWSER, ...c.headers })) argv.push("-H", `${k}: ${v}`);
  if (c.script) argv.push("-s", c.script);
  argv.push(`http://127.0.0.1:${port}${c.path}`);
  const run = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  const out = run.stdout.toString();
  if (run.exitCode !== 0) throw new Error(`wrk failed: ${run.stderr.toString()}`);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p99 = parseDuration(/\s99%\s+(\S+)/.exec(out)?.[1] ?? "");
  const errors =
    Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) +
    Number(
      /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/
        .exec(out)
        ?.slice(1)
        .reduce((a, b) => a + Number(b), 0) ?? 0,
    );
  return { rps, p99ms: p99, errors };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/**
 * The proxy's handler alone, in this process, analytics on against off: batches of requests alternate between the
 * two proxies over the same data; no sockets, so the share analytics takes is larger than over HTTP (an upper
 * bound), and less moved by the machine's other load than wrk's figures.
 */
async function inProcess(dataDir: string): Promise<void> {
  const { createProxy } = await import("../src/proxy/proxy.ts");
  const open = (analytics: string) =>
    openDeps(loadConfig({ MINIVERCEL_DATA: dataDir, ANALYTICS: analytics }));
  const [depsOn, depsOff] = await Promise.all([open("1"), open("0")]);
  const peer = () => "203.0.113.9";
  const proxies = {
    on: await createProxy(depsOn, {}, { runtime: () => ({}) as never, peer }),
    off: await createProxy(depsOff, {}, { runtime: () => ({}) as never, peer }),
  };
  const paths = Array.from({ length: PAGES }, (_, i) => `/pages/p${i}`);
  const batch = async (which: "on" | "off", n: number, offset: number): Promise<number> => {
    const proxy = proxies[which];
    const started = performance.now();
    for (let i = 0; i < n; i++) {
      const request = new Request(`http://${HOST}${paths[(offset + i) % PAGES]}`, {
        headers: { host: HOST, ...BROWSER },
      });
      const result = proxy.fetch(request);
      if (result instanceof Promise) await result;
    }
    return ((performance.now() - started) * 1e6) / n;
  };
  // Warm both (bodies into the memory cache), then alternate.
  await batch("on", 5000, 0);
  await batch("off", 5000, 0);
  const ns: Record<"on" | "off", number[]> = { on: [], off: [] };
  for (let round = 0; round < 20; round++) {
    const first = round % 2 === 0 ? "on" : "off";
    const second = first === "on" ? "off" : "on";
    ns[first].push(await batch(first, 20_000, round * 7));
    ns[second].push(await batch(second, 20_000, round * 7));
    // Timers run between batches, as they do between a real server's requests (analytics' rate for sampling).
    await Bun.sleep(0);
  }
  const on = median(ns.on);
  const off = median(ns.off);
  console.log(
    `\nin process, proxy.fetch of the 1,000 small pages, 20 alternating batches of 20,000 (median ns per request):\n` +
      `| analytics on | analytics off | on / off (throughput) |\n|---|---|---|\n` +
      `| ${on.toFixed(0)} ns | ${off.toFixed(0)} ns | ${(off / on).toFixed(3)} |`,
  );
  await proxies.on.stop();
  await proxies.off.stop();
  await depsOn.close();
  await depsOff.close();
}

if (NGINX) need("nginx");
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

  // Ours twice over the same data: analytics on (the default), and off. The proxies flush on the in-process bus,
  // where no worker listens: what is measured is the proxy's own share (counting, hashing, sending).
  const ours = await freePort();
  const oursOff = await freePort();
  for (const [port, analytics] of [
    [ours, "1"],
    [oursOff, "0"],
  ] as const) {
    children.push(
      Bun.spawn(["bun", "src/main.ts", "serve", "--role=proxy"], {
        env: {
          ...process.env,
          MINIVERCEL_DATA: dataDir,
          PROXY_PORT: String(port),
          LISTEN_HOST: "127.0.0.1",
          ANALYTICS: analytics,
        },
        stdout: "ignore",
        stderr: "inherit",
      }),
    );
  }
  const nginxOne = await freePort();
  const nginxAuto = await freePort();
  if (NGINX)
    for (const [port, workers] of [
      [nginxOne, "1"],
      [nginxAuto, "auto"],
    ] as const) {
      children.push(
        Bun.spawn(["nginx", "-c", nginxConfig(work, site, port, workers), "-p", work], { stderr: "inherit" }),
      );
    }
  await Promise.all([
    waitHttp(ours),
    waitHttp(oursOff),
    ...(NGINX ? [waitHttp(nginxOne), waitHttp(nginxAuto)] : []),
  ]);

  const pagesScript = join(work, "pages.lua");
  writeFileSync(
    pagesScript,
    `local i = 0\nrequest = function()\n  i = (i + 1) % ${PAGES}\n  return wrk.format("GET", "/pages/p" .. i)\nend\n`,
  );
  const cases: Case[] = [
    { name: "small pages (1,000 x 1-4 KB, clean URLs)", path: "/pages/p0", headers: {}, script: pagesScript },
    { name: "index.html (2 KB)", path: "/", headers: {} },
    { name: "bundle 150 KB, Accept-Encoding: gzip", path: BUNDLE, headers: { "Accept-Encoding": "gzip" } },
    { name: "image 500 KB", path: "/img/hero.png", headers: {} },
  ];
  const servers = [
    { name: "minivercel", port: ours },
    { name: "minivercel, analytics off", port: oursOff },
    ...(NGINX
      ? [
          { name: "nginx (1 worker)", port: nginxOne },
          { name: "nginx (auto)", port: nginxAuto },
        ]
      : []),
  ];

  // Same bytes from both before measuring anything.
  for (const c of cases) {
    const bodies = await Promise.all(
      servers.map(async (s) => {
        const res = await fetch(`http://127.0.0.1:${s.port}${c.path}`, {
          headers: { host: HOST, ...c.headers },
        });
        if (res.status !== 200) throw new Error(`${s.name} answered ${res.status} for ${c.path}`);
        return Bun.hash(await res.arrayBuffer());
      }),
    );
    if (new Set(bodies).size !== 1) throw new Error(`the servers disagree on ${c.path}`);
  }
  const gz = await fetch(`http://127.0.0.1:${ours}${BUNDLE}`, {
    headers: { host: HOST, "accept-encoding": "gzip" },
    decompress: false,
  } as RequestInit);
  console.log(
    `bundle over gzip: ${gz.headers.get("content-length")} bytes (${gz.headers.get("content-encoding")})`,
  );

  // warm-up: every server, every case, 2 s (none with BENCH_ROUNDS=0: the in-process comparison alone)
  const results = new Map<string, Result[]>();
  for (const c of ROUNDS > 0 ? cases : [])
    for (const s of servers)
      Bun.spawnSync([
        "wrk",
        "-t1",
        "-c50",
        "-d2s",
        "-H",
        `Host: ${HOST}`,
        `http://127.0.0.1:${s.port}${c.path}`,
      ]);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const c of cases) {
      // Interleaved: each case runs on every server within the same minute; the server order rotates per round.
      const order = servers
        .map((_, i) => servers[(i + round) % servers.length])
        .filter((s) => s !== undefined);
      for (const s of order) {
        const r = wrk(s.port, c);
        const key = `${c.name}|${s.name}`;
        results.set(key, [...(results.get(key) ?? []), r]);
        console.log(
          `round ${round} ${c.name} ${s.name}: ${r.rps.toFixed(0)} req/s, p99 ${r.p99ms.toFixed(2)} ms${r.errors ? `, ${r.errors} errors` : ""}`,
        );
      }
    }
  }

  const cellOf = (c: Case, server: string) => {
    const rs = results.get(`${c.name}|${server}`) ?? [];
    const errors = rs.reduce((a, r) => a + r.errors, 0);
    return {
      rps: median(rs.map((r) => r.rps)),
      p99: median(rs.map((r) => r.p99ms)),
      errors,
    };
  };
  const fmt = (x: { rps: number; p99: number; errors: number } | undefined) =>
    x
      ? `${x.rps.toFixed(0)} req/s; p99 ${x.p99.toFixed(2)} ms${x.errors ? ` (${x.errors} errors)` : ""}`
      : "";
  if (ROUNDS > 0) {
    console.log(`\nwrk -t1 -c50 -d${SECONDS}s, median of ${ROUNDS} interleaved rounds (req/s; p99 ms)\n`);
    if (NGINX) {
      console.log("| case | minivercel | nginx, 1 worker | ratio (req/s) | nginx, auto workers |");
      console.log("|---|---|---|---|---|");
      for (const c of cases) {
        const [m, n1, na] = ["minivercel", "nginx (1 worker)", "nginx (auto)"].map((s) => cellOf(c, s));
        console.log(
          `| ${c.name} | ${fmt(m)} | ${fmt(n1)} | ${m && n1 ? (m.rps / n1.rps).toFixed(2) : ""} | ${fmt(na)} |`,
        );
      }
      console.log("");
    }
    // Analytics: the share of throughput it costs, per round (the pairs ran back to back), then the median.
    console.log("| case | analytics on | analytics off | on / off (median) | on / off per round |");
    console.log("|---|---|---|---|---|");
    for (const c of cases) {
      const on = results.get(`${c.name}|minivercel`) ?? [];
      const off = results.get(`${c.name}|minivercel, analytics off`) ?? [];
      const ratios = on.map((r, i) => r.rps / (off[i]?.rps ?? Number.NaN));
      console.log(
        `| ${c.name} | ${fmt(cellOf(c, "minivercel"))} | ${fmt(cellOf(c, "minivercel, analytics off"))} | ${median(ratios).toFixed(3)} | ${ratios.map((x) => x.toFixed(3)).join(", ")} |`,
      );
    }
  }
  if (process.env.BENCH_IN_PROCESS !== "0") await inProcess(dataDir);
} finally {
  for (const child of children) child.kill("SIGTERM");
  await Promise.all(children.map((c) => c.exited));
  rmSync(work, { recursive: true, force: true });
}

// What any proxy in front of a separate process can reach on this machine: a hello-world Bun.serve hit directly,
// beside the cheapest relays in front of it on a Unix socket (as the runtime reaches a function's or an app's
// sandbox). Same run, interleaved rounds, wrk -t1 -c50. The ceiling for bench/functions.ts and bench/app-servers.ts.
//
//   bun bench/relay-ceiling.ts      # BENCH_SECONDS=5 BENCH_ROUNDS=3
//
// - direct: the target itself, on TCP.
// - byte relay: a TCP listener piping bytes to the target's Unix socket (no HTTP parsed at all: an L4 proxy).
// - fetch proxy: Bun.serve -> fetch(..., { unix }) -> arrayBuffer -> new Response (the runtime's transport).
// - own-client proxy: Bun.serve -> a minimal HTTP/1.1 client over Bun.connect with a keep-alive pool (what a
//   hand-written transport could save over fetch at best: it parses only Content-Length answers).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const dir = mkdtempSync(join(tmpdir(), "relay-ceiling-"));
const sock = join(dir, "target.sock");

const TARGET = `
const h = () => new Response("hello world", { headers: { "content-type": "text/plain" } });
Bun.serve({ unix: ${JSON.stringify(sock)}, fetch: h });
const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: h });
console.log(s.port);`;

const RELAY = `
const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: {
  open(c) { c.data = { up: null, pending: [] };
    Bun.connect({ unix: ${JSON.stringify(sock)}, data: { down: c }, socket: {
      data(u, chunk) { u.data.down.write(chunk); }, close(u) { u.data.down.end(); } } })
      .then((u) => { c.data.up = u; for (const p of c.data.pending) u.write(p); c.data.pending = []; });
  },
  data(c, chunk) { if (c.data.up) c.data.up.write(chunk); else c.data.pending.push(Buffer.from(chunk)); },
  close(c) { c.data.up?.end(); },
}});
console.log(l.port);`;

const FETCH_PROXY = `
const s = Bun.serve({ hostname: "127.0.0.1", port: 0, async fetch(req) {
  const u = new URL(req.url);
  const a = await fetch("http://localhost" + u.pathname, { unix: ${JSON.stringify(sock)}, headers: req.headers, decompress: false });
  return new Response(await a.arrayBuffer(), { status: a.status, headers: a.headers });
}});
console.log(s.port);`;

const OWN_CLIENT_PROXY = `
const idle = [];
const connect = () => Bun.connect({ unix: ${JSON.stringify(sock)}, data: { resolve: null, buf: null }, socket: {
  close(s) { const i = idle.indexOf(s); if (i >= 0) idle.splice(i, 1); },
  data(s, chunk) {
    const d = s.data; const buf = d.buf ? Buffer.concat([d.buf, chunk]) : chunk;
    const end = buf.indexOf("\\r\\n\\r\\n");
    if (end < 0) { d.buf = buf; return; }
    const lines = buf.latin1Slice(0, end).split("\\r\\n");
    const headers = new Headers(); let len = 0;
    for (let i = 1; i < lines.length; i++) { const l = lines[i]; const c = l.indexOf(":");
      const k = l.slice(0, c); const v = l.slice(c + 1).trim();
      if (k.toLowerCase() === "content-length") len = Number(v); else headers.append(k, v); }
    if (buf.length < end + 4 + len) { d.buf = buf; return; }
    d.buf = null; idle.push(s);
    d.resolve(new Response(buf.subarray(end + 4, end + 4 + len), { status: Number(lines[0].slice(9, 12)), headers }));
  } } });
const s = Bun.serve({ hostname: "127.0.0.1", port: 0, async fetch(req) {
  const u = new URL(req.url);
  const c = idle.pop() ?? await connect();
  let head = req.method + " " + u.pathname + u.search + " HTTP/1.1\\r\\n";
  req.headers.forEach((v, k) => { head += k + ": " + v + "\\r\\n"; });
  return new Promise((resolve) => { c.data.resolve = resolve; c.write(head + "\\r\\n"); });
}});
console.log(s.port);`;

const children: Subprocess[] = [];

async function start(source: string): Promise<number> {
  const proc = Bun.spawn([process.execPath, "-e", source], { stdout: "pipe", stderr: "inherit" });
  children.push(proc);
  const reader = proc.stdout.getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  return Number(new TextDecoder().decode(value).trim());
}

function wrk(port: number): number {
  const out = Bun.spawnSync(["wrk", "-t1", "-c50", `-d${SECONDS}s`, `http://127.0.0.1:${port}/`]);
  const text = out.stdout.toString();
  const found = /Requests\/sec:\s+([\d.]+)/.exec(text)?.[1];
  if (!found) throw new Error(`wrk printed no rate:\n${text}${out.stderr.toString()}`);
  return Number(found);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

try {
  const direct = await start(TARGET);
  const rows: [string, number][] = [
    ["direct (Bun.serve on TCP)", direct],
    ["byte relay (L4, no HTTP parsed)", await start(RELAY)],
    ["fetch proxy (Bun.serve + fetch over unix)", await start(FETCH_PROXY)],
    ["own-client proxy (Bun.serve + HTTP/1.1 over Bun.connect)", await start(OWN_CLIENT_PROXY)],
  ];
  for (const [, port] of rows) wrk(port); // warm-up, one round each
  const rates = new Map<string, number[]>(rows.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? rows : [...rows].reverse();
    for (const [name, port] of order) rates.get(name)?.push(wrk(port));
  }
  const base = median(rates.get(rows[0]?.[0] ?? "") ?? []);
  console.log(`load average: ${(await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ")}`);
  console.log(`| path | req/s (median of ${ROUNDS}) | rounds | ratio to direct |`);
  console.log("|---|---|---|---|");
  for (const [name] of rows) {
    const all = rates.get(name) ?? [];
    const value = median(all);
    console.log(
      `| ${name} | ${Math.round(value).toLocaleString("en")} | ${all.map((r) => Math.round(r)).join(", ")} | ${(value / base).toFixed(2)} |`,
    );
  }
} finally {
  for (const child of children) child.kill();
  rmSync(dir, { recursive: true, force: true });
}

// Proxy processes (PROXY_PROCESSES): a real `serve` with three proxy processes on one port. Several of them
// answer; a promote reaches all of them at once; /metrics counts every process's requests; a killed one is
// started again; a stop leaves no process behind.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { killLeftovers, lifecycleEnv, type ServeProcess, startServe, tokenFor } from "./testing/lifecycle.ts";
import { parseExposition, sampleValue } from "./testing/metrics.ts";

let env: Record<string, string>;
let serve: ServeProcess;
let token: string;
let proxyPort: number;
let metricsUrl: string;
const SUB = "multi";
const HOST = `${SUB}.localhost`;

/** Pids of the serve process's children that are extra proxy processes. */
function extraPids(parent: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const cmdline = readFileSync(`/proc/${name}/cmdline`, "utf8");
      if (ppid === parent && cmdline.includes("proxy-process")) pids.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids.sort();
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function api(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${serve.api}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const value = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(value)}`);
  return value;
}

/** A production deployment of one index.html, through the upload API (prebuilt: no build). */
async function deploy(projectId: string, html: string): Promise<string> {
  const hash = new Bun.CryptoHasher("sha256").update(html).digest("hex");
  await api("POST", "/api/files/missing", { hashes: [hash] });
  const put = await fetch(`${serve.api}/api/files/${hash}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${token}` },
    body: html,
  });
  expect(put.status).toBe(204);
  const created = await api("POST", `/api/projects/${projectId}/deployments`, {
    files: { "/index.html": { hash, size: Buffer.byteLength(html) } },
    target: "production",
  });
  return String((created.deployment as Record<string, unknown>).id);
}

/** One request on a connection of its own (the kernel picks a process per connection), with an id to find. */
async function fresh(id: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${proxyPort}/`, {
    headers: { host: HOST, "x-request-id": id, ...headers },
    keepalive: false,
    redirect: "manual",
  });
  const text = await res.text();
  return res.status === 200 ? text : `HTTP ${res.status}`;
}

/** The pid in each access line, by request id. */
function answeredBy(ids: string[]): Set<number> {
  const wanted = new Set(ids);
  const pids = new Set<number>();
  for (const line of serve.output().split("\n")) {
    if (!line.startsWith("{")) continue;
    const entry = JSON.parse(line) as { msg?: string; requestId?: string; pid?: number };
    if (entry.msg === "access" && entry.requestId && wanted.has(entry.requestId) && entry.pid)
      pids.add(entry.pid);
  }
  return pids;
}

async function scrape(): Promise<{ count: number; histogram: number }> {
  const parsed = parseExposition(await (await fetch(metricsUrl)).text());
  return {
    count:
      sampleValue(parsed, "minivercel_http_requests_total", { role: "proxy", method: "GET", code: "200" }) ??
      0,
    histogram: sampleValue(parsed, "minivercel_http_request_duration_seconds_count", { role: "proxy" }) ?? 0,
  };
}

let projectId: string;
let first: string;
let second: string;

beforeAll(async () => {
  env = lifecycleEnv({
    MINIVERCEL_ROLE: "api,worker,proxy",
    LISTEN_HOST: "127.0.0.1",
    PROXY_PROCESSES: "3",
    PROXY_ACCESS_LOG: "1",
    LOG_FORMAT: "json",
    METRICS_PORT: "0",
    BUILD_SANDBOX: "none",
  });
  token = await tokenFor(env);
  serve = await startServe(env);
  await serve.waitFor(/metrics: +http:\/\/\S+\n/);
  await serve.waitFor(/3 proxy processes answer on port/);
  proxyPort = Number(/sites: +http:\/\/\S+:(\d+)/.exec(serve.output())?.[1]);
  metricsUrl = /metrics: +(http:\/\/\S+)/.exec(serve.output())?.[1] ?? "";
  const project = await api("POST", "/api/projects", { name: "Multi", subDomain: SUB });
  projectId = String(project.id);
  first = await deploy(projectId, "<p>first</p>");
  second = await deploy(projectId, "<p>second</p>");
}, 60_000);

afterAll(() => killLeftovers());

describe("PROXY_PROCESSES", () => {
  test("the extra processes are children of serve, and several processes answer on the one port", async () => {
    expect(extraPids(serve.proc.pid)).toHaveLength(2);
    const ids = Array.from({ length: 60 }, (_, i) => `spread-${i}`);
    const bodies = await Promise.all(ids.map((id) => fresh(id)));
    expect(new Set(bodies)).toEqual(new Set(["<p>second</p>"]));
    await Bun.sleep(100);
    expect(answeredBy(ids).size).toBeGreaterThanOrEqual(2);
  });

  test("a promote is served by every process at once", async () => {
    await api("POST", `/api/deployments/${first}/promote`);
    const promoted = performance.now();
    // Then 40 requests in a row on fresh connections must all serve it, whichever process takes each.
    let streak: string[] = [];
    let n = 0;
    while (streak.length < 40) {
      expect(performance.now() - promoted).toBeLessThan(3000);
      const id = `promote-${n++}`;
      if ((await fresh(id)) === "<p>first</p>") streak.push(id);
      else streak = [];
    }
    await Bun.sleep(100);
    expect(answeredBy(streak).size).toBeGreaterThanOrEqual(2);
    await api("POST", `/api/deployments/${second}/promote`);
  });

  test("/metrics counts the requests of every process", async () => {
    const before = await scrape();
    const ids = Array.from({ length: 50 }, (_, i) => `count-${i}`);
    await Promise.all(ids.map((id) => fresh(id)));
    await Bun.sleep(100);
    expect(answeredBy(ids).size).toBeGreaterThanOrEqual(2);
    const after = await scrape();
    expect(after.count - before.count).toBe(50);
    expect(after.histogram - before.histogram).toBe(50);
  });

  test("deployment protection holds in every process, and a revoked bypass token is refused by all at once", async () => {
    await api("PATCH", `/api/projects/${projectId}`, { protection: "all" });
    const { token: bypass, record } = (await api("POST", `/api/projects/${projectId}/protection/bypass`, {
      name: "ci",
    })) as { token: string; record: { id: string } };
    const batch = (prefix: string, headers: Record<string, string> = {}) =>
      Promise.all(Array.from({ length: 30 }, (_, i) => fresh(`${prefix}-${i}`, headers)));
    // The announcements reach every process before the API answers the next call; allow a moment anyway.
    await Bun.sleep(200);
    const closed = await batch("closed");
    expect(closed.filter((b) => b.includes("<p>"))).toEqual([]);
    const ids = Array.from({ length: 30 }, (_, i) => `bypass-${i}`);
    const open = await Promise.all(ids.map((id) => fresh(id, { "x-vercel-protection-bypass": bypass })));
    expect(new Set(open)).toEqual(new Set(["<p>second</p>"]));
    await Bun.sleep(100);
    expect(answeredBy(ids).size).toBeGreaterThanOrEqual(2);
    const revoked = await fetch(`${serve.api}/api/projects/${projectId}/protection/bypass/${record.id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(revoked.status).toBe(204);
    await Bun.sleep(200);
    const refused = await batch("revoked", { "x-vercel-protection-bypass": bypass });
    expect(new Set(refused)).toEqual(new Set(["HTTP 401"]));
    await api("PATCH", `/api/projects/${projectId}`, { protection: "none" });
    await Bun.sleep(200);
    expect(new Set(await batch("reopened"))).toEqual(new Set(["<p>second</p>"]));
  });

  test("a killed process is started again, and the port keeps answering", async () => {
    const [victim, other] = extraPids(serve.proc.pid);
    if (victim === undefined || other === undefined) throw new Error("no extra processes");
    process.kill(victim, "SIGKILL");
    const deadline = Date.now() + 15_000;
    let now = extraPids(serve.proc.pid);
    while (!(now.length === 2 && !now.includes(victim))) {
      expect(Date.now()).toBeLessThan(deadline);
      await Bun.sleep(100);
      now = extraPids(serve.proc.pid);
    }
    expect(now).toContain(other);
    await serve.waitFor(/proxy process \d+ exited/);
    const bodies = await Promise.all(Array.from({ length: 30 }, (_, i) => fresh(`after-kill-${i}`)));
    expect(bodies.filter((b) => b !== "<p>second</p>")).toEqual([]);
  }, 30_000);

  test("a stop ends every proxy process and removes the forwarding socket", async () => {
    const pids = extraPids(serve.proc.pid);
    const sockets = readdirSync("/tmp").filter((d) => d.startsWith("minivercel-proxy-"));
    expect(pids).toHaveLength(2);
    serve.proc.kill("SIGTERM");
    expect(await serve.proc.exited).toBe(0);
    for (const pid of pids) expect(alive(pid)).toBe(false);
    const left = sockets.filter((d) => !existsSync(`/tmp/${d}`));
    expect(left.length).toBeGreaterThanOrEqual(1);
  }, 30_000);
});

describe("PROXY_PROCESSES when serve is killed", () => {
  test("the extra processes notice and exit by themselves", async () => {
    const killed = await startServe(
      lifecycleEnv({ MINIVERCEL_ROLE: "api,proxy", LISTEN_HOST: "127.0.0.1", PROXY_PROCESSES: "2" }),
    );
    await killed.waitFor(/2 proxy processes answer on port/);
    const pids = extraPids(killed.proc.pid);
    expect(pids).toHaveLength(1);
    killed.proc.kill("SIGKILL");
    await killed.proc.exited;
    const deadline = Date.now() + 10_000;
    while (pids.some(alive)) {
      expect(Date.now()).toBeLessThan(deadline);
      await Bun.sleep(100);
    }
  }, 30_000);
});

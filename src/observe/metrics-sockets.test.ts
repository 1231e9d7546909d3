// Metrics and logs end to end (issue 8's acceptance): every role started on real sockets, a git deploy built by
// the worker, the site fetched twice through the proxy, then /metrics scraped and checked series by series.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Deps } from "../deps.ts";
import { type Running, startRoles } from "../roles.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { captureLog, type Exposition, parseExposition, sampleValue } from "../testing/metrics.ts";
import { fixtureRepo } from "../testing/repos.ts";

const METRICS_TOKEN = "scrape-token-0123456789";

let deps: Deps;
let roles: Running;
let api: string;
let proxyPort: number;
let token: string;
let lines: Record<string, unknown>[];

beforeAll(async () => {
  deps = await testDeps({
    PORT: "0",
    PROXY_PORT: "0",
    METRICS_PORT: "0",
    METRICS_TOKEN,
    LISTEN_HOST: "127.0.0.1",
    API_ACCESS_LOG: "1",
    // The sandbox is not what this test is about; the build still runs as a real subprocess.
    BUILD_SANDBOX: "none",
  });
  const captured = captureLog();
  deps.log = captured.log;
  lines = captured.lines;
  roles = await startRoles(deps);
  api = roles.urls.api ?? "";
  proxyPort = Number(/:(\d+)$/.exec(roles.urls.proxy ?? "")?.[1]);
  token = (await testUser(deps)).token;
});

afterAll(async () => {
  await roles.stop();
  await deps.close();
}, 60_000);

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${api}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

async function scrape(url = roles.urls.metrics ?? "", auth = `Bearer ${METRICS_TOKEN}`): Promise<Exposition> {
  const res = await fetch(url, { headers: { authorization: auth } });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return parseExposition(await res.text());
}

describe("after a deploy", () => {
  let deploymentId = "";
  let subDomain = "";

  beforeAll(async () => {
    const repo = fixtureRepo({ "index.html": "<h1>metrics</h1>" });
    const project = await call("POST", "/api/projects", { name: "metrics-site", gitUrl: repo.url });
    expect(project.status).toBe(201);
    subDomain = String(project.body.subDomain);
    const deployed = await call(
      "POST",
      "/api/deploy",
      { projectId: project.body.id },
      { "x-request-id": "e2e-deploy-1" },
    );
    expect(deployed.status).toBe(201);
    expect(deployed.headers.get("x-request-id")).toBe("e2e-deploy-1");
    deploymentId = String(deployed.body.id);
    const until = Date.now() + 120_000;
    for (;;) {
      const d = await call("GET", `/api/deployments/${deploymentId}`);
      if (["READY", "FAIL", "CANCELED"].includes(String(d.body.status))) {
        expect(d.body).toMatchObject({ status: "READY" });
        break;
      }
      if (Date.now() > until) throw new Error(`deployment stuck in ${d.body.status}`);
      await Bun.sleep(200);
    }
    // The same terminal event again (a redelivery): applied as a no-op, so the build is still counted once.
    await deps.bus.publish("build-events", deploymentId, {
      type: "status",
      deploymentId,
      status: "READY",
      at: new Date().toISOString(),
    });
    const drained = Date.now() + 10_000;
    while ((await deps.bus.lag()).some((l) => l.messages > 0) && Date.now() < drained) await Bun.sleep(20);
    for (let i = 0; i < 2; i++) {
      const site = await fetch(`http://127.0.0.1:${proxyPort}/`, {
        headers: { host: `${subDomain}.localhost` },
      });
      expect(site.status).toBe(200);
      expect(await site.text()).toBe("<h1>metrics</h1>");
      // PROXY_ACCESS_LOG is off: no log line to find an id in, so the proxy makes none (it costs throughput)...
      expect(site.headers.get("x-request-id")).toBeNull();
    }
    // ...but passes on one it was given, as a load balancer in front would send (a HEAD: not in the GET counts).
    const traced = await fetch(`http://127.0.0.1:${proxyPort}/`, {
      method: "HEAD",
      headers: { host: `${subDomain}.localhost`, "x-request-id": "lb-7f3a" },
    });
    expect(traced.headers.get("x-request-id")).toBe("lb-7f3a");
  }, 180_000);

  test("the series: requests by role and code, one READY build with its duration, queue, bus lag, cache hits", async () => {
    const m = await scrape();
    const requests = (labels: Record<string, string>) =>
      sampleValue(m, "minivercel_http_requests_total", labels);
    expect(requests({ role: "api", method: "POST", code: "201" })).toBe(2);
    expect(requests({ role: "api", method: "GET", code: "200" })).toBeGreaterThanOrEqual(1);
    expect(requests({ role: "proxy", method: "GET", code: "200" })).toBe(2);
    expect(requests({ role: "proxy", method: "HEAD", code: "200" })).toBe(1);
    expect(sampleValue(m, "minivercel_http_request_duration_seconds_count", { role: "proxy" })).toBe(3);
    expect(sampleValue(m, "minivercel_builds_total", { outcome: "READY" })).toBe(1);
    expect(sampleValue(m, "minivercel_builds_total", { outcome: "FAIL" })).toBeUndefined();
    expect(sampleValue(m, "minivercel_build_duration_seconds_count", { outcome: "READY" })).toBe(1);
    expect(sampleValue(m, "minivercel_build_duration_seconds_bucket", { outcome: "READY", le: "+Inf" })).toBe(
      1,
    );
    expect(sampleValue(m, "minivercel_build_duration_seconds_sum", { outcome: "READY" })).toBeGreaterThan(0);
    expect(sampleValue(m, "minivercel_build_queue_depth")).toBe(0);
    expect(sampleValue(m, "minivercel_builds_in_progress")).toBe(0);
    expect(sampleValue(m, "minivercel_bus_lag_messages", { topic: "build-events", group: "workers" })).toBe(
      0,
    );
    expect(sampleValue(m, "minivercel_bus_lag_messages", { topic: "route-changes", group: "proxy" })).toBe(0);
    const hits = sampleValue(m, "minivercel_proxy_cache_requests_total", { result: "hit" }) ?? 0;
    const misses = sampleValue(m, "minivercel_proxy_cache_requests_total", { result: "miss" }) ?? 0;
    expect(hits).toBeGreaterThanOrEqual(1);
    expect(misses).toBeGreaterThanOrEqual(1);
    expect(sampleValue(m, "minivercel_proxy_cache_hit_ratio")).toBeCloseTo(hits / (hits + misses), 6);
    expect(sampleValue(m, "minivercel_process_resident_memory_bytes")).toBeGreaterThan(1024 * 1024);
    expect(sampleValue(m, "minivercel_process_uptime_seconds")).toBeGreaterThanOrEqual(0);
    // A valid exposition: every sample is declared, none repeated.
    expect(new Set(m.keys).size).toBe(m.keys.length);
    for (const s of m.samples) expect(m.families.has(s.name.replace(/_(bucket|sum|count)$/, ""))).toBe(true);
  });

  test("the request id is echoed and lands in the API's access line; no proxy access lines (PROXY_ACCESS_LOG off)", () => {
    const deploy = lines.find((l) => l.msg === "access" && l.requestId === "e2e-deploy-1");
    expect(deploy).toMatchObject({ role: "api", method: "POST", path: "/api/deploy", status: 201 });
    expect(lines.filter((l) => l.msg === "access" && l.role === "proxy")).toEqual([]);
    expect(lines.filter((l) => l.msg === "access" && l.role === "api").length).toBeGreaterThan(2);
  });
});

describe("who may scrape", () => {
  test("with METRICS_TOKEN: 401 without it or with a user's API token; served on the API port too", async () => {
    for (const url of [roles.urls.metrics ?? "", `${api}/metrics`]) {
      for (const auth of ["", `Bearer ${token}`, `Bearer ${METRICS_TOKEN}x`, METRICS_TOKEN]) {
        const res = await fetch(url, { headers: auth ? { authorization: auth } : {} });
        expect({ url, auth, status: res.status }).toEqual({ url, auth, status: 401 });
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
      }
      expect(sampleValue(await scrape(url), "minivercel_build_queue_depth")).toBe(0);
    }
    expect(roles.urls.metrics).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  });

  test("the metrics listener answers /metrics only, GET only", async () => {
    const base = new URL(roles.urls.metrics ?? "");
    const auth = { authorization: `Bearer ${METRICS_TOKEN}` };
    expect((await fetch(new URL("/api/projects", base), { headers: auth })).status).toBe(404);
    expect((await fetch(base, { method: "POST", headers: auth })).status).toBe(405);
  });
});

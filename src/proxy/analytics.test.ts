// Web analytics through the real proxy on the embedded defaults: requests counted in memory, flushed on the
// in-process bus, stored by the worker's consumer in sqlite, read back through the API (JSON and CSV); and no
// address stored anywhere in the data directory.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subscription } from "../bus/bus.ts";
import type { Deps } from "../deps.ts";
import type { Project } from "../model/entities.ts";
import { apiClient, type Client, obj, tempDir, testDeps, testUser } from "../testing/deps.ts";
import { deploySite, eventually, request, siteProject } from "../testing/sites.ts";
import { startAnalyticsConsumer } from "../worker/analytics.ts";
import { createAnalyticsRecorder, dayOf, referrerHost, ttfbStep, visitorHash } from "./analytics.ts";
import { createProxy, type SiteProxy } from "./proxy.ts";

const CHROME =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
const FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";
const BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
const ALICE = "203.0.113.77";
const BOB = "2001:db8:abcd:12:1:2:3:4";

let deps: Deps;
let consumer: Subscription;
let proxy: SiteProxy;
let project: Project;
let api: Client;
let deploymentId: string;

beforeAll(async () => {
  const geo = join(tempDir(), "countries.csv");
  writeFileSync(geo, "203.0.113.0,203.0.113.255,NZ\n2001:db8::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,DE\n");
  deps = await testDeps({ ANALYTICS_FLUSH_SECONDS: "300", ANALYTICS_GEOIP_CSV: geo });
  consumer = await startAnalyticsConsumer(deps);
  const { user, token } = await testUser(deps);
  api = apiClient(deps, token);
  project = await siteProject(deps, user.id, { spaFallback: false });
  const deployment = await deploySite(deps, project, {
    "index.html": "<h1>home</h1>",
    "about/index.html": "<h1>about</h1>",
  });
  deploymentId = deployment.id;
  // The socket address, as Bun's requestIP gives it, from a header only this test sets.
  proxy = await createProxy(
    deps,
    { reconcileMs: 60_000 },
    { runtime: () => ({}) as never, peer: (r) => r.headers.get("x-test-peer") },
  );
});

afterAll(async () => {
  await consumer.stop();
  await deps.close();
});

const url = () => `http://${project.subDomain}.${deps.config.sitesDomain}:8001`;
const visit = async (path: string, peer: string, ua: string, referer?: string) => {
  const response = await request(proxy, `${url()}${path}`, {
    headers: { "x-test-peer": peer, "user-agent": ua, ...(referer && { referer }) },
  });
  await response.arrayBuffer();
  return response.status;
};

describe("analytics through the proxy", () => {
  test("requests, visitors, pages, referrers, countries, browsers, statuses and bots reach the API", async () => {
    expect(await visit("/", ALICE, CHROME, "https://news.example.com/item?id=7")).toBe(200);
    expect(await visit("/about/", ALICE, CHROME, `${url()}/`)).toBe(200);
    expect(await visit("/about/?utm=x", ALICE, CHROME)).toBe(200);
    expect(await visit("/", BOB, FIREFOX)).toBe(200);
    expect(await visit("/missing", BOB, FIREFOX, "https://search.example/?q=secret")).toBe(404);
    expect(await visit("/", "198.51.100.1", BOT)).toBe(200);
    // The proxy's stop flushes what it counted; the worker's consumer stores it.
    await proxy.stop();
    let report: Record<string, unknown> = {};
    await eventually(async () => {
      const { status, body } = await api("GET", `/api/projects/${project.id}/analytics?range=hour`);
      expect(status).toBe(200);
      report = obj(body);
      expect(obj(report.totals).requests).toBe(5);
    }, 5000);
    const totals = obj(report.totals);
    expect(totals).toMatchObject({ requests: 5, visitors: 2, bots: 1 });
    expect(Number(totals.bytes)).toBeGreaterThan(0);
    expect(typeof totals.ttfbP50Ms).toBe("number");
    const keys = (name: string) =>
      (report[name] as { key: string; requests: number }[]).map((e) => [e.key, e.requests]);
    expect(keys("pages")).toEqual([
      ["/", 2],
      ["/about/", 2],
      ["/missing", 1],
    ]);
    // Hosts only, never a query; the site's own pages are not referrers.
    expect(keys("referrers")).toEqual([
      ["", 3],
      ["news.example.com", 1],
      ["search.example", 1],
    ]);
    expect(keys("countries")).toEqual([
      ["NZ", 3],
      ["DE", 2],
    ]);
    expect(keys("browsers")).toEqual([
      ["Chrome", 3],
      ["Firefox", 2],
    ]);
    expect(keys("os")).toEqual([
      ["Windows", 3],
      ["Linux", 2],
    ]);
    expect(keys("statuses")).toEqual([
      ["200", 4],
      ["404", 1],
    ]);
    expect(keys("deployments")).toEqual([[deploymentId, 5]]);
    const series = report.series as { requests: number }[];
    expect(series).toHaveLength(60);
    expect(series.reduce((n, p) => n + p.requests, 0)).toBe(5);

    // Filters: one referrer, one path, another deployment.
    const only = async (query: string) =>
      obj(obj((await api("GET", `/api/projects/${project.id}/analytics?range=day&${query}`)).body).totals);
    expect(await only("referrer=news.example.com")).toMatchObject({ requests: 1, visitors: 1 });
    expect(await only("path=%2Fabout%2F")).toMatchObject({ requests: 2, visitors: 1 });
    expect(await only(`deployment=${crypto.randomUUID()}`)).toMatchObject({ requests: 0, visitors: 0 });

    // CSV: by format, or by Accept.
    const csv = await api("GET", `/api/projects/${project.id}/analytics?range=week&format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toContain("text/csv");
    const lines = String(csv.body).trim().split("\r\n");
    expect(lines[0]).toBe("table,key,requests,visitors,value");
    expect(lines).toContain("totals,requests,5,,5");
    expect(lines).toContain("pages,/about/,2,1,");
    const accepted = await api("GET", `/api/projects/${project.id}/analytics`, undefined, {
      accept: "text/csv",
    });
    expect(String(accepted.body)).toStartWith("table,key,requests,visitors,value");
  });

  test("no address is stored anywhere: not in any row of any store, not in any file of the data directory", async () => {
    const needles = [ALICE, BOB, "198.51.100.1", "2001:db8:abcd:12"];
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else files.push(path);
      }
    };
    walk(deps.config.dataDir);
    expect(files.some((f) => f.endsWith("logs.db"))).toBe(true);
    for (const file of files) {
      const bytes = readFileSync(file);
      for (const needle of needles)
        expect({ file, found: bytes.includes(needle) }).toEqual({ file, found: false });
    }
    // And the rows, read through SQL (WAL pages not yet checkpointed included).
    const { Database } = await import("bun:sqlite");
    for (const name of ["logs.db", "minivercel.db"]) {
      const db = new Database(join(deps.config.dataDir, name), { readonly: true });
      const tables = db
        .query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table'")
        .all();
      for (const { name: table } of tables) {
        const text = JSON.stringify(db.query(`SELECT * FROM "${table}"`).all());
        for (const needle of needles)
          expect({ table, found: text.includes(needle) }).toEqual({ table, found: false });
      }
      db.close();
    }
    // Only today's and yesterday's salts at most.
    const days = await deps.store.analyticsSalts.days();
    expect(days.length).toBeGreaterThan(0);
    for (const day of days) expect(day >= dayOf(Math.floor(Date.now() / 1000) - 86_400)).toBe(true);
  });

  test("bad input is a 4xx naming the problem", async () => {
    const bad = await api("GET", `/api/projects/${project.id}/analytics?range=year`);
    expect(bad.status).toBe(422);
    expect(obj(obj(bad.body).error)).toMatchObject({ code: "validation_failed", field: "range" });
    const deployment = await api("GET", `/api/projects/${project.id}/analytics?deployment=nope`);
    expect(deployment.status).toBeLessThan(500);
    expect(deployment.status).toBeGreaterThanOrEqual(400);
  });
});

describe("analytics pieces", () => {
  test("referrers are other sites' hosts only", () => {
    expect(referrerHost("https://News.Example.com/a/b?q=1#x", "site.localhost:8001")).toBe(
      "news.example.com",
    );
    expect(referrerHost("http://site.localhost:8001/page", "site.localhost:8001")).toBe("");
    expect(referrerHost("android-app://com.example", "site")).toBe("");
    expect(referrerHost("not a url", "site")).toBe("");
  });

  test("time-to-first-byte steps are within 5%", () => {
    for (const us of [1, 7, 150, 999, 12_345, 2_000_000]) {
      const step = ttfbStep(us);
      expect(Math.abs(step - us) / us).toBeLessThanOrEqual(0.05);
    }
    expect(ttfbStep(0)).toBe(0);
  });

  test("a visitor hash depends on salt, project, address (IPv6 by /64) and agent", () => {
    const base = visitorHash("s1", "p", ALICE, CHROME);
    expect(base).toMatch(/^[0-9a-f]{16}$/);
    expect(visitorHash("s1", "p", ALICE, CHROME)).toBe(base);
    expect(visitorHash("s2", "p", ALICE, CHROME)).not.toBe(base);
    expect(visitorHash("s1", "q", ALICE, CHROME)).not.toBe(base);
    expect(visitorHash("s1", "p", ALICE, FIREFOX)).not.toBe(base);
    expect(visitorHash("s1", "p", "2001:db8:1:2::1", CHROME)).toBe(
      visitorHash("s1", "p", "2001:db8:1:2::9", CHROME),
    );
  });
});

describe("sampling a busy proxy (ANALYTICS_SAMPLE_ABOVE)", () => {
  test("below the rate every request counts once; above it 1 in N counts N, the rest cost nothing", async () => {
    const recorder = createAnalyticsRecorder(deps, {
      flushMs: 300_000,
      geo: null,
      trustProxyHops: 0,
      peer: () => null,
      sampleAbove: 10,
    });
    try {
      // The first second: no rate known yet, every request counted as itself.
      const first = Array.from({ length: 100 }, () => recorder.weight());
      expect(first.every((w) => w === 1)).toBe(true);
      // The next second knows the last one's rate (100/s, ten times the limit): 1 in 10, with weight 10.
      await Bun.sleep(1100);
      const next = Array.from({ length: 100 }, () => recorder.weight());
      expect(next.filter((w) => w > 0)).toEqual(Array(10).fill(10));
      expect(next.reduce((a, b) => a + b, 0)).toBe(100);
      // Two seconds later (the busy one counted, then a quiet one): back to counting each request.
      await Bun.sleep(2100);
      expect(recorder.weight()).toBe(1);
    } finally {
      await recorder.stop();
    }
  });

  test("through the proxy, sampled requests still add up to what was served", async () => {
    const sampled = await testDeps({ ANALYTICS_FLUSH_SECONDS: "300", ANALYTICS_SAMPLE_ABOVE: "20" });
    const sampledConsumer = await startAnalyticsConsumer(sampled);
    try {
      const { user, token } = await testUser(sampled);
      const own = await siteProject(sampled, user.id);
      await deploySite(sampled, own, { "index.html": "<h1>busy</h1>" });
      const busy = await createProxy(sampled, { reconcileMs: 60_000 }, { runtime: () => ({}) as never });
      const site = `http://${own.subDomain}.${sampled.config.sitesDomain}:8001/`;
      const burst = async () => {
        for (let i = 0; i < 200; i++)
          await (await request(busy, site, { headers: { "user-agent": CHROME } })).text();
      };
      await burst();
      await Bun.sleep(1100);
      await burst();
      await busy.stop();
      const client = apiClient(sampled, token);
      await eventually(async () => {
        const { body } = await client("GET", `/api/projects/${own.id}/analytics?range=hour`);
        const requests = Number(obj(obj(body).totals).requests);
        // 400 served; the second burst counted 1 in about 10 with weight 10 (its exact share depends on where
        // the rate's one-second windows fell), so the total is right on average, not to the request.
        expect(requests).toBeGreaterThanOrEqual(300);
        expect(requests).toBeLessThanOrEqual(500);
      }, 5000);
    } finally {
      await sampledConsumer.stop();
      await sampled.close();
    }
  }, 60_000);
});

// The analytics store contract: the same cases run against every Analytics implementation (sqlite, ClickHouse).

import { describe, expect, test } from "bun:test";
import type { Analytics, AnalyticsFilter, AnalyticsRow } from "./analytics.ts";

/** A minute in the store's range: whole minutes, seconds since the epoch. */
export const T0 = Math.floor(Date.now() / 60_000) * 60 - 3600;

export function analyticsRow(projectId: string, overrides: Partial<AnalyticsRow> = {}): AnalyticsRow {
  return {
    projectId,
    deploymentId: crypto.randomUUID(),
    minute: T0,
    path: "/",
    referrer: "",
    country: "",
    browser: "Firefox",
    os: "Linux",
    status: 200,
    bot: false,
    visitor: "0123456789abcdef",
    ttfbUs: 1000,
    requests: 1,
    bytes: 100,
    ...overrides,
  };
}

const window = (projectId: string, more: Partial<AnalyticsFilter> = {}): AnalyticsFilter => ({
  projectId,
  from: T0 - 86_400,
  to: T0 + 86_400,
  bot: false,
  ...more,
});

/** `open` returns a ready store without retention of its own; each case uses fresh project ids. */
export function analyticsContract(name: string, open: () => Promise<Analytics>): void {
  describe(`analytics contract: ${name}`, () => {
    test("totals: requests and bytes summed, visitors distinct, bots apart", async () => {
      const store = await open();
      const p = crypto.randomUUID();
      const d = crypto.randomUUID();
      await store.append(crypto.randomUUID(), [
        analyticsRow(p, { deploymentId: d, requests: 3, bytes: 300, visitor: "aaaaaaaaaaaaaaaa" }),
        analyticsRow(p, { deploymentId: d, path: "/b", requests: 2, bytes: 50, visitor: "aaaaaaaaaaaaaaaa" }),
        analyticsRow(p, { deploymentId: d, requests: 1, bytes: 10, visitor: "bbbbbbbbbbbbbbbb" }),
        analyticsRow(p, { deploymentId: d, bot: true, requests: 7, visitor: "cccccccccccccccc" }),
      ]);
      expect(await store.group(window(p), { kind: "all" })).toEqual([
        { key: "", requests: 6, visitors: 2, bytes: 360 },
      ]);
      const bots = await store.group(window(p, { bot: true }), { kind: "all" });
      expect(bots.map((g) => g.requests)).toEqual([7]);
      // Another project sees nothing of it.
      expect(await store.group(window(crypto.randomUUID()), { kind: "all" })).toEqual([]);
    });

    test("a message stored twice counts once", async () => {
      const store = await open();
      const p = crypto.randomUUID();
      const batch = crypto.randomUUID();
      const rows = [analyticsRow(p, { requests: 4 }), analyticsRow(p, { path: "/x", requests: 1 })];
      await store.append(batch, rows);
      await store.append(batch, rows);
      const [all] = await store.group(window(p), { kind: "all" });
      expect(all?.requests).toBe(5);
    });

    test("top lists by dimension, most requests first, limited; filters narrow them", async () => {
      const store = await open();
      const p = crypto.randomUUID();
      const d1 = crypto.randomUUID();
      const d2 = crypto.randomUUID();
      await store.append(crypto.randomUUID(), [
        analyticsRow(p, { deploymentId: d1, path: "/a", referrer: "news.example", requests: 5, status: 200 }),
        analyticsRow(p, { deploymentId: d1, path: "/b", referrer: "", requests: 3, status: 404 }),
        analyticsRow(p, {
          deploymentId: d2,
          path: "/c",
          referrer: "news.example",
          requests: 1,
          country: "NZ",
        }),
        analyticsRow(p, { deploymentId: d2, path: "/é ü", requests: 2, browser: "Chrome", os: "Android" }),
      ]);
      const top = async (dimension: "path" | "referrer" | "status" | "deployment" | "country", more = {}) =>
        (await store.group(window(p, more), { kind: "dimension", dimension, limit: 3 })).map((g) => [
          g.key,
          g.requests,
        ]);
      expect(await top("path")).toEqual([
        ["/a", 5],
        ["/b", 3],
        ["/é ü", 2],
      ]);
      expect(await top("referrer")).toEqual([
        ["news.example", 6],
        ["", 5],
      ]);
      expect(await top("status")).toEqual([
        ["200", 8],
        ["404", 3],
      ]);
      expect(await top("deployment")).toEqual([
        [d1, 8],
        [d2, 3],
      ]);
      expect(await top("path", { deploymentId: d2 })).toEqual([
        ["/é ü", 2],
        ["/c", 1],
      ]);
      expect(await top("path", { referrer: "news.example" })).toEqual([
        ["/a", 5],
        ["/c", 1],
      ]);
      expect(await top("country", { path: "/c" })).toEqual([["NZ", 1]]);
      const browsers = await store.group(window(p), { kind: "dimension", dimension: "browser", limit: 10 });
      expect(browsers.map((g) => g.key)).toEqual(["Firefox", "Chrome"]);
    });

    test("time buckets and time-to-first-byte steps; the window's edges hold", async () => {
      const store = await open();
      const p = crypto.randomUUID();
      await store.append(crypto.randomUUID(), [
        analyticsRow(p, { minute: T0, requests: 2, ttfbUs: 500 }),
        analyticsRow(p, { minute: T0 + 60, requests: 3, ttfbUs: 2000, visitor: "1111111111111111" }),
        analyticsRow(p, { minute: T0 + 3600, requests: 4, ttfbUs: 2000 }),
      ]);
      const buckets = await store.group(window(p), { kind: "bucket", seconds: 3600 });
      const start = Math.floor(T0 / 3600) * 3600;
      const expected = new Map<number, number>();
      for (const [minute, n] of [
        [T0, 2],
        [T0 + 60, 3],
        [T0 + 3600, 4],
      ] as const) {
        const b = Math.floor(minute / 3600) * 3600;
        expected.set(b, (expected.get(b) ?? 0) + n);
      }
      expect(buckets.map((g) => [Number(g.key), g.requests])).toEqual([...expected.entries()]);
      expect(buckets[0] && Number(buckets[0].key)).toBe(start);
      const steps = await store.group(window(p), { kind: "ttfb" });
      expect(steps.map((g) => [Number(g.key), g.requests]).sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0))).toEqual(
        [
          [500, 2],
          [2000, 7],
        ],
      );
      const edge = await store.group(window(p, { from: T0 + 60, to: T0 + 3600 }), { kind: "all" });
      expect(edge.map((g) => g.requests)).toEqual([3]);
    });

    test("removeProjects and retention remove records; others stay", async () => {
      const store = await open();
      const gone = crypto.randomUUID();
      const kept = crypto.randomUUID();
      const old = Math.floor(Date.now() / 86_400_000) * 86_400 - 10 * 86_400;
      await store.append(crypto.randomUUID(), [
        analyticsRow(gone),
        analyticsRow(kept),
        analyticsRow(kept, { minute: old, requests: 9 }),
      ]);
      await store.removeProjects([gone]);
      expect(await store.group(window(gone), { kind: "all" })).toEqual([]);
      const wide = { from: old - 86_400, to: T0 + 86_400 };
      expect((await store.group(window(kept, wide), { kind: "all" }))[0]?.requests).toBe(10);
      await store.purgeOlderThan(5);
      expect((await store.group(window(kept, wide), { kind: "all" }))[0]?.requests).toBe(1);
    });
  });
}

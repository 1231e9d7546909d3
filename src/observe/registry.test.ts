// The Prometheus registry: what it writes parses back as the text format 0.0.4, with the values put in.

import { describe, expect, test } from "bun:test";
import { parseExposition, sampleValue } from "../testing/metrics.ts";
import { CONTENT_TYPE, createRegistry, escapeLabelValue } from "./registry.ts";

describe("registry", () => {
  test("counters and gauges by label, each family with HELP and TYPE", async () => {
    const r = createRegistry();
    const hits = r.counter("app_hits_total", "Hits.", ["route", "code"]);
    const temp = r.gauge("app_temperature", "Degrees.\nTwo lines \\ one slash.");
    hits.inc({ route: "/a", code: "200" });
    hits.inc({ route: "/a", code: "200" }, 2);
    hits.inc({ route: "/b", code: "404" });
    // A bound series is the same series as the one found by labels.
    hits.labels({ route: "/b", code: "404" }).inc(4);
    temp.set(21.5);
    temp.inc(undefined, -1.5);
    const text = await r.expose();
    const parsed = parseExposition(text);
    expect(parsed.families.get("app_hits_total")).toEqual({ help: "Hits.", type: "counter" });
    expect(parsed.families.get("app_temperature")?.type).toBe("gauge");
    expect(text).toContain("# HELP app_temperature Degrees.\\nTwo lines \\\\ one slash.\n");
    expect(sampleValue(parsed, "app_hits_total", { route: "/a", code: "200" })).toBe(3);
    expect(sampleValue(parsed, "app_hits_total", { route: "/b", code: "404" })).toBe(5);
    expect(sampleValue(parsed, "app_temperature")).toBe(20);
    expect(new Set(parsed.keys).size).toBe(parsed.keys.length);
    expect(CONTENT_TYPE).toBe("text/plain; version=0.0.4; charset=utf-8");
  });

  test("label values are escaped: quotes, backslashes and newlines come back as they were", async () => {
    const r = createRegistry();
    const odd = 'a "quoted" \\path\\ and\na newline';
    r.counter("odd_total", "Odd labels.", ["v"]).inc({ v: odd });
    expect(escapeLabelValue('"\\\n')).toBe('\\"\\\\\\n');
    const parsed = parseExposition(await r.expose());
    expect(parsed.samples[0]?.labels.v).toBe(odd);
    // One line per sample: the newline did not split it.
    expect((await r.expose()).split("\n").filter((l) => l.startsWith("odd_total"))).toHaveLength(1);
  });

  test("histograms: cumulative buckets up to +Inf, then _sum and _count", async () => {
    const r = createRegistry();
    const h = r.histogram("job_seconds", "Job time.", ["kind"], [1, 0.1, 10]);
    for (const v of [0.05, 0.1, 0.5]) h.observe(v, { kind: "build" });
    const bound = h.labels({ kind: "build" });
    for (const v of [3, 50]) bound.observe(v);
    const parsed = parseExposition(await r.expose());
    const bucket = (le: string) => sampleValue(parsed, "job_seconds_bucket", { kind: "build", le });
    // A value equal to a bound falls in that bucket (le = "less or equal").
    expect([bucket("0.1"), bucket("1"), bucket("10"), bucket("+Inf")]).toEqual([2, 3, 4, 5]);
    expect(sampleValue(parsed, "job_seconds_count", { kind: "build" })).toBe(5);
    expect(sampleValue(parsed, "job_seconds_sum", { kind: "build" })).toBeCloseTo(53.65);
    expect(parsed.families.get("job_seconds")?.type).toBe("histogram");
  });

  test("collectors are read at scrape time; replaced, removed, and a failing one costs only itself", async () => {
    const r = createRegistry();
    let depth = 3;
    r.collect("queue_depth", "Waiting.", "gauge", async () => [{ value: depth }]);
    r.counter("ok_total", "Fine.").inc();
    expect(sampleValue(parseExposition(await r.expose()), "queue_depth")).toBe(3);
    depth = 0;
    expect(sampleValue(parseExposition(await r.expose()), "queue_depth")).toBe(0);
    const remove = r.collect("queue_depth", "Waiting.", "gauge", () => [{ labels: { q: "x" }, value: 7 }]);
    expect(sampleValue(parseExposition(await r.expose()), "queue_depth", { q: "x" })).toBe(7);
    remove();
    expect(sampleValue(parseExposition(await r.expose()), "queue_depth")).toBeUndefined();
    r.collect("broken", "Fails.", "gauge", async () => {
      throw new Error("broker down");
    });
    const text = await r.expose();
    expect(text).toContain("# broken unavailable: broker down\n");
    expect(sampleValue(parseExposition(text), "ok_total")).toBe(1);
  });

  test("federated: other processes' counters and histograms are added in; gauges stay this process's", async () => {
    const other = createRegistry();
    other.counter("req_total", "Requests.", ["code"]).inc({ code: "200" }, 5);
    other.counter("req_total", "Requests.", ["code"]).inc({ code: "404" }, 2);
    other.histogram("lat_seconds", "Latency.", [], [0.1, 1]).observe(0.5);
    other.gauge("temp", "Degrees.").set(99);
    other.collect("hits_total", "Hits.", "counter", () => [{ value: 4 }]);
    const r = createRegistry();
    r.counter("req_total", "Requests.", ["code"]).inc({ code: "200" }, 3);
    const h = r.histogram("lat_seconds", "Latency.", [], [0.1, 1]);
    h.observe(0.05);
    r.gauge("temp", "Degrees.").set(20);
    r.collect("hits_total", "Hits.", "counter", () => [{ value: 1 }]);
    r.collect("hit_ratio", "Share.", "gauge", (remote) => [{ value: remote.counter("hits_total") }]);
    const snapshot = await other.snapshot();
    const stop = r.federate(async () => [snapshot, snapshot]);
    const parsed = parseExposition(await r.expose());
    expect(sampleValue(parsed, "req_total", { code: "200" })).toBe(13);
    // A series only the others have is shown too.
    expect(sampleValue(parsed, "req_total", { code: "404" })).toBe(4);
    expect(sampleValue(parsed, "lat_seconds_count")).toBe(3);
    expect(sampleValue(parsed, "lat_seconds_bucket", { le: "0.1" })).toBe(1);
    expect(sampleValue(parsed, "lat_seconds_sum")).toBeCloseTo(1.05);
    expect(sampleValue(parsed, "temp")).toBe(20);
    expect(sampleValue(parsed, "hits_total")).toBe(9);
    expect(sampleValue(parsed, "hit_ratio")).toBe(8);
    // A source that hangs or fails costs only its own part.
    stop();
    r.federate(async () => {
      throw new Error("gone");
    });
    expect(sampleValue(parseExposition(await r.expose()), "req_total", { code: "200" })).toBe(3);
  });

  test("programming mistakes are refused: bad names, wrong labels, a counter going down, type clashes", () => {
    const r = createRegistry();
    expect(() => r.counter("bad-name", "x")).toThrow(/invalid metric name/);
    expect(() => r.counter("x_total", "x", ["le"])).toThrow(/invalid label name/);
    expect(() => r.counter("y_total", "x", ["__y"])).toThrow(/invalid label name/);
    const c = r.counter("c_total", "x", ["a"]);
    expect(() => c.inc({ b: "1" })).toThrow(/takes labels a/);
    expect(() => c.inc({ a: "1" }, -1)).toThrow(/only go up/);
    expect(() => c.labels({ a: "1" }).inc(-1)).toThrow(/only go up/);
    expect(() => c.labels({})).toThrow(/takes labels a/);
    // Asking again for the same metric gives the same one; as another type, an error.
    expect(r.counter("c_total", "x", ["a"])).toBe(c);
    expect(() => r.gauge("c_total", "x")).toThrow(/already a counter/);
    expect(() => r.collect("c_total", "x", "gauge", () => [])).toThrow(/already a counter/);
  });
});

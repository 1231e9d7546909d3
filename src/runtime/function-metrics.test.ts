// Function metrics from real invocations (cold and warm, a crash, a timeout, a start that fails), read back from
// the process's /metrics text; and the `function` label bounded however many paths are deployed.

import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Deps } from "../deps.ts";
import { createMetrics } from "../observe/metrics.ts";
import { testDeps } from "../testing/deps.ts";
import { storeFunction } from "../testing/functions.ts";
import { parseExposition, sampleValue } from "../testing/metrics.ts";
import { functionMetrics, MAX_FUNCTIONS, OTHER } from "./function-metrics.ts";
import { createRuntime, type FunctionRuntime, type FunctionTarget } from "./runtime.ts";

let deps: Deps;
let runtime: FunctionRuntime;

beforeAll(async () => {
  deps = await testDeps({ FUNCTION_START_TIMEOUT_SECONDS: "10" });
  runtime = createRuntime(deps);
});
afterAll(async () => {
  await runtime.stop();
  await deps.close();
}, 30_000);

async function target(
  path: string,
  source: string,
  config: Record<string, unknown> = {},
): Promise<FunctionTarget> {
  return {
    deploymentId: crypto.randomUUID(),
    projectId: crypto.randomUUID(),
    environment: "preview",
    deploymentUrl: "http://m.localhost:8001",
    path,
    fn: await storeFunction(deps.artifacts, { "index.mjs": source }, config),
  };
}

async function call(t: FunctionTarget, search = ""): Promise<number> {
  const outcome = await runtime.invoke(t, {
    request: new Request(`http://m.localhost${t.path}${search}`),
    path: t.path,
    search,
    host: "m.localhost:8001",
    proto: "http",
    clientIp: null,
    requestId: "req-m",
  });
  if (outcome.kind === "failed") return outcome.status;
  await outcome.response.text();
  return outcome.response.status;
}

test("invocations by status class, cold starts, durations, errors by kind, instances", async () => {
  const ok = await target(
    "/api/ok",
    `export async function GET(r) {
      const q = new URL(r.url).searchParams;
      if (q.has("die")) process.exit(3);
      if (q.has("hang")) await new Promise(() => {});
      return new Response("ok", { status: q.has("missing") ? 404 : 200 });
    }`,
    { maxDuration: 1 },
  );
  const broken = await target("/api/broken", "throw new Error('no start');");
  expect([await call(ok), await call(ok), await call(ok, "?missing")]).toEqual([200, 200, 404]);
  let m = parseExposition(await deps.metrics.registry.expose());
  expect(sampleValue(m, "minivercel_function_instances")).toBe(1);
  expect(await call(ok, "?die")).toBe(502);
  expect(await call(ok, "?hang")).toBe(504);
  expect(await call(broken)).toBe(502);

  m = parseExposition(await deps.metrics.registry.expose());
  const value = (name: string, labels: Record<string, string>) => sampleValue(m, name, labels);
  const invocations = "minivercel_function_invocations_total";
  expect(value(invocations, { function: "/api/ok", status_class: "2xx" })).toBe(2);
  expect(value(invocations, { function: "/api/ok", status_class: "4xx" })).toBe(1);
  expect(value(invocations, { function: "/api/ok", status_class: "5xx" })).toBe(2);
  expect(value(invocations, { function: "/api/broken", status_class: "5xx" })).toBe(1);
  // The first request started an instance; the crash ended it, so the one after it started another.
  expect(value("minivercel_function_cold_starts_total", { function: "/api/ok" })).toBe(2);
  expect(value("minivercel_function_cold_starts_total", { function: "/api/broken" })).toBeUndefined();
  const errors = "minivercel_function_errors_total";
  expect(value(errors, { function: "/api/ok", kind: "crash" })).toBe(1);
  expect(value(errors, { function: "/api/ok", kind: "timeout" })).toBe(1);
  expect(value(errors, { function: "/api/broken", kind: "start" })).toBe(1);
  expect(value("minivercel_function_duration_seconds_count", { function: "/api/ok" })).toBe(5);
  // The timed-out request took its maxDuration (1 s), so at most the four others fall in a bucket below it
  // (cold starts on a busy machine may not), and the sum holds at least that second.
  const quick = value("minivercel_function_duration_seconds_bucket", { function: "/api/ok", le: "0.5" });
  expect(quick).toBeLessThanOrEqual(4);
  expect(quick).toBeGreaterThanOrEqual(1);
  expect(value("minivercel_function_duration_seconds_sum", { function: "/api/ok" })).toBeGreaterThanOrEqual(
    1,
  );
  expect(m.families.get("minivercel_function_duration_seconds")?.type).toBe("histogram");
  await runtime.stop();
  m = parseExposition(await deps.metrics.registry.expose());
  expect(sampleValue(m, "minivercel_function_instances")).toBe(0);
}, 60_000);

test("the function label is the path, at most MAX_FUNCTIONS of them; the rest share (other)", async () => {
  const metrics = createMetrics();
  const measured = functionMetrics(metrics);
  for (let i = 0; i < MAX_FUNCTIONS + 50; i++) measured.invoked(`/api/f${i}`, 200, 0.01);
  measured.invoked("/api/f0", 500, 0.01);
  measured.failed(`/api/f${MAX_FUNCTIONS + 1}`, "crash");
  measured.coldStart(`/x/${"a".repeat(300)}`);
  const m = parseExposition(await metrics.registry.expose());
  const labels = new Set(
    m.samples.filter((s) => s.name === "minivercel_function_invocations_total").map((s) => s.labels.function),
  );
  expect(labels.size).toBe(MAX_FUNCTIONS + 1);
  expect(
    sampleValue(m, "minivercel_function_invocations_total", { function: OTHER, status_class: "2xx" }),
  ).toBe(50);
  expect(
    sampleValue(m, "minivercel_function_invocations_total", { function: "/api/f0", status_class: "5xx" }),
  ).toBe(1);
  expect(sampleValue(m, "minivercel_function_errors_total", { function: OTHER, kind: "crash" })).toBe(1);
  // Paths already known keep their series; a new long one is past the cap too.
  expect(sampleValue(m, "minivercel_function_cold_starts_total", { function: OTHER })).toBe(1);
});

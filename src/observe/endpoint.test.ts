// /metrics for any role: a proxy-only process serves it on METRICS_PORT (its own port belongs to the sites),
// loopback-only and open without a token; the scrape itself is counted under role="metrics".

import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Deps } from "../deps.ts";
import { type Running, startRoles } from "../roles.ts";
import { testDeps } from "../testing/deps.ts";
import { parseExposition, sampleValue } from "../testing/metrics.ts";

let deps: Deps;
let roles: Running;

beforeAll(async () => {
  deps = await testDeps({
    MINIVERCEL_ROLE: "proxy",
    PROXY_PORT: "0",
    METRICS_PORT: "0",
    LISTEN_HOST: "0.0.0.0",
  });
  roles = await startRoles(deps);
});
afterAll(async () => {
  await roles.stop();
  await deps.close();
});

test("a proxy-only process: /metrics on METRICS_PORT (127.0.0.1 by default), no token needed there", async () => {
  const url = roles.urls.metrics ?? "";
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  const first = await fetch(url);
  expect(first.status).toBe(200);
  const m = parseExposition(await first.text());
  expect(sampleValue(m, "minivercel_info")).toBe(1);
  expect(sampleValue(m, "minivercel_bus_lag_messages", { topic: "route-changes", group: "proxy" })).toBe(0);
  expect(sampleValue(m, "minivercel_proxy_cache_requests_total", { result: "hit" })).toBe(0);
  expect(m.families.has("minivercel_http_requests_total")).toBe(true);
  // The function series are declared in every process (the proxy runs the functions), with no instance yet.
  expect(sampleValue(m, "minivercel_function_instances")).toBe(0);
  const declared: [string, string][] = [
    ["minivercel_function_invocations_total", "counter"],
    ["minivercel_function_cold_starts_total", "counter"],
    ["minivercel_function_duration_seconds", "histogram"],
    ["minivercel_function_errors_total", "counter"],
  ];
  for (const [name, type] of declared) expect(m.families.get(name)?.type).toBe(type);
  // The first scrape is counted once it has been answered: the second one sees it.
  const second = parseExposition(await (await fetch(url)).text());
  expect(
    sampleValue(second, "minivercel_http_requests_total", { role: "metrics", method: "GET", code: "200" }),
  ).toBe(1);
});

test("on the proxy's own port, /metrics is a path of the sites, not the platform's metrics", async () => {
  const port = /:(\d+)$/.exec(roles.urls.proxy ?? "")?.[1];
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { host: "nothing.localhost" } });
  expect(res.status).toBe(404);
  expect(await res.text()).not.toContain("minivercel_");
  expect(res.headers.get("x-request-id")).toBeNull();
});

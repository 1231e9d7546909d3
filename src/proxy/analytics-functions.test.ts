// Web analytics of answers from functions (through the real runtime): the bytes of a function's answer are counted
// as they are for files, whether it is read whole (with its length) or streamed without one (counted at its end).

import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Subscription } from "../bus/bus.ts";
import type { Deps } from "../deps.ts";
import type { Project } from "../model/entities.ts";
import { productionUrl } from "../model/urls.ts";
import { createRuntime } from "../runtime/runtime.ts";
import { apiClient, type Client, obj, testDeps, testUser } from "../testing/deps.ts";
import { deployBuildOutput, vcConfig } from "../testing/functions.ts";
import { eventually, request, siteProject } from "../testing/sites.ts";
import { startAnalyticsConsumer } from "../worker/analytics.ts";
import { createProxy, type SiteProxy } from "./proxy.ts";

const FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";

let deps: Deps;
let consumer: Subscription;
let proxy: SiteProxy;
let project: Project;
let api: Client;

beforeAll(async () => {
  deps = await testDeps({ ANALYTICS_FLUSH_SECONDS: "300" });
  consumer = await startAnalyticsConsumer(deps);
  const { user, token } = await testUser(deps);
  api = apiClient(deps, token);
  project = await siteProject(deps, user.id);
  await deployBuildOutput(deps, project, {
    "config.json": JSON.stringify({ version: 3 }),
    "functions/api/hello.func/.vc-config.json": vcConfig(),
    "functions/api/hello.func/index.mjs": `export function GET() { return new Response("x".repeat(1234)); }`,
    "functions/api/stream.func/.vc-config.json": vcConfig(),
    "functions/api/stream.func/index.mjs": `export function GET() {
      let sent = 0;
      const body = new ReadableStream({
        async pull(controller) {
          if (sent === 3) return controller.close();
          sent++;
          await new Promise((resolve) => setTimeout(resolve, 30));
          controller.enqueue(new TextEncoder().encode("y".repeat(sent * 1000)));
        },
      });
      return new Response(body, { headers: { "content-type": "text/plain" } });
    }`,
  });
  proxy = await createProxy(deps, { reconcileMs: 60_000 }, { runtime: () => createRuntime(deps) });
});

afterAll(async () => {
  await consumer.stop();
  await deps.close();
}, 30_000);

test("a function's answer counts its bytes: read whole with its length, or streamed without one", async () => {
  const url = productionUrl(project, deps.config);
  const whole = await request(proxy, `${url}/api/hello`, { headers: { "user-agent": FIREFOX } });
  expect(whole.headers.get("content-length")).toBe("1234");
  expect((await whole.text()).length).toBe(1234);
  const streamed = await request(proxy, `${url}/api/stream`, { headers: { "user-agent": FIREFOX } });
  expect(streamed.headers.get("content-length")).toBeNull();
  expect((await streamed.text()).length).toBe(6000);
  // The proxy's stop flushes what it counted; the worker's consumer stores it.
  await proxy.stop();
  await eventually(async () => {
    await Bun.sleep(200);
    const { status, body } = await api("GET", `/api/projects/${project.id}/analytics?range=hour`);
    expect(status).toBe(200);
    expect(obj(obj(body).totals)).toMatchObject({ requests: 2, bytes: 1234 + 6000 });
  }, 10_000);
}, 60_000);

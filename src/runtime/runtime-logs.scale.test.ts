// Runtime logs scaled out: a function runs in one process (its runtime), its watcher is on an api process of its
// own; the lines cross Kafka to the api's live stream and are read back from ClickHouse, over Postgres.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { Kafka } from "kafkajs";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import { type Running, startRoles } from "../roles.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { storeFunction } from "../testing/functions.ts";
import { type TestDatabase, testDatabase } from "../testing/postgres.ts";
import { testService } from "../testing/services.ts";
import { createRuntime, type FunctionRuntime, type FunctionTarget } from "./runtime.ts";

const run = crypto.randomUUID().replaceAll("-", "").slice(0, 10);
const prefix = `t-${run}.`;
let db: TestDatabase;
let apiDeps: Deps;
let fnDeps: Deps;
let roles: Running;
let runtime: FunctionRuntime;
let token: string;
let target: FunctionTarget;

beforeAll(async () => {
  db = await testDatabase();
  const env = {
    DATABASE_URL: db.url,
    KAFKA_BROKERS: testService("kafka"),
    KAFKA_TOPIC_PREFIX: prefix,
    CLICKHOUSE_URL: testService("clickhouse"),
    CLICKHOUSE_DATABASE: `mv_test_${run}`,
  };
  apiDeps = await testDeps({ ...env, MINIVERCEL_ROLE: "api", PORT: "0" });
  roles = await startRoles(apiDeps);
  fnDeps = await testDeps({ ...env, MINIVERCEL_ROLE: "proxy", FUNCTION_START_TIMEOUT_SECONDS: "10" });
  runtime = createRuntime(fnDeps);
  const owner = await testUser(apiDeps);
  token = owner.token;
  const project = await createProject(apiDeps.store, apiDeps.config, owner.user.id, { name: "scaled" });
  const deployment = await apiDeps.store.deployments.create({
    projectId: project.id,
    userId: owner.user.id,
    status: "READY",
    target: "production",
    branch: "main",
    commitSha: null,
  });
  target = {
    deploymentId: deployment.id,
    projectId: project.id,
    environment: "production",
    deploymentUrl: "http://scaled.localhost:8001",
    path: "/api/scaled",
    // The functions process reads the bundle from its own artifact store.
    fn: await storeFunction(fnDeps.artifacts, {
      "index.mjs": `export function GET() { console.log("from far away"); return new Response("ok"); }`,
    }),
  };
}, 120_000);

afterAll(async () => {
  await runtime?.stop();
  await roles?.stop();
  await fnDeps?.close();
  await apiDeps?.close();
  await db?.drop();
  const clickhouse = new URL(testService("clickhouse"));
  const auth = `Basic ${btoa(`${decodeURIComponent(clickhouse.username) || "default"}:${decodeURIComponent(clickhouse.password)}`)}`;
  clickhouse.username = "";
  clickhouse.password = "";
  await fetch(clickhouse.href, {
    method: "POST",
    body: `DROP DATABASE IF EXISTS mv_test_${run}`,
    headers: { authorization: auth },
  });
  const admin = new Kafka({ brokers: testService("kafka").split(","), logLevel: 0 }).admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
  await admin.deleteTopics({ topics }).catch(() => {});
  await admin.disconnect();
}, 60_000);

test("a line printed in the functions process reaches the api process live (Kafka) and through its API (ClickHouse)", async () => {
  const base = roles.urls.api ?? "";
  const headers = { authorization: `Bearer ${token}` };
  const controller = new AbortController();
  const res = await fetch(`${base}/api/deployments/${target.deploymentId}/runtime-logs/stream`, {
    headers,
    signal: controller.signal,
  });
  expect(res.status).toBe(200);
  const reader = res.body?.getReader();
  if (!reader) throw new Error("no stream");
  let text = "";
  const readUntil = async (needle: string) => {
    const deadline = Date.now() + 30_000;
    while (!text.includes(needle) && Date.now() < deadline) {
      const next = await Promise.race([reader.read(), Bun.sleep(500).then(() => null)]);
      if (next?.done) break;
      if (next) text += new TextDecoder().decode(next.value);
    }
    return text.includes(needle);
  };
  expect(await readUntil("event: ready")).toBe(true);

  const outcome = await runtime.invoke(target, {
    request: new Request("http://scaled.localhost/api/scaled"),
    path: "/api/scaled",
    search: "",
    host: "scaled.localhost:8001",
    proto: "http",
    clientIp: null,
    requestId: `req-${run}`,
  });
  if (outcome.kind !== "response") throw new Error(outcome.reason);
  expect(await outcome.response.text()).toBe("ok");

  expect(await readUntil(`"requestId":"req-${run}"`)).toBe(true);
  expect(text).toContain('"text":"from far away"');
  controller.abort();

  const page = (await (
    await fetch(`${base}/api/deployments/${target.deploymentId}/runtime-logs`, { headers })
  ).json()) as { items: { requestId: string | null; text: string; function: string }[] };
  expect(page.items).toEqual([
    expect.objectContaining({ requestId: `req-${run}`, text: "from far away", function: "/api/scaled" }),
  ]);
}, 60_000);

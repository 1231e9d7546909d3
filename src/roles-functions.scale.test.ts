// Functions scaled out for real: api, worker, a proxy with PROXY_FUNCTIONS=remote and two `--role=functions`
// nodes, each a process of its own with a data directory of its own, over Postgres + Kafka + ClickHouse + S3
// (moto): the nodes have nothing of the builder's but the bucket. Deploy zero-config functions, call them through
// the proxy, see them run on a node and stream through it; an app server woken there is seen (and restarted) through
// the api's API and dashboard (the api asks the nodes); then lose the nodes one by one.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import type { Subprocess } from "bun";
import { Kafka } from "kafkajs";
import { type ClusterRole, cliOutput, runsFunctions, startRole, stopProcesses } from "./testing/cluster.ts";
import { tempDir } from "./testing/deps.ts";
import { type TestDatabase, testDatabase } from "./testing/postgres.ts";
import { fixtureRepo } from "./testing/repos.ts";
import { testService } from "./testing/services.ts";
import { Visitor } from "./testing/visitor.ts";

const run = crypto.randomUUID().replaceAll("-", "").slice(0, 10);
const prefix = `t-${run}.`;
let db: TestDatabase;
let env: Record<string, string> = {};
const processes = new Map<string, { proc: Subprocess; url: string }>();

async function start(name: string, role: ClusterRole, more: Record<string, string> = {}): Promise<string> {
  const { url } = await startRole(
    role,
    { ...env, ...more, MINIVERCEL_DATA: tempDir(`minivercel-${name}-`) },
    { name, started: (proc) => processes.set(name, { proc, url: "" }) },
  );
  const proc = processes.get(name)?.proc;
  if (proc) processes.set(name, { proc, url });
  return url;
}

const cli = (args: string[], stdin?: string) => cliOutput(env, args, stdin);

let token = "";
const url = (name: string) => processes.get(name)?.url ?? "";
async function api(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${url("api")}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return (await res.json()) as Record<string, unknown>;
}
/** Deploys `files` as a new project through the api and waits for READY: its id and its production host. */
async function deployed(name: string, files: Record<string, string>): Promise<{ id: string; host: string }> {
  const repo = fixtureRepo(files);
  const project = await api("POST", "/api/projects", { name, gitUrl: repo.url });
  const id = String((await api("POST", "/api/deploy", { projectId: project.id })).id);
  const end = Date.now() + 120_000;
  for (;;) {
    const d = await api("GET", `/api/deployments/${id}`);
    if (d.status === "READY") break;
    if (d.status === "FAIL" || Date.now() > end) throw new Error(`deployment ${d.status}: ${d.statusReason}`);
    await Bun.sleep(200);
  }
  return { id, host: `${project.subDomain}.localhost` };
}
/** Whether the process runs a function instance now (a sandbox running the function launcher under it). */
const hasChild = (name: string) => runsFunctions(processes.get(name)?.proc.pid);

beforeAll(async () => {
  db = await testDatabase();
  const s3 = testService("moto");
  const bucket = `mv-fn-${run}`;
  await new S3Client({
    endpoint: s3,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  }).send(new CreateBucketCommand({ Bucket: bucket }));
  env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: tempDir(),
    DATABASE_URL: db.url,
    KAFKA_BROKERS: testService("kafka"),
    KAFKA_TOPIC_PREFIX: prefix,
    CLICKHOUSE_URL: testService("clickhouse"),
    CLICKHOUSE_DATABASE: `mv_fn_${run}`,
    S3_ENDPOINT: s3,
    S3_BUCKET: bucket,
    S3_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    MINIVERCEL_SECRET_KEY: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64"),
    MINIVERCEL_ALLOW_LOCAL_GIT: "1",
    DEPLOYMENT_PROTECTION_DEFAULT: "none",
    PORT: "0",
    PROXY_PORT: "0",
    FUNCTIONS_PORT: "0",
    LISTEN_HOST: "127.0.0.1",
    LOG_LEVEL: "warn",
  };
  await cli(["user", "create", "ops@example.com", "--password-stdin"], "a long password\n");
  token = await cli(["token", "create", "ops@example.com"]);
  // PROXY_FUNCTIONS=remote on the api too: it asks the nodes about their app servers.
  await start("api", "api", { PROXY_FUNCTIONS: "remote" });
  await Promise.all([
    start("worker", "worker"),
    start("proxy", "proxy", { PROXY_FUNCTIONS: "remote" }),
    start("fn1", "functions"),
    start("fn2", "functions"),
  ]);
}, 300_000);

afterAll(async () => {
  await stopProcesses([...processes.values()].map(({ proc }) => proc));
  await db?.drop();
  const clickhouse = new URL(testService("clickhouse"));
  const auth = `Basic ${btoa(`${decodeURIComponent(clickhouse.username) || "default"}:${decodeURIComponent(clickhouse.password)}`)}`;
  clickhouse.username = "";
  clickhouse.password = "";
  await fetch(clickhouse.href, {
    method: "POST",
    body: `DROP DATABASE IF EXISTS mv_fn_${run}`,
    headers: { authorization: auth },
  }).catch(() => {});
  const admin = new Kafka({ brokers: testService("kafka").split(","), logLevel: 0 }).admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
  await admin.deleteTopics({ topics }).catch(() => {});
  await admin.disconnect();
}, 60_000);

let host = "";
let deploymentId = "";
const site = (path: string, init: RequestInit = {}, at = host) =>
  fetch(`${url("proxy")}${path}`, {
    ...init,
    headers: { host: at, ...(init.headers as Record<string, string>) },
  });

test("a function deployed through the api runs on a functions node, called through the proxy", async () => {
  const made = await deployed("Scaled functions", {
    "index.html": "<h1>scaled functions</h1>",
    "api/hello.ts": `export function GET(request: Request) {
        console.log("hello ran");
        return Response.json({ hello: new URL(request.url).searchParams.get("name"), ip: request.headers.get("x-forwarded-for") });
      }`,
    "api/events.ts": `export function GET() {
        let n = 0;
        const body = new ReadableStream({
          async pull(controller) {
            if (n === 3) return controller.close();
            if (n > 0) await new Promise((resolve) => setTimeout(resolve, 500));
            controller.enqueue(new TextEncoder().encode("data: " + ++n + "\\n\\n"));
          },
        });
        return new Response(body, { headers: { "content-type": "text/event-stream" } });
      }`,
  });
  host = made.host;
  deploymentId = made.id;
  let page = await site("/");
  for (let i = 0; i < 50 && page.status !== 200; i++) {
    await Bun.sleep(100);
    page = await site("/");
  }
  expect(await page.text()).toBe("<h1>scaled functions</h1>");

  const res = await site("/api/hello?name=ada");
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ hello: "ada", ip: "127.0.0.1" });
  // One node runs it (its instance is that process's child); the proxy runs nothing.
  expect([hasChild("fn1"), hasChild("fn2")].filter(Boolean)).toHaveLength(1);
  expect(hasChild("proxy")).toBe(false);

  // What it printed on the node reached ClickHouse, through the api.
  const logEnd = Date.now() + 15_000;
  let items: { text: string; function: string }[] = [];
  while (!items.some((l) => l.text === "hello ran") && Date.now() < logEnd) {
    await Bun.sleep(200);
    items = (await api("GET", `/api/deployments/${deploymentId}/runtime-logs`)).items as typeof items;
  }
  expect(items).toContainEqual(expect.objectContaining({ text: "hello ran", function: "/api/hello" }));
}, 180_000);

test("an event stream crosses the proxy and the node as it is written", async () => {
  const started = performance.now();
  const res = await site("/api/events");
  expect(res.headers.get("content-type")).toBe("text/event-stream");
  const reader = res.body?.getReader();
  if (!reader) throw new Error("no body");
  const arrivals: [string, number][] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    arrivals.push([new TextDecoder().decode(value), performance.now() - started]);
  }
  expect(arrivals.map(([text]) => text).join("")).toBe("data: 1\n\ndata: 2\n\ndata: 3\n\n");
  const first = arrivals.find(([text]) => text.includes("data: 1"))?.[1] ?? Infinity;
  const last = arrivals.find(([text]) => text.includes("data: 3"))?.[1] ?? 0;
  expect(last - first).toBeGreaterThan(900);
}, 60_000);

test("an app server woken on a node is seen and restarted through the api's API and dashboard", async () => {
  const app = await deployed("Scaled app", {
    "package.json": JSON.stringify({ name: "scaled-app", scripts: { start: "bun server.js" } }),
    "server.js": `Bun.serve({ hostname: "127.0.0.1", port: Number(process.env.PORT),
      fetch: () => new Response("app " + process.pid) });`,
  });
  type Status = {
    visible: boolean;
    instances: { id: string; node: string | null; state: string }[];
    unanswered: unknown[];
  };
  const status = async () => (await api("GET", `/api/deployments/${app.id}/app`)) as unknown as Status;
  // The api sees where it runs (the proxies may be warming it already: production moved to it).
  expect(await status()).toMatchObject({ visible: true, unanswered: [] });
  // The proxy hears of the new production deployment on the bus: a moment after READY.
  let woken = await site("/", {}, app.host);
  for (let i = 0; i < 50 && woken.status !== 200; i++) {
    await Bun.sleep(100);
    woken = await site("/", {}, app.host);
  }
  expect(await woken.text()).toMatch(/^app \d+$/);
  const before = await status();
  expect(before.instances).toEqual([
    expect.objectContaining({ node: expect.stringMatching(/^[0-9a-f-]{36}$/), state: "ready" }),
  ]);
  expect(before.unanswered).toEqual([]);
  const [instance] = before.instances;

  // The dashboard's page of the deployment shows the instance and its node.
  const dashboard = new Visitor({
    handle: (request) => {
      const { pathname, search } = new URL(request.url);
      return fetch(`${url("api")}${pathname}${search}`, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        redirect: "manual",
      });
    },
  });
  await dashboard.get("/login");
  const login = await dashboard.post("/login", { email: "ops@example.com", password: "a long password" });
  expect(login.status).toBe(303);
  const page = await dashboard.get(`/deployments/${app.id}`);
  expect(page.status).toBe(200);
  expect(page.text).toContain(`data-instance="${instance?.id}"`);
  expect(page.text).toContain(`data-node="${instance?.node}"`);

  // Its Restart button stops it on its node; the next request starts a fresh one.
  const restarted = await dashboard.post(`/deployments/${app.id}/restart`);
  expect(restarted.status).toBe(303);
  expect((await status()).instances).toEqual([]);
  expect((await dashboard.get(`/deployments/${app.id}`)).text).not.toContain("data-instance=");
  expect(await (await site("/", {}, app.host)).text()).toMatch(/^app \d+$/);
  const after = await status();
  expect(after.instances).toHaveLength(1);
  expect(after.instances[0]?.id).not.toBe(instance?.id);

  // And the API's restart: nothing left running on the nodes (the tests below count their children).
  const stopped = (await api("POST", `/api/deployments/${app.id}/app/restart`)) as unknown as Status;
  expect(stopped.instances).toEqual([]);
}, 180_000);

test("a node killed: the next call runs on the other one; both gone: a 503 page", async () => {
  const owner = hasChild("fn1") ? "fn1" : "fn2";
  const other = owner === "fn1" ? "fn2" : "fn1";
  const killed = processes.get(owner)?.proc;
  killed?.kill("SIGKILL");
  await killed?.exited;
  const res = await site("/api/hello?name=grace");
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ hello: "grace", ip: "127.0.0.1" });
  expect(hasChild(other)).toBe(true);

  const last = processes.get(other)?.proc;
  last?.kill("SIGKILL");
  await last?.exited;
  const none = await site("/api/hello");
  expect(none.status).toBe(503);
  expect(await none.text()).toContain("Functions unavailable");
  // The site's static files do not need a node.
  expect((await site("/")).status).toBe(200);
}, 60_000);

// The seed's production architecture for real: api x2, worker x2 and proxy x2 as separate processes over
// Postgres + Kafka + ClickHouse + S3 (moto). Deploy, stream, serve, promote/rollback, lose a worker, restart Kafka.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { resolve } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import type { Subprocess } from "bun";
import postgres from "postgres";
import { type ClusterRole, cliOutput, runsBuilder, startRole, stopProcesses } from "./testing/cluster.ts";
import { tempDir } from "./testing/deps.ts";
import { fixtureRepo } from "./testing/repos.ts";
import { startService, testService } from "./testing/services.ts";

const ROOT = resolve(import.meta.dir, "..");
const KAFKA_PID = resolve(ROOT, ".services/kafka/kafka.pid");

const run = crypto.randomUUID().replaceAll("-", "").slice(0, 10);
let env: Record<string, string> = {};
const processes = new Map<string, { proc: Subprocess; url: string }>();

async function start(name: string, role: ClusterRole): Promise<string> {
  const { url } = await startRole(
    role,
    { ...env, MINIVERCEL_DATA: tempDir(`minivercel-${name}-`) },
    // Registered at once, so afterAll stops it even when it never gets ready.
    { name, started: (proc) => processes.set(name, { proc, url: "" }) },
  );
  const proc = processes.get(name)?.proc;
  if (proc) processes.set(name, { proc, url });
  return url;
}

const cli = (args: string[], stdin?: string) => cliOutput(env, args, stdin);

let token = "";
const url = (name: string) => processes.get(name)?.url ?? "";
async function api(
  name: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${url(name)}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  // A refused call fails here with what the server said, not later as a missing field.
  if (!res.ok) throw new Error(`${method} ${path} on ${name}: HTTP ${res.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}
async function waitFor(
  id: string,
  done: (status: string) => boolean,
  ms: number,
): Promise<Record<string, unknown>> {
  const end = Date.now() + ms;
  for (;;) {
    // A rebuild is named in its predecessor's reason a moment before its own row is written: until then, 404.
    const d = await api("api1", "GET", `/api/deployments/${id}`).catch((error: unknown) => {
      if (error instanceof Error && error.message.includes("HTTP 404") && Date.now() < end)
        return {} as Record<string, unknown>;
      throw error;
    });
    if (done(String(d.status))) return d;
    if (Date.now() > end) throw new Error(`deployment ${id} stuck in ${d.status} (${d.statusReason})`);
    await Bun.sleep(100);
  }
}
const terminal = (s: string) => ["READY", "FAIL", "CANCELED"].includes(s);
async function site(proxy: string, host: string, path = "/"): Promise<string> {
  const res = await fetch(`${url(proxy)}${path}`, { headers: { host } });
  return res.ok ? await res.text() : `HTTP ${res.status}`;
}
async function logLines(id: string): Promise<{ seq: number; text: string }[]> {
  const page = await api("api2", "GET", `/api/deployments/${id}/logs?limit=5000`);
  return page.items as { seq: number; text: string }[];
}

beforeAll(async () => {
  const pgUrl = testService("postgres");
  const brokers = testService("kafka");
  const clickhouse = testService("clickhouse");
  const s3 = testService("moto");
  const admin = postgres(pgUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE mv_scale_${run}`);
  await admin.end();
  const bucket = `mv-scale-${run}`;
  await new S3Client({
    endpoint: s3,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  }).send(new CreateBucketCommand({ Bucket: bucket }));
  env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: tempDir(),
    DATABASE_URL: pgUrl.replace(/\/[^/]*$/, `/mv_scale_${run}`),
    KAFKA_BROKERS: brokers,
    // Topics and consumer groups of this run only: another test's killed workers never hold its partitions.
    KAFKA_TOPIC_PREFIX: `scale-${run}.`,
    CLICKHOUSE_URL: clickhouse,
    CLICKHOUSE_DATABASE: `mv_scale_${run}`,
    S3_ENDPOINT: s3,
    S3_BUCKET: bucket,
    S3_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    MINIVERCEL_SECRET_KEY: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64"),
    MINIVERCEL_ALLOW_LOCAL_GIT: "1",
    DEPLOYMENT_PROTECTION_DEFAULT: "none",
    BUILD_HEARTBEAT_TIMEOUT_SECONDS: "5",
    PORT: "0",
    PROXY_PORT: "0",
    LISTEN_HOST: "127.0.0.1",
    // The tests poll both api processes every 100 ms as one user: no request budget to run out of.
    RATE_LIMIT_IP_PER_MINUTE: "0",
    RATE_LIMIT_USER_PER_MINUTE: "0",
    RATE_LIMIT_USER_WRITES_PER_MINUTE: "0",
  };
  await cli(["user", "create", "ops@example.com", "--password-stdin"], "a long password\n");
  token = await cli(["token", "create", "ops@example.com"]);
  await Promise.all([
    start("api1", "api"),
    start("api2", "api"),
    start("w1", "worker"),
    start("w2", "worker"),
    start("p1", "proxy"),
    start("p2", "proxy"),
  ]);
}, 300_000);

afterAll(async () => {
  await stopProcesses([...processes.values()].map(({ proc }) => proc));
}, 30_000);

let projectId = "";
let host = "";
let first = "";

test("deploy through one api, stream the log through the other, serve through both proxies", async () => {
  const repo = fixtureRepo({
    "build.sh":
      "for i in $(seq 1 20); do echo line $i; sleep 0.05; done\nmkdir -p dist && echo '<h1>v1</h1>' > dist/index.html\n",
    "package.json": JSON.stringify({ name: "scaled", scripts: { build: "sh build.sh" } }),
  });
  const project = await api("api1", "POST", "/api/projects", {
    name: "Scaled",
    gitUrl: repo.url,
    installCommand: "true",
  });
  projectId = String(project.id);
  host = `${project.subDomain}.localhost`;
  const d = await api("api1", "POST", "/api/deploy", { projectId });
  first = String(d.id);
  const stream = await fetch(`${url("api2")}/api/deployments/${first}/logs/stream`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const text = await stream.text();
  const seqs = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
  expect(seqs.length).toBeGreaterThan(20);
  expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
  expect(text).toContain("line 20");
  expect(text).toMatch(/event: status\ndata: .*"status":"READY"/);
  for (const proxy of ["p1", "p2"]) {
    const end = Date.now() + 5000;
    while ((await site(proxy, host)) !== "<h1>v1</h1>\n" && Date.now() < end) await Bun.sleep(50);
    expect(await site(proxy, host)).toBe("<h1>v1</h1>\n");
  }
  repo.commit({ "build.sh": "mkdir -p dist && echo '<h1>v2</h1>' > dist/index.html\n" });
}, 120_000);

test("promote and rollback: both proxies switch within 1 s", async () => {
  const second = await api("api2", "POST", "/api/deploy", { projectId });
  expect((await waitFor(String(second.id), terminal, 60_000)).status).toBe("READY");
  const switched = async (body: string) => {
    const started = Date.now();
    for (const proxy of ["p1", "p2"]) {
      while ((await site(proxy, host)) !== body) {
        if (Date.now() - started > 1000) throw new Error(`${proxy} still not serving ${body} after 1 s`);
        await Bun.sleep(10);
      }
    }
  };
  await switched("<h1>v2</h1>\n");
  await api("api1", "POST", `/api/projects/${projectId}/rollback`);
  await switched("<h1>v1</h1>\n");
  await api("api2", "POST", `/api/deployments/${second.id}/promote`);
  await switched("<h1>v2</h1>\n");
}, 120_000);

test("a worker killed mid-build: the deployment still ends, with a reason, and is queued again", async () => {
  const repo = fixtureRepo({
    "package.json": JSON.stringify({ name: "slow", scripts: { build: "echo started; sleep 120" } }),
  });
  const project = await api("api1", "POST", "/api/projects", {
    name: "Slow",
    gitUrl: repo.url,
    installCommand: "true",
  });
  const d = await api("api1", "POST", "/api/deploy", { projectId: project.id });
  const id = String(d.id);
  const end = Date.now() + 60_000;
  while (!(await logLines(id)).some((l) => l.text === "started") && Date.now() < end) await Bun.sleep(100);
  // The worker running it is the one with a builder child.
  const victim = ["w1", "w2"].find((name) => runsBuilder(processes.get(name)?.proc.pid));
  expect(victim).toBeDefined();
  processes.get(victim ?? "")?.proc.kill("SIGKILL");
  const ended = await waitFor(id, terminal, 40_000);
  expect(ended.status).toBe("FAIL");
  // The surviving worker's reaper rebuilds the same commit (src/worker/interrupted.ts).
  const rebuildId = /^lost contact with the builder .*; rebuilding it as (\S+)$/.exec(
    String(ended.statusReason),
  )?.[1];
  if (!rebuildId) throw new Error(`unexpected reason: ${ended.statusReason}`);
  const rebuild = await waitFor(rebuildId, (s) => s === "IN_PROGRESS", 30_000);
  expect(rebuild.commitSha).toBe(ended.commitSha);
  // It would sleep too: canceled, so it does not hold a build slot for the tests after this one.
  await api("api1", "POST", `/api/deployments/${rebuildId}/cancel`);
  expect((await waitFor(rebuildId, terminal, 30_000)).status).toBe("CANCELED");
}, 120_000);

test("a Kafka broker restart during a build loses and duplicates no log line", async () => {
  const repo = fixtureRepo({
    "build.sh":
      "for i in $(seq 1 60); do echo tick $i; sleep 0.1; done\nmkdir -p dist && echo ok > dist/index.html\n",
    "package.json": JSON.stringify({ name: "ticks", scripts: { build: "sh build.sh" } }),
  });
  const project = await api("api1", "POST", "/api/projects", {
    name: "Ticks",
    gitUrl: repo.url,
    installCommand: "true",
  });
  const d = await api("api1", "POST", "/api/deploy", { projectId: project.id });
  const id = String(d.id);
  const end = Date.now() + 60_000;
  while (!(await logLines(id)).some((l) => l.text === "tick 5") && Date.now() < end) await Bun.sleep(100);
  const pid = Number(await Bun.file(KAFKA_PID).text());
  process.kill(pid, "SIGTERM");
  while (Bun.spawnSync(["kill", "-0", String(pid)]).exitCode === 0) await Bun.sleep(100);
  startService("kafka");
  const ended = await waitFor(id, terminal, 120_000);
  expect(ended.status).toBe("READY");
  let lines = await logLines(id);
  const settle = Date.now() + 10_000;
  while (lines.filter((l) => l.text.startsWith("tick ")).length < 60 && Date.now() < settle) {
    await Bun.sleep(200);
    lines = await logLines(id);
  }
  const ticks = lines.filter((l) => l.text.startsWith("tick ")).map((l) => l.text);
  expect(ticks).toEqual(Array.from({ length: 60 }, (_, i) => `tick ${i + 1}`));
  expect(lines.map((l) => l.seq)).toEqual(Array.from({ length: lines.length }, (_, i) => i + 1));
}, 240_000);

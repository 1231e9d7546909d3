// Bench (issue 6): log throughput through Kafka into ClickHouse across 2 worker processes (lines/s, none lost),
// and route-change propagation from a promote on an api process to 2 proxy processes. Run: bun bench/scale.ts
// Needs Postgres, Kafka, ClickHouse and moto: MINIVERCEL_TEST_* addresses, else scripts/services.sh starts them.

import { rmSync } from "node:fs";
import { resolve } from "node:path";
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  S3Client,
} from "@aws-sdk/client-s3";
import type { Subprocess } from "bun";
import { Kafka, logLevel } from "kafkajs";
import postgres from "postgres";
import { loadConfig } from "../src/config/config.ts";
import { openDeps } from "../src/deps.ts";
import { createApiToken, createUser } from "../src/identity/accounts.ts";
import { startRole, stopProcesses } from "../src/testing/cluster.ts";
import { tempDir } from "../src/testing/deps.ts";

const ROOT = resolve(import.meta.dir, "..");
const SCRIPT = resolve(ROOT, "scripts/services.sh");

function count(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === "" ? fallback : Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive whole number`);
  return value;
}
/**
 * Deployments x lines per deployment, one round each per shape. Workers apply a deployment's lines in order,
 * in batches of what has arrived (one log INSERT per batch), so few busy deployments and many small ones load
 * the path differently: both are measured.
 */
const SHAPES = (process.env.BENCH_SHAPES ?? "10x500,100x200").split(",").map((shape) => {
  const [deployments, lines] = shape.split("x").map(Number);
  if (!Number.isSafeInteger(deployments) || !Number.isSafeInteger(lines) || !deployments || !lines)
    throw new Error(`BENCH_SHAPES: '${shape}' is not <deployments>x<lines>`);
  return { deployments, lines };
});
const ROUNDS = count("BENCH_ROUNDS", 3);
const SWITCHES = count("BENCH_SWITCHES", 50);
/** A round whose stored count has not grown for this long is over: what is missing is reported lost. */
const STALL_MS = 30_000;
/** Longest wait for a proxy to serve a promoted deployment. */
const SWITCH_TIMEOUT_MS = 10_000;

/** A service's address: from the environment (as CI exports them) or the project's script. */
function service(name: string, variable: string): string {
  const given = process.env[variable];
  if (given) return given;
  const run = Bun.spawnSync(["bash", SCRIPT, name], { stdout: "pipe", stderr: "pipe" });
  const address = run.stdout.toString().trim().split("\n").at(-1) ?? "";
  if (!run.success || address === "") throw new Error(`no ${name} for the bench: ${run.stderr.toString()}`);
  return address;
}

const pgUrl = service("postgres", "MINIVERCEL_TEST_DATABASE_URL");
const brokers = service("kafka", "MINIVERCEL_TEST_KAFKA_BROKERS");
const clickhouse = service("clickhouse", "MINIVERCEL_TEST_CLICKHOUSE_URL");
const s3Endpoint = service("moto", "MINIVERCEL_TEST_S3_ENDPOINT");

const run = crypto.randomUUID().replaceAll("-", "").slice(0, 10);
const database = `mv_bench_${run}`;
const bucket = `mv-bench-${run}`;
const s3 = new S3Client({
  endpoint: s3Endpoint,
  region: "us-east-1",
  forcePathStyle: true,
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
});
const env: Record<string, string> = {
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  HOME: tempDir("bench-scale-home-"),
  DATABASE_URL: pgUrl.replace(/\/[^/]*$/, `/${database}`),
  KAFKA_BROKERS: brokers,
  CLICKHOUSE_URL: clickhouse,
  CLICKHOUSE_DATABASE: database,
  S3_ENDPOINT: s3Endpoint,
  S3_BUCKET: bucket,
  S3_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "test",
  AWS_SECRET_ACCESS_KEY: "test",
  MINIVERCEL_SECRET_KEY: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64"),
  // Only the route-changes message may move a proxy: the periodic full reload would hide a slow one.
  PROXY_RECONCILE_SECONDS: "3600",
  // Tags this run's Kafka clients, to tell its workers from other runs' in the shared `workers` group.
  KAFKA_CLIENT_ID: `minivercel-bench-${run}`,
  PORT: "0",
  PROXY_PORT: "0",
  LISTEN_HOST: "127.0.0.1",
};
const dataDirs: string[] = [env.HOME ?? ""];
const dataDir = () => {
  const dir = tempDir("bench-scale-data-");
  dataDirs.push(dir);
  return dir;
};

// ---- processes ----------------------------------------------------------------------------------------

const children: { name: string; proc: Subprocess }[] = [];
/** Events the workers refused: other runs' test messages left in the shared `workers` group's backlog. */
let rejected = 0;

/** Forwards a child's stderr, counting rather than printing refused events and kafkajs's timer warnings. */
async function forwardStderr(name: string, stream: ReadableStream<Uint8Array>): Promise<void> {
  const decoder = new TextDecoder();
  let pending = "";
  let skip = 0;
  for await (const chunk of stream) {
    pending += decoder.decode(chunk, { stream: true });
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      if (line.includes("rejected build event")) rejected++;
      // kafkajs schedules negative timeouts under Bun; the warning is three lines long.
      else if (line.includes("TimeoutNegativeWarning")) skip = 2;
      else if (skip > 0) skip--;
      else console.error(`[${name}] ${line}`);
    }
  }
}

/** Starts `serve --role=<role>` and resolves with its URL (api, proxy) once it says it is up. */
async function start(name: string, role: "api" | "worker" | "proxy"): Promise<string> {
  const { url } = await startRole(
    role,
    { ...env, MINIVERCEL_DATA: dataDir() },
    {
      name,
      started: (proc) => children.push({ name, proc }),
      stderr: (stream) => forwardStderr(name, stream),
    },
  );
  return url;
}

async function stopChildren(): Promise<void> {
  await stopProcesses(children.map(({ proc }) => proc));
  children.length = 0;
}

// ---- numbers --------------------------------------------------------------------------------------------

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
/** Nearest-rank percentile. */
function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
}
const int = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (n: number) => (n < 10 ? n.toFixed(1) : n.toFixed(0));

/** One ClickHouse query over HTTP, rows as JSON objects. */
async function clickhouseRows(sql: string): Promise<Record<string, unknown>[]> {
  const res = await fetch(`${clickhouse}/`, { method: "POST", body: `${sql} FORMAT JSONEachRow` });
  const text = await res.text();
  if (!res.ok) throw new Error(`ClickHouse: ${text}`);
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const row: unknown = JSON.parse(line);
      if (typeof row !== "object" || row === null) throw new Error(`ClickHouse row: ${line}`);
      return row as Record<string, unknown>;
    });
}
// JSONEachRow quotes 64-bit integers.
const numberOf = (value: unknown) =>
  typeof value === "string" || typeof value === "number" ? Number(value) : 0;

interface Stored {
  /** Distinct seqs stored (what a reader sees). */
  lines: number;
  /** Raw rows: re-delivered copies stay until ReplacingMergeTree merges them, so this bounds duplicates from below. */
  rows: number;
  min: number;
  max: number;
}

async function storedPerDeployment(ids: string[]): Promise<Map<string, Stored>> {
  const rows = await clickhouseRows(
    `SELECT deployment_id AS d, count() AS rows, uniqExact(seq) AS lines, min(seq) AS lo, max(seq) AS hi ` +
      `FROM \`${database}\`.log_events WHERE deployment_id IN (${ids.map((id) => `'${id}'`).join(", ")}) ` +
      "GROUP BY deployment_id",
  );
  return new Map(
    rows.map((r) => [
      String(r.d),
      { lines: numberOf(r.lines), rows: numberOf(r.rows), min: numberOf(r.lo), max: numberOf(r.hi) },
    ]),
  );
}

// ---- setup ------------------------------------------------------------------------------------------------

const kafkaAdmin = new Kafka({
  brokers: brokers.split(","),
  clientId: `bench-admin-${run}`,
  logLevel: logLevel.NOTHING,
}).admin();
await kafkaAdmin.connect();
const admin = postgres(pgUrl, { max: 1, onnotice: () => {} });
await admin.unsafe(`CREATE DATABASE ${database}`);
await s3.send(new CreateBucketCommand({ Bucket: bucket }));
// The bench's own ports, as a process of the platform opens them: the store, the log store, the Kafka bus.
const deps = await openDeps(loadConfig({ ...env, MINIVERCEL_DATA: dataDir() }));
const user = await createUser(deps.store, "bench@example.com", "a long bench password");
const { token } = await createApiToken(deps.store, user.id, "bench");

interface Round {
  publishMs: number;
  storedMs: number;
  lost: number;
  duplicates: number;
}

/** Publishes `lines` log lines for each of `deployments` new deployments; waits until ClickHouse has every one. */
async function logRound(lines: number, deployments: number): Promise<Round> {
  const project = await deps.store.projects.create({
    userId: user.id,
    name: `logs ${crypto.randomUUID().slice(0, 8)}`,
    gitUrl: null,
    subDomain: `logs-${crypto.randomUUID().slice(0, 8)}`,
    customDomain: null,
    productionBranch: "main",
    rootDirectory: null,
    installCommand: null,
    buildCommand: null,
    outputDirectory: null,
    buildTimeoutSeconds: null,
    spaFallback: false,
    startCommand: null,
    idleTimeoutMinutes: null,
    maxInstances: null,
  });
  const ids: string[] = [];
  for (let i = 0; i < deployments; i++) {
    const d = await deps.store.deployments.create({
      projectId: project.id,
      userId: user.id,
      status: "QUEUED",
      target: "preview",
      branch: null,
      commitSha: null,
    });
    await deps.store.deployments.transition(d.id, "IN_PROGRESS", null);
    ids.push(d.id);
  }
  const total = lines * deployments;
  const text = (id: string, seq: number) =>
    `[build] ${id.slice(0, 8)} line ${seq}: vite v6 transforming (${seq}) src/components/Widget${seq % 97}.tsx`;

  const started = performance.now();
  let storedAt = 0;
  let last = new Map<string, Stored>();
  let reported = started;
  let progress = 0;
  let progressAt = started;
  const waiting = (async () => {
    for (;;) {
      last = await storedPerDeployment(ids);
      const seen = [...last.values()].reduce((sum, s) => sum + s.lines, 0);
      if (seen >= total) {
        storedAt = performance.now();
        return;
      }
      const now = performance.now();
      if (seen > progress) {
        progress = seen;
        progressAt = now;
      } else if (now - progressAt > STALL_MS) return;
      if (now - reported > 5_000) {
        reported = now;
        console.error(`  ${int(seen)} of ${int(total)} lines stored after ${int(now - started)} ms`);
      }
      // Every 100 ms: a 1% resolution on rounds of ~10 s, without loading ClickHouse with the counting.
      await Bun.sleep(100);
    }
  })();
  // As a builder's lines arrive: every deployment's lines in order, all deployments at once.
  const at = new Date().toISOString();
  const sends: Promise<void>[] = [];
  for (let seq = 1; seq <= lines; seq++) {
    for (const id of ids) {
      sends.push(
        deps.bus.publish("build-events", id, {
          type: "log",
          deploymentId: id,
          seq,
          stream: "stdout",
          text: text(id, seq),
          at,
        }),
      );
    }
  }
  await Promise.all(sends);
  const publishMs = performance.now() - started;
  await waiting;

  // Through the log store port, as the API reads them: each seq once, 1..lines, the right text.
  let lost = 0;
  for (const id of ids) {
    const read = await deps.logs.read(id, 0, lines + 1);
    const good = read.filter((line, i) => line.seq === i + 1 && line.text === text(id, line.seq)).length;
    lost += lines - good;
    if (read.length !== lines || good !== lines)
      console.error(`deployment ${id}: ${read.length} lines read, ${good} in order and intact`);
  }
  const stored = await storedPerDeployment(ids);
  const duplicates = [...stored.values()].reduce((sum, s) => sum + s.rows - s.lines, 0);
  for (const [id, s] of last)
    if (s.min !== 1 || s.max !== lines) console.error(`deployment ${id}: seq ${s.min}..${s.max}`);
  return { publishMs, storedMs: storedAt === 0 ? Number.NaN : storedAt - started, lost, duplicates };
}

interface Site {
  id: string;
  body: string;
}

/** Reads `a.b.c` out of a JSON answer, or undefined. */
function field(value: unknown, ...path: string[]): unknown {
  let at = value;
  for (const key of path) {
    if (typeof at !== "object" || at === null || !(key in at)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

/** One API call as the bench user; the answer parsed as JSON (or its text). */
async function call(
  apiUrl: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  try {
    return { status: res.status, body: text === "" ? null : JSON.parse(text) };
  } catch {
    return { status: res.status, body: text };
  }
}

/** Uploads one index.html through the upload API and deploys it to production, prebuilt (no build). */
async function deploySite(apiUrl: string, projectId: string, body: string): Promise<Site> {
  const hash = new Bun.CryptoHasher("sha256").update(body).digest("hex");
  const missing = await call(apiUrl, "POST", "/api/files/missing", { hashes: [hash] });
  if (missing.status !== 200) throw new Error(`files/missing: ${JSON.stringify(missing)}`);
  const put = await fetch(`${apiUrl}/api/files/${hash}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${token}` },
    body,
  });
  if (put.status !== 204) throw new Error(`PUT file: ${put.status} ${await put.text()}`);
  const created = await call(apiUrl, "POST", `/api/projects/${projectId}/deployments`, {
    files: { "/index.html": { hash, size: Buffer.byteLength(body) } },
    target: "production",
  });
  const id = field(created.body, "deployment", "id");
  if (
    created.status !== 201 ||
    typeof id !== "string" ||
    field(created.body, "deployment", "status") !== "READY"
  )
    throw new Error(`deploy: ${JSON.stringify(created)}`);
  return { id, body };
}

/** Polls a proxy back to back until it serves `body` on `host`; resolves with the time of that answer. */
async function servedAt(proxyUrl: string, host: string, body: string): Promise<number> {
  const deadline = performance.now() + SWITCH_TIMEOUT_MS;
  for (;;) {
    const res = await fetch(`${proxyUrl}/`, { headers: { host } });
    const text = await res.text();
    const now = performance.now();
    if (text === body) return now;
    if (now > deadline) throw new Error(`${proxyUrl} still serves ${JSON.stringify(text)} after 10 s`);
  }
}

async function promote(apiUrl: string, id: string): Promise<void> {
  const res = await call(apiUrl, "POST", `/api/deployments/${id}/promote`);
  if (res.status !== 200) throw new Error(`promote: ${JSON.stringify(res)}`);
}

async function emptyBucket(): Promise<void> {
  for (;;) {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (listed.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
    if (keys.length === 0) break;
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
  }
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
}

let cleaning: Promise<void> | null = null;
/** Stops the processes, then removes everything of the run: databases, bucket, data directories. Once. */
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    const report = (e: unknown) => console.error(`clean-up: ${String(e)}`);
    await stopChildren();
    await deps.close().catch(report);
    await admin.unsafe(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(report);
    await admin.end();
    await kafkaAdmin.disconnect().catch(report);
    await clickhouseRows(`DROP DATABASE IF EXISTS \`${database}\``).catch(report);
    await emptyBucket().catch(report);
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  })();
  return cleaning;
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    console.error(`${signal}: stopping and cleaning up`);
    void cleanUp().finally(() => process.exit(130));
  });
}

/**
 * Members of the `workers` consumer group that are not this run's. The group name is fixed, so workers of
 * another minivercel on the same Kafka (a CI run of the scale-out test) would apply some of our lines into
 * their own log store: the counts would be wrong, so the bench refuses to measure then.
 */
async function foreignWorkers(): Promise<number> {
  const { groups } = await kafkaAdmin.describeGroups(["workers"]);
  return (groups[0]?.members ?? []).filter((m) => m.clientId !== env.KAFKA_CLIENT_ID).length;
}
async function requireOwnWorkers(when: string): Promise<void> {
  const foreign = await foreignWorkers();
  if (foreign > 0)
    throw new Error(
      `${when}: ${foreign} consumer(s) of another minivercel are in the \`workers\` group on ${brokers}; ` +
        "run the bench when nothing else uses this Kafka",
    );
}

// ---- run ----------------------------------------------------------------------------------------------------

try {
  // A killed process stays a member until its session times out (30 s): give such leftovers time to go.
  for (let wait = 0; wait < 45 && (await foreignWorkers()) > 0; wait++) {
    if (wait === 0) console.error("waiting for other consumers to leave the `workers` group (up to 45 s)");
    await Bun.sleep(1_000);
  }
  await requireOwnWorkers("before starting");
  const boot = performance.now();
  await Promise.all([start("w1", "worker"), start("w2", "worker")]);
  console.log(`2 worker processes up in ${ms(performance.now() - boot)} ms`);
  // Warm-up: both workers' consumers assigned and fetching, ClickHouse connections open, and whatever other
  // runs left in the shared `workers` group's backlog applied before anything is timed.
  const warm = await logRound(100, 10);
  if (warm.lost > 0 || Number.isNaN(warm.storedMs)) throw new Error("warm-up lines did not all arrive");

  const rounds = SHAPES.map(() => [] as Round[]);
  for (let i = 0; i < ROUNDS; i++) {
    for (const [k, shape] of SHAPES.entries()) {
      const round = await logRound(shape.lines, shape.deployments);
      await requireOwnWorkers(`after round ${i + 1}`);
      rounds[k]?.push(round);
      console.log(
        `round ${i + 1}, ${shape.deployments} x ${shape.lines}: published in ${int(round.publishMs)} ms, ` +
          `all stored after ${int(round.storedMs)} ms, lost ${round.lost}, duplicate rows ${round.duplicates}`,
      );
    }
  }
  console.log(
    `\n### Log throughput: 2 worker processes, ${ROUNDS} round${ROUNDS === 1 ? "" : "s"}, medians\n`,
  );
  console.log(
    "| deployments x lines | end to end, lines/s | producer publish, lines/s | all stored after, ms | lost | duplicate rows |",
  );
  console.log("|---|---|---|---|---|---|");
  for (const [k, shape] of SHAPES.entries()) {
    const list = rounds[k] ?? [];
    const total = shape.deployments * shape.lines;
    const rate = (t: number) => (total / t) * 1000;
    const e2e = list.map((r) => rate(r.storedMs));
    const pub = list.map((r) => rate(r.publishMs));
    const sum = (f: (r: Round) => number) => list.reduce((n, r) => n + f(r), 0);
    console.log(
      `| ${shape.deployments} x ${int(shape.lines)} = ${int(total)} | **${int(median(e2e))}** (${e2e.map(int).join(", ")}) ` +
        `| ${int(median(pub))} (${pub.map(int).join(", ")}) | ${int(median(list.map((r) => r.storedMs)))} ` +
        `| ${sum((r) => r.lost)} | ${sum((r) => r.duplicates)} |`,
    );
  }
  if (rejected > 0)
    console.log(
      `\n(${rejected} events from other runs in the shared \`workers\` group were refused by the workers.)`,
    );

  // Route changes: 1 api, 2 proxies over the same Postgres, Kafka and S3.
  const [apiUrl, ...proxies] = await Promise.all([
    start("api", "api"),
    start("p1", "proxy"),
    start("p2", "proxy"),
  ]);
  if (apiUrl === undefined) throw new Error("no api");
  const project = await call(apiUrl, "POST", "/api/projects", { name: "Switch", subDomain: `switch-${run}` });
  const projectId = field(project.body, "id");
  if (project.status !== 201 || typeof projectId !== "string")
    throw new Error(`project: ${JSON.stringify(project)}`);
  const host = `switch-${run}.localhost`;
  const sites = [
    await deploySite(apiUrl, projectId, `<!doctype html><h1>A ${run}</h1>\n`),
    await deploySite(apiUrl, projectId, `<!doctype html><h1>B ${run}</h1>\n`),
  ];
  const fromAnswer: number[] = [];
  const fromRequest: number[] = [];
  const promoteMs: number[] = [];
  // Two unmeasured switches first: each proxy fetches both bodies from S3 once and keeps them.
  for (let i = -2; i < SWITCHES; i++) {
    const site = sites[(i + 2) % 2];
    if (site === undefined) break;
    const sent = performance.now();
    await promote(apiUrl, site.id);
    const answered = performance.now();
    const served = await Promise.all(proxies.map((p) => servedAt(p, host, site.body)));
    if (i >= 0) {
      promoteMs.push(answered - sent);
      for (const at of served) {
        fromAnswer.push(at - answered);
        fromRequest.push(at - sent);
      }
    }
    await Bun.sleep(50);
  }
  const row = (label: string, xs: number[]) =>
    `| ${label} | ${ms(percentile(xs, 0.5))} | ${ms(percentile(xs, 0.9))} | ${ms(percentile(xs, 0.99))} | ${ms(Math.max(...xs))} |`;
  console.log(
    `\n### Route-change propagation (${SWITCHES} promotes on 1 api process, ${fromAnswer.length} switches seen by 2 proxy processes)\n`,
  );
  console.log("| ms | p50 | p90 | p99 | max |");
  console.log("|---|---|---|---|---|");
  console.log(row("promote answered → proxy serves the new body", fromAnswer));
  console.log(row("promote sent → proxy serves the new body", fromRequest));
  console.log(row("promote request (sent → answered)", promoteMs));
} finally {
  await cleanUp();
}

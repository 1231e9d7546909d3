// Bench support (issue 20): the multi-process setup of bench/faults.ts (api x2, worker x2, proxy x2 over
// Postgres, Kafka, ClickHouse and S3, a fresh database, ClickHouse database and bucket per run), processes that
// can be killed and started again, and the shared test services stopped and started back.

import { appendFileSync, mkdirSync, rmSync } from "node:fs";
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  S3Client,
} from "@aws-sdk/client-s3";
import type { Subprocess } from "bun";
import postgres from "postgres";
import { loadConfig } from "../src/config/config.ts";
import { openDeps } from "../src/deps.ts";
import { createApiToken, createUser } from "../src/identity/accounts.ts";
import { runsBuilder, startRole, stopProcesses } from "../src/testing/cluster.ts";
import { tempDir } from "../src/testing/deps.ts";
import { type StoppableService, startService, type TestServiceName } from "../src/testing/services.ts";

/** A service's address: from the environment (as CI exports them) or scripts/services.sh. */
function service(name: TestServiceName, variable: string): string {
  return process.env[variable] || startService(name);
}

export const pgUrl = service("postgres", "MINIVERCEL_TEST_DATABASE_URL");
export const brokers = service("kafka", "MINIVERCEL_TEST_KAFKA_BROKERS");
export const clickhouse = service("clickhouse", "MINIVERCEL_TEST_CLICKHOUSE_URL");
const s3Endpoint = service("moto", "MINIVERCEL_TEST_S3_ENDPOINT");

export const run = crypto.randomUUID().replaceAll("-", "").slice(0, 10);
const database = `mv_faults_${run}`;
const bucket = `mv-faults-${run}`;
const s3 = new S3Client({
  endpoint: s3Endpoint,
  region: "us-east-1",
  forcePathStyle: true,
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
});
export const env: Record<string, string> = {
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  // Every round rebuilds the same commits: without this the second would reuse the first's output, not build.
  BUILD_REUSE: "0",
  HOME: tempDir("bench-faults-home-"),
  DATABASE_URL: pgUrl.replace(/\/[^/]*$/, `/${database}`),
  KAFKA_BROKERS: brokers,
  // Topics and consumer groups of this run only (the killed workers' members never hold anyone else's).
  KAFKA_TOPIC_PREFIX: `faults-${run}.`,
  CLICKHOUSE_URL: clickhouse,
  CLICKHOUSE_DATABASE: database,
  S3_ENDPOINT: s3Endpoint,
  S3_BUCKET: bucket,
  S3_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "test",
  AWS_SECRET_ACCESS_KEY: "test",
  MINIVERCEL_SECRET_KEY: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64"),
  MINIVERCEL_ALLOW_LOCAL_GIT: "1",
  DEPLOYMENT_PROTECTION_DEFAULT: "none",
  // A lost worker's build is seen lost after 5 s (the least allowed) rather than a minute.
  BUILD_HEARTBEAT_TIMEOUT_SECONDS: "5",
  MAX_CONCURRENT_BUILDS_PER_USER: "0",
  KAFKA_CLIENT_ID: `minivercel-faults-${run}`,
  RATE_LIMIT_IP_PER_MINUTE: "0",
  RATE_LIMIT_USER_PER_MINUTE: "0",
  RATE_LIMIT_USER_WRITES_PER_MINUTE: "0",
  PORT: "0",
  PROXY_PORT: "0",
  LISTEN_HOST: "127.0.0.1",
};
const dataDirs: string[] = [env.HOME ?? ""];
const dataDir = () => {
  const dir = tempDir("bench-faults-data-");
  dataDirs.push(dir);
  return dir;
};

export type Role = "api" | "worker" | "proxy";
interface Child {
  role: Role;
  proc: Subprocess;
  url: string;
}
export const children = new Map<string, Child>();
/** Every line the processes wrote to stderr, kept for the report (warnings, dead letters). */
export const stderrLines: { name: string; line: string }[] = [];

/** The processes' stderr, one file per name (a restarted process appends to its predecessor's), kept after the run. */
export const LOG_DIR = process.env.BENCH_LOG_DIR || `/tmp/bench-faults-${run}`;
mkdirSync(LOG_DIR, { recursive: true });

async function keepStderr(name: string, stream: ReadableStream<Uint8Array>): Promise<void> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of stream) {
    const text = decoder.decode(chunk, { stream: true });
    appendFileSync(`${LOG_DIR}/${name}.log`, text);
    pending += text;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) if (!line.includes("TimeoutNegativeWarning")) stderrLines.push({ name, line });
  }
}

/** Starts `serve --role=<role>` as `name` and resolves with its URL (api, proxy) once it says it is up. */
export async function start(name: string, role: Role): Promise<string> {
  const { url } = await startRole(
    role,
    { ...env, MINIVERCEL_DATA: dataDir() },
    {
      name,
      started: (proc) => children.set(name, { role, proc, url: "" }),
      stderr: (stream) => keepStderr(name, stream),
    },
  );
  const proc = children.get(name)?.proc;
  if (proc) children.set(name, { role, proc, url });
  return url;
}

export const urlOf = (name: string) => children.get(name)?.url ?? "";

/** SIGKILL, then the same role started again under the same name (new ports). */
export async function killAndRestart(name: string): Promise<void> {
  const child = children.get(name);
  if (!child) throw new Error(`no process ${name}`);
  child.proc.kill("SIGKILL");
  await child.proc.exited;
  await start(name, child.role);
}

/** True when the named process runs a build right now (a worker with a builder child). */
export function runsBuild(name: string): boolean {
  return runsBuilder(children.get(name)?.proc.pid);
}

async function stopChildren(): Promise<void> {
  await stopProcesses([...children.values()].map(({ proc }) => proc));
  children.clear();
}

// ---- the run's own backends ---------------------------------------------------------------------------------

const admin = postgres(pgUrl, { max: 1, onnotice: () => {} });
await admin.unsafe(`CREATE DATABASE ${database}`);
await s3.send(new CreateBucketCommand({ Bucket: bucket }));
/** The bench's own ports (store, log store), as a process of the platform opens them. */
export const deps = await openDeps(loadConfig({ ...env, MINIVERCEL_DATA: dataDir() }));
const user = await createUser(deps.store, "faults@example.com", "a long bench password");
export const { token } = await createApiToken(deps.store, user.id, "bench");

async function emptyBucket(): Promise<void> {
  for (;;) {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (listed.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
    if (keys.length === 0) break;
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
  }
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
}

/** Services this run stopped and has not started again yet. */
export const stoppedServices = new Set<StoppableService>();

/** Starts again every service this run stopped; never throws (it says what failed). */
export function restoreServices(): void {
  for (const name of [...stoppedServices]) {
    try {
      startService(name);
      stoppedServices.delete(name);
    } catch (error) {
      console.error(`could not start ${name} again: ${String(error)}`);
    }
  }
}

let cleaning: Promise<void> | null = null;
/** Services back first, then the processes stopped and everything of the run removed. Once. */
export function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    restoreServices();
    const report = (e: unknown) => console.error(`clean-up: ${String(e)}`);
    await stopChildren();
    await deps.close().catch(report);
    await admin.unsafe(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(report);
    await admin.end();
    await fetch(`${clickhouse}/`, { method: "POST", body: `DROP DATABASE IF EXISTS \`${database}\`` }).catch(
      report,
    );
    await emptyBucket().catch(report);
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  })();
  return cleaning;
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    console.error(`${signal}: starting the services again, stopping and cleaning up`);
    void cleanUp().finally(() => process.exit(130));
  });
}

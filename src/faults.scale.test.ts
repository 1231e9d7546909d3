// Faults at scale, short (bench/faults.ts runs the long version): api x2, worker x2, proxy x2 as separate
// processes over Postgres, Kafka, ClickHouse and S3. Processes SIGKILLed mid-build and started again, then a
// backend stopped for a few seconds mid-build: every deployment ends, no log line is lost or stored twice, and
// the READY site never stops answering.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import type { Subprocess } from "bun";
import postgres from "postgres";
import { type ClusterRole, cliOutput, runsBuilder, startRole, stopProcesses } from "./testing/cluster.ts";
import { tempDir } from "./testing/deps.ts";
import { fixtureRepo } from "./testing/repos.ts";
import { type StoppableService, startService, stopService, testService } from "./testing/services.ts";
import { rebuiltAs } from "./worker/interrupted.ts";

const run = crypto.randomUUID().replaceAll("-", "").slice(0, 10);
let env: Record<string, string> = {};
const processes = new Map<string, { role: ClusterRole; proc: Subprocess; url: string }>();

async function start(name: string, role: ClusterRole): Promise<void> {
  const { url } = await startRole(
    role,
    { ...env, MINIVERCEL_DATA: tempDir(`minivercel-${name}-`) },
    { name, started: (proc) => processes.set(name, { role, proc, url: "" }) },
  );
  const proc = processes.get(name)?.proc;
  if (proc) processes.set(name, { role, proc, url });
}

async function killAndRestart(name: string): Promise<void> {
  const known = processes.get(name);
  if (!known) throw new Error(`no ${name}`);
  known.proc.kill("SIGKILL");
  await known.proc.exited;
  await start(name, known.role);
}

const url = (name: string) => processes.get(name)?.url ?? "";
let token = "";
async function api(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${url("api2")}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

const cli = (args: string[], stdin?: string) => cliOutput(env, args, stdin);

const TERMINAL = ["READY", "FAIL", "CANCELED"];
/** The deployment once it (and every rebuild it names) has ended; the whole chain, oldest first. */
async function chain(id: string, ms = 150_000): Promise<Record<string, unknown>[]> {
  const end = Date.now() + ms;
  const ended: Record<string, unknown>[] = [];
  for (let at: string | null = id; at; ) {
    const d: Record<string, unknown> | null = await api("GET", `/api/deployments/${at}`).catch(
      (error: unknown) => {
        // A rebuild is named a moment before its row exists; an api may need a moment to reconnect after an outage.
        if (error instanceof Error && /HTTP (404|5\d\d)/.test(error.message) && Date.now() < end) return null;
        throw error;
      },
    );
    if (d && TERMINAL.includes(String(d.status))) {
      ended.push(d);
      at = rebuiltAs(String(d.statusReason ?? "")) ?? null;
      continue;
    }
    if (Date.now() > end) throw new Error(`deployment ${at} stuck in ${d?.status} (${d?.statusReason})`);
    await Bun.sleep(250);
  }
  return ended;
}

/** The numbered lines of a deployment's stored log, once their count has stopped growing. */
async function ticks(id: string): Promise<number[]> {
  let last: number[] = [];
  for (let stable = 0, i = 0; stable < 6 && i < 120; i++) {
    const page = await api("GET", `/api/deployments/${id}/logs?limit=5000`);
    const items = page.items as { seq: number; text: string }[];
    expect(items.map((l) => l.seq)).toEqual(items.map((_, k) => k + 1));
    const now = items.flatMap((l) => (/^tick \d+$/.test(l.text) ? [Number(l.text.slice(5))] : []));
    stable = now.length === last.length ? stable + 1 : 0;
    last = now;
    await Bun.sleep(250);
  }
  return last;
}
const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

/** Every attempt's log: a READY one holds all its ticks, an interrupted one a gapless prefix; each line once. */
async function expectWholeLogs(attempts: Record<string, unknown>[]): Promise<void> {
  expect(attempts.at(-1)?.status).toBe("READY");
  for (const d of attempts) {
    const seen = await ticks(String(d.id));
    expect(seen).toEqual(upTo(d.status === "READY" ? (linesOf.get(String(d.projectId)) ?? -1) : seen.length));
  }
}

let projectId = "";
/** Builds that outlast an outage: a line every 250 ms for 20 s. */
let slowProjects: string[] = [];
/** Lines each project's build prints, by project id. */
const linesOf = new Map<string, number>();
let host = "";
let page = "";

/** One request to the READY site through a proxy: null when it answered with the page, else what went wrong. */
async function hit(proxy: string): Promise<string | null> {
  try {
    const res = await fetch(`${url(proxy)}/`, { headers: { host }, signal: AbortSignal.timeout(5_000) });
    const text = await res.text();
    return res.status === 200 && text === page ? null : `HTTP ${res.status} ${text.slice(0, 100)}`;
  } catch (error) {
    return String(error);
  }
}

/** Deploys the project and resolves once its build has printed a few numbered lines (mid-build). */
async function deployTicks(project = projectId): Promise<string> {
  const d = await api("POST", "/api/deploy", { projectId: project });
  const id = String(d.id);
  const printed = async () => {
    const page = await api("GET", `/api/deployments/${id}/logs?limit=5000`).catch(() => ({ items: [] }));
    return (page.items as { text: string }[]).filter((l) => l.text.startsWith("tick ")).length;
  };
  const end = Date.now() + 90_000;
  while ((await printed()) < 5 && Date.now() < end) await Bun.sleep(200);
  return id;
}

/** A project whose build prints `tick 1` .. `tick <lines>`, one every `every` seconds. */
async function ticksProject(name: string, lines: number, every: number): Promise<string> {
  const repo = fixtureRepo({
    "build.sh": `for i in $(seq 1 ${lines}); do echo tick $i; sleep ${every}; done\nmkdir -p dist && echo built > dist/index.html\n`,
    "package.json": JSON.stringify({ name: "ticks", scripts: { build: "sh build.sh" } }),
  });
  const project = await api("POST", "/api/projects", { name, gitUrl: repo.url, installCommand: "true" });
  linesOf.set(String(project.id), lines);
  return String(project.id);
}

beforeAll(async () => {
  const pgUrl = testService("postgres");
  const s3 = testService("moto");
  const admin = postgres(pgUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE mv_faults_${run}`);
  await admin.end();
  await new S3Client({
    endpoint: s3,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  }).send(new CreateBucketCommand({ Bucket: `mv-faults-${run}` }));
  env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: tempDir(),
    // The tests build the same commits again: each must really build (no reuse of an earlier output).
    BUILD_REUSE: "0",
    DATABASE_URL: pgUrl.replace(/\/[^/]*$/, `/mv_faults_${run}`),
    KAFKA_BROKERS: testService("kafka"),
    // Topics and consumer groups of this run only: its killed workers never hold another test's partitions.
    KAFKA_TOPIC_PREFIX: `faults-${run}.`,
    CLICKHOUSE_URL: testService("clickhouse"),
    CLICKHOUSE_DATABASE: `mv_faults_${run}`,
    S3_ENDPOINT: s3,
    S3_BUCKET: `mv-faults-${run}`,
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
  // The READY site: one prebuilt page.
  const steady = await api("POST", "/api/projects", { name: "Steady" });
  host = `${steady.subDomain}.localhost`;
  page = `<h1>steady ${run}</h1>\n`;
  const hash = new Bun.CryptoHasher("sha256").update(page).digest("hex");
  await api("POST", "/api/files/missing", { hashes: [hash] });
  const put = await fetch(`${url("api1")}/api/files/${hash}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${token}` },
    body: page,
  });
  expect(put.status).toBe(204);
  await api("POST", `/api/projects/${steady.id}/deployments`, {
    files: { "/index.html": { hash, size: page.length } },
    target: "production",
  });
  for (const proxy of ["p1", "p2"]) {
    const end = Date.now() + 10_000;
    while ((await hit(proxy)) !== null && Date.now() < end) await Bun.sleep(100);
  }
  projectId = await ticksProject("Ticks", 30, 0.1);
  slowProjects = [await ticksProject("Slow A", 80, 0.25), await ticksProject("Slow B", 80, 0.25)];
}, 300_000);

afterAll(async () => {
  await stopProcesses([...processes.values()].map(({ proc }) => proc));
}, 30_000);

test("the worker running a build killed: it ends FAIL naming its rebuild, which goes READY; each log whole", async () => {
  const id = await deployTicks();
  const victim = ["w1", "w2"].find((name) => runsBuilder(processes.get(name)?.proc.pid));
  if (!victim) throw new Error("no worker runs the build");
  await killAndRestart(victim);
  const attempts = await chain(id);
  expect(attempts.length).toBeGreaterThan(1);
  expect(String(attempts[0]?.statusReason)).toMatch(/^lost contact with the builder .*; rebuilding it as /);
  await expectWholeLogs(attempts);
}, 240_000);

test("an api and a proxy killed mid-build: the build goes READY with its whole log, the site answers", async () => {
  const id = await deployTicks();
  await Promise.all([killAndRestart("api1"), killAndRestart("p1")]);
  const attempts = await chain(id);
  expect(attempts.length).toBe(1);
  await expectWholeLogs(attempts);
  expect(await hit("p1")).toBeNull();
  expect(await hit("p2")).toBeNull();
}, 240_000);

/**
 * Backends stopped mid-build, each long enough for what it caught: ClickHouse for 5 s (a worker dropped the log
 * lines it could not store after 1.5 s of retries), Postgres for 10 s (after it, every build looked silent and the
 * other worker failed it as lost). The whole scale tier shares them: they are started again in any case.
 */
const OUTAGES: [StoppableService, number, "slow" | "mixed"][] = [
  ["clickhouse", 5_000, "slow"],
  // One build runs through the outage, one ends during it (its last events wait for the store).
  ["postgres", 10_000, "mixed"],
];

for (const [service, ms, builds] of OUTAGES) {
  test(`${service} stopped ${ms / 1000} s mid-build: builds end READY, not rebuilt, with every line; the site never fails`, async () => {
    // Two builds: most likely one on each worker.
    const projects = builds === "slow" ? slowProjects : [slowProjects[0] ?? "", projectId];
    const ids = await Promise.all(projects.map((project) => deployTicks(project)));
    let down = true;
    const failures: string[] = [];
    const hits = Promise.all(
      ["p1", "p2"].map(async (proxy) => {
        while (down) {
          const problem = await hit(proxy);
          if (problem) failures.push(`${proxy}: ${problem}`);
          await Bun.sleep(20);
        }
      }),
    );
    try {
      await stopService(service);
      await Bun.sleep(ms);
    } finally {
      startService(service);
      down = false;
    }
    await hits;
    expect(failures).toEqual([]);
    for (const id of ids) {
      const attempts = await chain(id);
      expect(attempts.map((d) => `${d.status} ${d.statusReason ?? ""}`.trim())).toEqual(["READY"]);
      await expectWholeLogs(attempts);
    }
  }, 300_000);
}

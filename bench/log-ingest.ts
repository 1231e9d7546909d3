// Bench (issue 20): build-log ingest. A real build prints N lines (1,000,000 by default) as fast as it can;
// the lines travel builder -> worker -> bus -> log store, and a live reader pages through the store as they
// land. Prints lines/s from the first line stored to the last, checks every line is stored once and in order,
// beside the reference from the same run: the same command printing into a file (the producer's own speed).
// Run: bun bench/log-ingest.ts              embedded: in-process bus, sqlite
//      BENCH_BACKEND=scaled bun bench/log-ingest.ts   Kafka + ClickHouse + PostgreSQL (MINIVERCEL_TEST_* addresses)

import { join } from "node:path";
import { loadConfig } from "../src/config/config.ts";
import { openDeps } from "../src/deps.ts";
import { startRoles } from "../src/roles.ts";
import { apiClient, tempDir, testUser } from "../src/testing/deps.ts";
import { type TestDatabase, testDatabase } from "../src/testing/postgres.ts";
import { fixtureRepo } from "../src/testing/repos.ts";

const LINES = Number(process.env.BENCH_LINES ?? 1_000_000);
const SCALED = process.env.BENCH_BACKEND === "scaled";
const run = crypto.randomUUID().replaceAll("-", "").slice(0, 10);
let database = null as TestDatabase | null;

async function scaledEnv(): Promise<Record<string, string>> {
  const need = (name: string) => {
    const value = process.env[name];
    if (!value)
      throw new Error(`${name} is needed for BENCH_BACKEND=scaled (. the test services' addresses)`);
    return value;
  };
  need("MINIVERCEL_TEST_DATABASE_URL");
  // A database of its own per run (dropped at the end), like the tests'.
  database = await testDatabase();
  return {
    DATABASE_URL: database.url,
    KAFKA_BROKERS: need("MINIVERCEL_TEST_KAFKA_BROKERS"),
    KAFKA_TOPIC_PREFIX: `bench-${run}-`,
    CLICKHOUSE_URL: need("MINIVERCEL_TEST_CLICKHOUSE_URL"),
    CLICKHOUSE_DATABASE: `bench_${run}`,
  };
}

const script = `seq 1 ${LINES}\nmkdir -p dist && echo ok > dist/index.html\n`;
const deps = await openDeps(
  loadConfig({
    MINIVERCEL_DATA: tempDir("bench-logs-"),
    MINIVERCEL_ALLOW_LOCAL_GIT: "1",
    PORT: "0",
    PROXY_PORT: "0",
    MINIVERCEL_ROLE: "api,worker",
    LISTEN_HOST: "127.0.0.1",
    RATE_LIMIT_IP_PER_MINUTE: "0",
    RATE_LIMIT_USER_PER_MINUTE: "0",
    BUILD_LOG_MAX_MB: "64",
    ...(SCALED ? await scaledEnv() : {}),
  }),
);
await deps.store.migrate();
const roles = await startRoles(deps);
const { token } = await testUser(deps);
const api = apiClient(deps, token);

// The reference: the same command into a file, on this machine, now.
const bareDir = tempDir("bench-logs-bare-");
await Bun.write(join(bareDir, "build.sh"), script);
const bareStarted = performance.now();
Bun.spawnSync(["sh", "-c", `seq 1 ${LINES} > ${join(bareDir, "out.txt")}`]);
const bareMs = performance.now() - bareStarted;

try {
  const repo = fixtureRepo({
    "build.sh": script,
    "package.json": JSON.stringify({ name: "chatty", scripts: { build: "sh build.sh" } }),
  });
  const project = (
    await api("POST", "/api/projects", { name: "Chatty", gitUrl: repo.url, installCommand: "true" })
  ).body as { id: string };
  const created = (await api("POST", "/api/deploy", { projectId: project.id })).body as { id: string };

  // Timing: when the first line is stored, and when the last one is (cheap probes, so the bench's own reading
  // does not compete with the ingest); then every line is read back and checked, outside the timed window.
  const started = performance.now();
  const probe = async (after: number) => (await deps.logs.read(created.id, after, 1)).length > 0;
  const wait = async (after: number) => {
    while (!(await probe(after))) {
      const d = await deps.store.deployments.find(created.id);
      if (d?.status === "FAIL" || d?.status === "CANCELED")
        throw new Error(`build ended ${d.status}: ${d.statusReason}`);
      if (performance.now() - started > 600_000)
        throw new Error("the lines did not arrive within 10 minutes");
      // ClickHouse shares the machine: a probe every 10 ms would cost the ingest it measures.
      await Bun.sleep(SCALED ? 100 : 10);
    }
    return performance.now();
  };
  const firstAt = await wait(0);
  // Line "N" has seq N plus the few lines the builder printed before the command's output.
  const lastStored = async () =>
    (await deps.logs.read(created.id, LINES - 1, 200)).some((line) => line.text === String(LINES));
  while (!(await lastStored())) await wait(LINES - 1).then(() => Bun.sleep(SCALED ? 100 : 10));
  const lastAt = performance.now();
  let after = 0;
  let expected = 1;
  let bad = 0;
  for (;;) {
    const page = await deps.logs.read(created.id, after, 20_000);
    if (page.length === 0) break;
    for (const line of page) {
      after = line.seq;
      if (!/^\d+$/.test(line.text)) continue;
      if (Number(line.text) !== expected) bad++;
      expected = Number(line.text) + 1;
    }
  }
  if (expected !== LINES + 1) bad++;
  const storedMs = lastAt - firstAt;
  const rate = Math.round(((LINES - 1) / storedMs) * 1000);
  const bareRate = Math.round((LINES / bareMs) * 1000);
  const machine = `${navigator.hardwareConcurrency} cores`;
  console.log(
    `\nbuild log ingest, ${SCALED ? "Kafka + ClickHouse" : "embedded (in-process bus, sqlite)"}, ${machine}`,
  );
  console.log(
    "| lines | stored, lines/s | first to last stored | out of order | reference: seq into a file, lines/s |",
  );
  console.log("|---|---|---|---|---|");
  console.log(
    `| ${LINES.toLocaleString("en")} | ${rate.toLocaleString("en")} | ${(storedMs / 1000).toFixed(2)} s | ${bad} | ${bareRate.toLocaleString("en")} |`,
  );
} finally {
  await roles.stop(5000);
  await deps.close();
  await database?.drop();
}

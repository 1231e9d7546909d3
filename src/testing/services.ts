// Test support: the addresses of the real servers the scale-out tests use. scripts/test.sh starts them and
// exports MINIVERCEL_TEST_*; a test file run on its own starts them through scripts/services.sh instead.

import { resolve } from "node:path";

/**
 * The checkout whose scripts/services.sh runs the services (their data and pids under its .services): this one,
 * or MINIVERCEL_SERVICES_ROOT (a worktree using the main checkout's running services).
 */
const SERVICES_ROOT = resolve(process.env.MINIVERCEL_SERVICES_ROOT || resolve(import.meta.dir, "../.."));
const SCRIPT = resolve(SERVICES_ROOT, "scripts/services.sh");
const STATE = resolve(SERVICES_ROOT, ".services");

export type TestServiceName = "postgres" | "kafka" | "clickhouse" | "moto" | "pebble" | "schemathesis";

/**
 * What scripts/test.sh exports for each service: a URL, host:port list, or (pebble, schemathesis) the folder of
 * the service's programs.
 */
const VARIABLES: Record<TestServiceName, string> = {
  postgres: "MINIVERCEL_TEST_DATABASE_URL",
  kafka: "MINIVERCEL_TEST_KAFKA_BROKERS",
  clickhouse: "MINIVERCEL_TEST_CLICKHOUSE_URL",
  moto: "MINIVERCEL_TEST_S3_ENDPOINT",
  pebble: "MINIVERCEL_TEST_PEBBLE_BIN",
  schemathesis: "MINIVERCEL_TEST_SCHEMATHESIS",
};

const started = new Map<TestServiceName, string>();

/** Runs `scripts/services.sh <name>` (idempotent: starts the service or finds it running); its last line. */
export function startService(name: TestServiceName): string {
  const run = Bun.spawnSync(["bash", SCRIPT, name], { cwd: SERVICES_ROOT, stdout: "pipe", stderr: "pipe" });
  const address = run.stdout.toString().trim().split("\n").at(-1) ?? "";
  if (!run.success || address === "") {
    throw new Error(
      `no ${name} for the tests: set ${VARIABLES[name]} or fix \`bash scripts/services.sh ${name}\` ` +
        `(exit ${run.exitCode}):\n${run.stderr.toString()}`,
    );
  }
  started.set(name, address);
  return address;
}

/** The service's address: from the environment when scripts/test.sh set it, else started once per process. */
export function testService(name: TestServiceName): string {
  const given = process.env[VARIABLES[name]];
  if (given) return given;
  return started.get(name) ?? startService(name);
}

/** A TCP port nobody listens on right now (the OS picks it), for test servers started right after. */
export function freePort(): number {
  const socket = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = socket.port;
  socket.stop(true);
  return port;
}

/** The services a fault test may stop for a while: the scale-out backends that run as their own servers. */
export type StoppableService = "postgres" | "kafka" | "clickhouse";

/** The pid recorded in `file` when that process runs a command line containing `mark` (pids get reused). */
async function recordedPid(file: string, mark: string): Promise<number> {
  const pid = Number((await Bun.file(file).text()).trim());
  const cmdline = await Bun.file(`/proc/${pid}/cmdline`)
    .text()
    .catch(() => "");
  if (!Number.isSafeInteger(pid) || !cmdline.replaceAll("\0", " ").includes(mark))
    throw new Error(`${file}: pid ${pid} is not the service (${mark})`);
  return pid;
}

const alive = (pid: number) => Bun.spawnSync(["kill", "-0", String(pid)]).exitCode === 0;

/**
 * Stops one of the services scripts/services.sh started, as its own tools do (pg_ctl stop for Postgres, SIGTERM
 * for Kafka and ClickHouse); resolves once it is down. Start it again with `startService(name)`, in a `finally`:
 * every test on the machine shares it.
 */
export async function stopService(name: StoppableService): Promise<void> {
  if (name === "postgres") {
    const bin = Bun.spawnSync([
      "bash",
      "-c",
      "printf '%s\\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1",
    ])
      .stdout.toString()
      .trim();
    // Postgres refuses to run as root: its tools run as the `postgres` user, as scripts/services.sh does.
    const stop = Bun.spawnSync(
      [
        "runuser",
        "-u",
        "postgres",
        "--",
        `${bin}/pg_ctl`,
        "stop",
        "-D",
        `${STATE}/postgres`,
        "-m",
        "fast",
        "-w",
      ],
      { cwd: "/", stdout: "pipe", stderr: "pipe" },
    );
    if (!stop.success) throw new Error(`pg_ctl stop: ${stop.stderr.toString()}`);
    return;
  }
  const pid =
    name === "kafka"
      ? await recordedPid(`${STATE}/kafka/kafka.pid`, `kafka.Kafka ${STATE}/kafka/server.properties`)
      : await recordedPid(
          `${STATE}/clickhouse/clickhouse.pid`,
          `--config-file=${STATE}/clickhouse/etc/config.xml`,
        );
  process.kill(pid, "SIGTERM");
  const end = Date.now() + 120_000;
  while (alive(pid) && Date.now() < end) await Bun.sleep(100);
  if (alive(pid)) throw new Error(`${name} (pid ${pid}) still runs 120 s after SIGTERM`);
}

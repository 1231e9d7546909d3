// Test support: the addresses of the real servers the scale-out tests use. scripts/test.sh starts them and
// exports MINIVERCEL_TEST_*; a test file run on its own starts them through scripts/services.sh instead.

import { resolve } from "node:path";

const SCRIPT = resolve(import.meta.dir, "../../scripts/services.sh");

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
  const run = Bun.spawnSync(["bash", SCRIPT, name], { stdout: "pipe", stderr: "pipe" });
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

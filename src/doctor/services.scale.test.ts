// `minivercel doctor` against the real scale-out services the tests run (Postgres, Kafka, ClickHouse, and moto
// for S3 and ECS): all reached with the given addresses and credentials, then each one wrong, with its fix.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  CreateClusterCommand,
  DeleteClusterCommand,
  DeregisterTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
} from "@aws-sdk/client-ecs";
import { CreateBucketCommand, DeleteBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { tempDir } from "../testing/deps.ts";
import { cli, lifecycleEnv } from "../testing/lifecycle.ts";
import { freePort, testService } from "../testing/services.ts";

const REGION = "us-east-1";
// moto takes any key; the real AWS SDK still wants some.
const KEYS = { AWS_ACCESS_KEY_ID: "doctor-test", AWS_SECRET_ACCESS_KEY: "doctor-test-secret" };
const credentials = { accessKeyId: KEYS.AWS_ACCESS_KEY_ID, secretAccessKey: KEYS.AWS_SECRET_ACCESS_KEY };
const name = `minivercel-doctor-${crypto.randomUUID().slice(0, 8)}`;
let moto = "";
let s3: S3Client;
let ecs: ECSClient;
let taskArn = "";

beforeAll(async () => {
  moto = testService("moto").replace(/\/+$/, "");
  s3 = new S3Client({ endpoint: moto, region: REGION, forcePathStyle: true, credentials });
  ecs = new ECSClient({ endpoint: moto, region: REGION, credentials });
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  await ecs.send(new CreateClusterCommand({ clusterName: name }));
  const registered = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: name,
      networkMode: "bridge",
      containerDefinitions: [
        { name: "builder", image: "minivercel-builder:test", essential: true, memory: 512 },
      ],
    }),
  );
  taskArn = registered.taskDefinition?.taskDefinitionArn ?? "";
}, 60_000);

afterAll(async () => {
  await s3?.send(new DeleteBucketCommand({ Bucket: name })).catch(() => undefined);
  if (taskArn)
    await ecs?.send(new DeregisterTaskDefinitionCommand({ taskDefinition: taskArn })).catch(() => undefined);
  await ecs?.send(new DeleteClusterCommand({ cluster: name })).catch(() => undefined);
});

/** A worker on every scale-out service, as the tests' servers run them; `wrong` replaces settings. */
function scaled(wrong: Record<string, string> = {}): Record<string, string> {
  return lifecycleEnv({
    MINIVERCEL_ROLE: "worker",
    DATABASE_URL: testService("postgres"),
    KAFKA_BROKERS: testService("kafka"),
    CLICKHOUSE_URL: testService("clickhouse"),
    S3_BUCKET: name,
    S3_ENDPOINT: moto,
    S3_REGION: REGION,
    ...KEYS,
    ECS_CLUSTER_NAME: name,
    ECS_TASK_DEFINITION: name,
    ECS_ENDPOINT: moto,
    AWS_REGION: REGION,
    PUBLIC_API_URL: "https://deploy.example.test",
    ...wrong,
  });
}

const line = (stdout: string, check: string) =>
  stdout.split("\n").find((l) => l.slice(6).startsWith(`${check} `)) ?? `(no '${check}' line in)\n${stdout}`;

test("every configured service answers with the configured address and credentials; exit 0", async () => {
  const out = await cli(scaled(), ["doctor"]);
  expect(line(out.stdout, "Postgres")).toMatch(/^ok {4}Postgres +postgres:\/\/.*: PostgreSQL \d+/);
  expect(line(out.stdout, "Kafka")).toMatch(/^ok {4}Kafka +127\.0\.0\.1:\d+: 1 broker\(s\)$/);
  expect(line(out.stdout, "ClickHouse")).toMatch(/^ok {4}ClickHouse +http:\/\/.* as default: ClickHouse \d/);
  expect(line(out.stdout, "S3")).toStartWith(`ok    S3`);
  expect(line(out.stdout, "ECS")).toContain(`is active, task definition ${name} is registered`);
  // ECS builds: no local sandbox is checked.
  expect(out.stdout).not.toContain("sandbox programs");
  expect(out.code).toBe(0);
}, 60_000);

test("wrong addresses and credentials: each service fails on its own line with its fix; exit 1", async () => {
  const postgres = new URL(testService("postgres"));
  postgres.pathname = "/no_such_database";
  const closed = freePort();
  const out = await cli(
    scaled({
      DATABASE_URL: postgres.toString(),
      KAFKA_BROKERS: `127.0.0.1:${closed}`,
      CLICKHOUSE_URL: testService("clickhouse"),
      CLICKHOUSE_PASSWORD: "wrong",
      S3_BUCKET: `${name}-missing`,
      ECS_CLUSTER_NAME: `${name}-missing`,
    }),
    ["doctor"],
  );
  expect(out.code).toBe(1);
  expect(line(out.stdout, "Postgres")).toMatch(
    /^FAIL {2}Postgres +.*no_such_database.*; fix: create that database \(createdb\), or fix its name in DATABASE_URL$/,
  );
  expect(line(out.stdout, "Kafka")).toMatch(
    new RegExp(
      `^FAIL {2}Kafka +127\\.0\\.0\\.1:${closed}: .*; fix: nothing listens at 127\\.0\\.0\\.1:${closed}`,
    ),
  );
  expect(line(out.stdout, "ClickHouse")).toMatch(
    /^FAIL {2}ClickHouse +.*; fix: check CLICKHOUSE_USERNAME and CLICKHOUSE_PASSWORD$/,
  );
  expect(line(out.stdout, "S3")).toMatch(
    /^FAIL {2}S3 +bucket \S+-missing at .* does not exist; fix: create it, or fix S3_BUCKET$/,
  );
  expect(line(out.stdout, "ECS")).toMatch(
    /^FAIL {2}ECS +no active cluster \S+-missing .*; fix: create it, or fix ECS_CLUSTER_NAME and AWS_REGION$/,
  );
  expect(out.stdout.trim().split("\n").at(-1)).toMatch(/^5 of \d+ checks failed/);
}, 60_000);

test("a Postgres user that does not exist, and services that are not there at all", async () => {
  const postgres = new URL(testService("postgres"));
  postgres.username = "no_such_user";
  const out = await cli(
    scaled({
      DATABASE_URL: postgres.toString(),
      CLICKHOUSE_URL: `http://127.0.0.1:${freePort()}`,
      S3_ENDPOINT: `http://127.0.0.1:${freePort()}`,
      ECS_TASK_DEFINITION: `${name}-missing`,
    }),
    ["doctor"],
  );
  expect(out.code).toBe(1);
  expect(line(out.stdout, "Postgres")).toMatch(/^FAIL .*; fix: check the user and password in DATABASE_URL$/);
  expect(line(out.stdout, "ClickHouse")).toMatch(
    /^FAIL .*; fix: nothing listens at http:\/\/127\.0\.0\.1:\d+/,
  );
  expect(line(out.stdout, "S3")).toMatch(
    /^FAIL .*; fix: nothing listens at bucket .*: start it, or fix S3_ENDPOINT/,
  );
  expect(line(out.stdout, "ECS")).toMatch(
    /^FAIL .*no task definition \S+-missing.*; fix: register the builder's task definition/,
  );
}, 60_000);

test("--env-file: the AWS credentials of the service's settings file reach the ECS check too", async () => {
  const settings = join(tempDir(), "minivercel");
  writeFileSync(
    settings,
    Object.entries(KEYS)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(""),
  );
  const env = scaled();
  for (const key of Object.keys(KEYS)) delete env[key];
  env.S3_BUCKET = "";
  const out = await cli(env, ["doctor", "--env-file", settings]);
  expect(line(out.stdout, "ECS")).toContain(`is active, task definition ${name} is registered`);
  expect(out.code).toBe(0);
}, 60_000);

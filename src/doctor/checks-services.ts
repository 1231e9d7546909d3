// `minivercel doctor`, the scale-out services in the config: each reached with the configured address and
// credentials (Postgres, Kafka, ClickHouse, S3/R2, and ECS for the worker role). Clients load only when used.

import type { Config } from "../config/config.ts";
import { type Check, fail, messageOf, ok, type Result } from "./check.ts";

const TIMEOUT_MS = 5_000;

const codeOf = (error: unknown): string =>
  typeof error === "object" && error !== null && "code" in error ? String(error.code) : "";

/** The HTTP status of an AWS SDK error ($metadata.httpStatusCode), if it has one. */
function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null || !("$metadata" in error)) return undefined;
  const metadata: unknown = error.$metadata;
  if (typeof metadata !== "object" || metadata === null || !("httpStatusCode" in metadata)) return undefined;
  return typeof metadata.httpStatusCode === "number" ? metadata.httpStatusCode : undefined;
}

/** A URL as it may be shown: without its password. */
function shown(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString().replace(/\/$/, "");
  } catch {
    return "(the URL)";
  }
}

/** The fix for a failed connection, by what the error says went wrong. */
function networkFix(error: unknown, where: string, variables: string): string | null {
  const code = codeOf(error);
  const text = messageOf(error);
  if (code === "ECONNREFUSED" || /ECONNREFUSED|refused/i.test(text))
    return `nothing listens at ${where}: start it, or fix ${variables}`;
  if (code === "ENOTFOUND" || /ENOTFOUND|getaddrinfo/i.test(text))
    return `the host of ${where} does not resolve: fix ${variables}`;
  if (/timed? ?out|ETIMEDOUT/i.test(text))
    return `${where} does not answer (a firewall?): check ${variables}`;
  return null;
}

function postgresCheck(url: string): Check {
  return {
    name: "Postgres",
    run: async (): Promise<Result> => {
      const { default: postgres } = await import("postgres");
      const sql = postgres(url, { max: 1, connect_timeout: TIMEOUT_MS / 1000, onnotice: () => {} });
      try {
        const [row] = await sql<{ version: string }[]>`SELECT current_setting('server_version') AS version`;
        return ok(`${shown(url)}: PostgreSQL ${row?.version ?? "?"}`);
      } catch (error) {
        const code = codeOf(error);
        const fix =
          code === "28P01" || code === "28000"
            ? "check the user and password in DATABASE_URL"
            : code === "3D000"
              ? "create that database (createdb), or fix its name in DATABASE_URL"
              : (networkFix(error, shown(url), "DATABASE_URL") ?? "check DATABASE_URL");
        return fail(`${shown(url)}: ${messageOf(error)}`, fix);
      } finally {
        await sql.end({ timeout: 1 }).catch(() => undefined);
      }
    },
  };
}

function kafkaCheck(kafka: NonNullable<Config["kafka"]>): Check {
  const where = kafka.brokers.join(",");
  return {
    name: "Kafka",
    run: async (): Promise<Result> => {
      const { Kafka, logLevel } = await import("kafkajs");
      const { sasl } = await import("../bus/bus-kafka.ts");
      const admin = new Kafka({
        clientId: kafka.clientId,
        brokers: kafka.brokers,
        ssl: kafka.ssl,
        sasl: sasl(kafka),
        connectionTimeout: TIMEOUT_MS,
        requestTimeout: TIMEOUT_MS,
        retry: { retries: 0 },
        logLevel: logLevel.NOTHING,
      }).admin();
      try {
        await admin.connect();
        const cluster = await admin.describeCluster();
        return ok(`${where}: ${cluster.brokers.length} broker(s)`);
      } catch (error) {
        const text = messageOf(error);
        const fix = /SASL|authentic/i.test(text)
          ? "check KAFKA_USERNAME, KAFKA_PASSWORD and KAFKA_SASL_MECHANISM"
          : (networkFix(error, where, "KAFKA_BROKERS (and KAFKA_SSL)") ??
            `check that ${where} are Kafka brokers reachable from here (KAFKA_BROKERS, KAFKA_SSL)`);
        return fail(`${where}: ${text}`, fix);
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    },
  };
}

function clickHouseCheck(clickhouse: NonNullable<Config["clickhouse"]>): Check {
  const where = shown(clickhouse.url);
  return {
    name: "ClickHouse",
    run: async (): Promise<Result> => {
      const { createClient, ClickHouseLogLevel } = await import("@clickhouse/client");
      const client = createClient({
        url: clickhouse.url,
        username: clickhouse.username,
        password: clickhouse.password,
        request_timeout: TIMEOUT_MS,
        compression: { request: false, response: false },
        log: { level: ClickHouseLogLevel.OFF },
      });
      try {
        // A query, not a ping: only a query checks the user and password.
        const rows: unknown = await (
          await client.query({ query: "SELECT version() AS v", format: "JSONEachRow" })
        ).json();
        const first: unknown = Array.isArray(rows) ? rows[0] : null;
        const version =
          typeof first === "object" && first !== null && "v" in first && typeof first.v === "string"
            ? first.v
            : "?";
        return ok(`${where} as ${clickhouse.username}: ClickHouse ${version}`);
      } catch (error) {
        const text = messageOf(error);
        const fix = /password|authenticat|user/i.test(text)
          ? "check CLICKHOUSE_USERNAME and CLICKHOUSE_PASSWORD"
          : (networkFix(error, where, "CLICKHOUSE_URL (or CLICKHOUSE_HOST and CLICKHOUSE_PORT)") ??
            "check CLICKHOUSE_URL (or CLICKHOUSE_HOST and CLICKHOUSE_PORT)");
        return fail(`${where}: ${text}`, fix);
      } finally {
        await client.close().catch(() => undefined);
      }
    },
  };
}

function s3Check(s3: NonNullable<Config["s3"]>): Check {
  const where = `bucket ${s3.bucket}${s3.endpoint === null ? ` (AWS, ${s3.region})` : ` at ${s3.endpoint}`}`;
  const r2 = s3.region === "auto";
  const keys = r2
    ? "R2_ACCESS_KEY_ID and R2_SECRET_ACCESS_KEY"
    : "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY";
  return {
    name: r2 ? "R2" : "S3",
    run: async (): Promise<Result> => {
      const { S3Client, HeadBucketCommand } = await import("@aws-sdk/client-s3");
      const client = new S3Client({
        region: s3.region,
        credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
        ...(s3.endpoint !== null && { endpoint: s3.endpoint, forcePathStyle: true }),
        maxAttempts: 1,
        requestHandler: { connectionTimeout: TIMEOUT_MS, requestTimeout: TIMEOUT_MS },
      });
      try {
        await client.send(new HeadBucketCommand({ Bucket: s3.bucket }));
        return ok(`${where} can be reached with these credentials`);
      } catch (error) {
        const status = httpStatusOf(error);
        if (status === 404)
          return fail(`${where} does not exist`, `create it, or fix ${r2 ? "R2_BUCKET_NAME" : "S3_BUCKET"}`);
        if (status === 403 || status === 401)
          return fail(
            `${where}: access denied`,
            `check ${keys}, and that they may read and write the bucket`,
          );
        const endpoint = r2 ? "R2_ACCOUNT_ID (or S3_ENDPOINT)" : "S3_ENDPOINT and S3_REGION";
        return fail(
          `${where}: ${messageOf(error)}`,
          networkFix(error, where, endpoint) ?? `check ${endpoint} and ${keys}`,
        );
      } finally {
        client.destroy();
      }
    },
  };
}

function ecsCheck(ecs: NonNullable<Config["ecs"]>): Check {
  const where = `cluster ${ecs.cluster} (${ecs.region}${ecs.endpoint === null ? "" : ` at ${ecs.endpoint}`})`;
  return {
    name: "ECS",
    run: async (): Promise<Result> => {
      const { ECSClient, DescribeClustersCommand, DescribeTaskDefinitionCommand } = await import(
        "@aws-sdk/client-ecs"
      );
      const client = new ECSClient({
        region: ecs.region,
        ...(ecs.endpoint !== null && { endpoint: ecs.endpoint }),
        maxAttempts: 1,
        requestHandler: { connectionTimeout: TIMEOUT_MS, requestTimeout: TIMEOUT_MS },
      });
      try {
        const { clusters = [] } = await client.send(new DescribeClustersCommand({ clusters: [ecs.cluster] }));
        if (clusters[0]?.status !== "ACTIVE")
          return fail(`no active ${where}`, "create it, or fix ECS_CLUSTER_NAME and AWS_REGION");
        try {
          await client.send(new DescribeTaskDefinitionCommand({ taskDefinition: ecs.taskDefinition }));
        } catch (error) {
          return fail(
            `${where}: no task definition ${ecs.taskDefinition} (${messageOf(error)})`,
            "register the builder's task definition (docs/scaling-out.md: Builds on ECS), or fix ECS_TASK_DEFINITION",
          );
        }
        return ok(`${where} is active, task definition ${ecs.taskDefinition} is registered`);
      } catch (error) {
        const text = messageOf(error);
        const fix = /credential|security token|signature|not authorized|AccessDenied/i.test(text)
          ? "check the AWS credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the instance's role)"
          : (networkFix(error, where, "ECS_ENDPOINT and AWS_REGION") ?? "check AWS_REGION and ECS_ENDPOINT");
        return fail(`${where}: ${text}`, fix);
      } finally {
        client.destroy();
      }
    },
  };
}

export function serviceChecks(config: Config): Check[] {
  const checks: Check[] = [];
  if (config.store.kind === "postgres") checks.push(postgresCheck(config.store.url));
  if (config.kafka) checks.push(kafkaCheck(config.kafka));
  if (config.clickhouse) checks.push(clickHouseCheck(config.clickhouse));
  if (config.s3) checks.push(s3Check(config.s3));
  if (config.ecs && config.roles.includes("worker")) checks.push(ecsCheck(config.ecs));
  return checks;
}

// Config of the scale-out backends: Kafka bus, ClickHouse logs, S3/R2 artifacts, ECS builders.

import { ConfigError } from "../errors.ts";
import { bool, type Env, int, list, oneOf, required, text, url } from "./parse.ts";

/** Kafka settings (issue 6); present only when KAFKA_BROKERS is set. */
export interface KafkaConfig {
  brokers: string[];
  clientId: string;
  username: string | null;
  password: string | null;
  saslMechanism: "plain" | "scram-sha-256" | "scram-sha-512";
  ssl: boolean;
  /**
   * Put verbatim before every topic name and consumer group id (KAFKA_TOPIC_PREFIX), so installations with
   * different prefixes can share one cluster; empty: the unprefixed names of installs that predate it.
   */
  topicPrefix: string;
}

/** Kafka's topic-name characters; the longest prefix still leaves the names well under Kafka's 249. */
const TOPIC_PREFIX = /^[a-zA-Z0-9._-]{0,100}$/;

export interface ClickHouseConfig {
  url: string;
  database: string;
  username: string;
  password: string;
}

export interface S3Config {
  endpoint: string | null;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  publicUrl: string | null;
}

export interface EcsConfig {
  cluster: string;
  taskDefinition: string;
  subnets: string[];
  securityGroups: string[];
  assignPublicIp: "ENABLED" | "DISABLED";
  launchType: "FARGATE" | "EC2";
  imageName: string | null;
  /**
   * ECS_COUNT: how many builds each worker runs on ECS at once (null: BUILD_CONCURRENCY). Each deployment is
   * always exactly one task; the seed's RunTask `count` would have started that many builders of one deployment.
   */
  count: number | null;
  region: string;
  /** The builder's container in the task definition: gets the job and memory limit (ECS_CONTAINER_NAME). */
  containerName: string;
  /** ECS API endpoint override, for moto or LocalStack (ECS_ENDPOINT); null: AWS's regional endpoint. */
  endpoint: string | null;
  /** This platform's URL as ECS builders reach it (PUBLIC_API_URL, no /api suffix); the build API is under it. */
  apiUrl: string;
}

export function parseKafka(env: Env): KafkaConfig | null {
  const brokers = list(env, "KAFKA_BROKERS");
  if (brokers.length === 0) return null;
  for (const broker of brokers) {
    if (!/^[^\s:/]+:\d{1,5}$/.test(broker))
      throw new ConfigError("KAFKA_BROKERS", `'${broker}' is not host:port`);
  }
  const username = text(env, "KAFKA_USERNAME");
  const password = text(env, "KAFKA_PASSWORD");
  if ((username === null) !== (password === null)) {
    throw new ConfigError(
      username === null ? "KAFKA_USERNAME" : "KAFKA_PASSWORD",
      "set both KAFKA_USERNAME and KAFKA_PASSWORD, or neither",
    );
  }
  const topicPrefix = text(env, "KAFKA_TOPIC_PREFIX") ?? "";
  if (!TOPIC_PREFIX.test(topicPrefix)) {
    throw new ConfigError(
      "KAFKA_TOPIC_PREFIX",
      `must be at most 100 of the characters a-z A-Z 0-9 . _ -, got '${topicPrefix}'`,
    );
  }
  return {
    brokers,
    clientId: text(env, "KAFKA_CLIENT_ID") ?? "minivercel",
    username,
    password,
    saslMechanism: oneOf(env, "KAFKA_SASL_MECHANISM", ["plain", "scram-sha-256", "scram-sha-512"], "plain"),
    ssl: bool(env, "KAFKA_SSL", username !== null),
    topicPrefix,
  };
}

export function parseClickHouse(env: Env): ClickHouseConfig | null {
  const host = text(env, "CLICKHOUSE_HOST");
  const explicit = url(env, "CLICKHOUSE_URL", ["http:", "https:"]);
  if (host === null && explicit === null) return null;
  // The seed's CLICKHOUSE_PORT names the HTTP interface here (8123 by default): the client speaks HTTP.
  const port = int(env, "CLICKHOUSE_PORT", 8123, 1, 65535);
  return {
    url: explicit ?? `http://${host}:${port}`,
    database: text(env, "CLICKHOUSE_DATABASE") ?? "logs",
    username: text(env, "CLICKHOUSE_USERNAME") ?? "default",
    password: text(env, "CLICKHOUSE_PASSWORD") ?? "",
  };
}

export function parseS3(env: Env): S3Config | null {
  const r2Bucket = text(env, "R2_BUCKET_NAME");
  const s3Bucket = text(env, "S3_BUCKET");
  if (r2Bucket !== null) {
    const account = required(env, "R2_ACCOUNT_ID", "R2_BUCKET_NAME is set");
    return {
      endpoint: url(env, "S3_ENDPOINT", ["http:", "https:"]) ?? `https://${account}.r2.cloudflarestorage.com`,
      region: "auto",
      bucket: r2Bucket,
      accessKeyId: required(env, "R2_ACCESS_KEY_ID", "R2_BUCKET_NAME is set"),
      secretAccessKey: required(env, "R2_SECRET_ACCESS_KEY", "R2_BUCKET_NAME is set"),
      publicUrl: url(env, "R2_PUBLIC_URL", ["http:", "https:"]),
    };
  }
  if (s3Bucket === null) return null;
  return {
    endpoint: url(env, "S3_ENDPOINT", ["http:", "https:"]),
    region: text(env, "S3_REGION") ?? text(env, "AWS_REGION") ?? "us-east-1",
    bucket: s3Bucket,
    accessKeyId: required(env, "AWS_ACCESS_KEY_ID", "S3_BUCKET is set"),
    secretAccessKey: required(env, "AWS_SECRET_ACCESS_KEY", "S3_BUCKET is set"),
    publicUrl: null,
  };
}

export function parseEcs(env: Env): EcsConfig | null {
  const cluster = text(env, "ECS_CLUSTER_NAME");
  if (cluster === null) return null;
  return {
    cluster,
    taskDefinition: required(env, "ECS_TASK_DEFINITION", "ECS_CLUSTER_NAME is set"),
    subnets: list(env, "ECS_SUBNETS"),
    securityGroups: list(env, "ECS_SECURITY_GROUPS"),
    assignPublicIp: oneOf(env, "ECS_ASSIGN_PUBLIC_IP", ["ENABLED", "DISABLED"], "ENABLED"),
    launchType: oneOf(env, "ECS_LAUNCH_TYPE", ["FARGATE", "EC2"], "FARGATE"),
    imageName: text(env, "ECS_IMAGE_NAME"),
    count: text(env, "ECS_COUNT") === null ? null : int(env, "ECS_COUNT", 1, 1, 64),
    region: required(env, "AWS_REGION", "ECS_CLUSTER_NAME is set"),
    containerName: text(env, "ECS_CONTAINER_NAME") ?? "builder",
    endpoint: url(env, "ECS_ENDPOINT", ["http:", "https:"]),
    apiUrl:
      url(env, "PUBLIC_API_URL", ["http:", "https:"]) ??
      required(env, "PUBLIC_API_URL", "ECS_CLUSTER_NAME is set"),
  };
}

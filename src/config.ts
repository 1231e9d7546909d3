// Config: the only reader of environment variables and serve flags; validated once at start.

import { resolve } from "node:path";
import { ConfigError } from "./errors.ts";
import type { JwtIssuer } from "./identity/jwt.ts";
import { supabaseIssuer } from "./identity/jwt.ts";
import type { StoreConfig } from "./store/store.ts";

export const ROLES = ["api", "worker", "proxy"] as const;
export type Role = (typeof ROLES)[number];

export type Env = Record<string, string | undefined>;

/** Kafka settings (issue 6); present only when KAFKA_BROKERS is set. */
export interface KafkaConfig {
  brokers: string[];
  clientId: string;
  username: string | null;
  password: string | null;
  saslMechanism: "plain" | "scram-sha-256" | "scram-sha-512";
  ssl: boolean;
}

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
  count: number;
  region: string;
  /** The builder's container in the task definition: gets the job and memory limit (ECS_CONTAINER_NAME). */
  containerName: string;
  /** ECS API endpoint override, for moto or LocalStack (ECS_ENDPOINT); null: AWS's regional endpoint. */
  endpoint: string | null;
  /** This platform's URL as ECS builders reach it (PUBLIC_API_URL, no /api suffix); the build API is under it. */
  apiUrl: string;
}

/** How builds run on this worker (the local runner). */
export interface BuildConfig {
  /** bwrap (default): bubblewrap sandbox; none: no isolation, only for trusted single-user setups. */
  sandbox: "bwrap" | "none";
  /** Builds running at once on this worker. */
  concurrency: number;
  /** Default build time limit; a project's buildTimeoutSeconds overrides it. */
  timeoutSeconds: number;
  memoryMb: number;
  pids: number;
  /** Per-project package-manager cache; wiped when it grows past this. */
  cacheMb: number;
  /** A running build with no sign of life for this long is failed by the reaper. */
  heartbeatTimeoutSeconds: number;
}

/** How the proxy role serves sites. */
export interface ProxyConfig {
  /** One log line per request on stdout (PROXY_ACCESS_LOG, off by default). */
  accessLog: boolean;
  /** Memory for files of up to 1 MB served from RAM (PROXY_CACHE_MB). */
  cacheMb: number;
  /** Full reload of every project's routes, besides the instant route-change messages (PROXY_RECONCILE_SECONDS). */
  reconcileSeconds: number;
}

/** Garbage collection of artifacts and expiry of old previews, run by the worker role. */
export interface GcConfig {
  /** Minutes between collections on each worker; 0: only when a project is deleted (GC_INTERVAL_MINUTES). */
  intervalMinutes: number;
  /** A blob stored or claimed by an upload less than this long ago is never deleted (GC_GRACE_MINUTES). */
  graceMinutes: number;
  /** Preview deployments older than this many days expire; 0 keeps them forever (PREVIEW_RETENTION_DAYS). */
  previewRetentionDays: number;
}

export interface Config {
  roles: Role[];
  /** Address both servers bind to. */
  host: string;
  /** API and dashboard port (seed: PORT). */
  port: number;
  /** Host-header proxy port. */
  proxyPort: number;
  proxy: ProxyConfig;
  /** Data directory for the embedded backends (sqlite file, artifacts). */
  dataDir: string;
  /** Domain under which projects get `<subdomain>.<BASE_DOMAIN>`. */
  baseDomain: string;
  /** Origin allowed to call the API from a browser (CORS); the built-in dashboard needs none. */
  frontendUrl: string | null;
  store: StoreConfig;
  kafka: KafkaConfig | null;
  clickhouse: ClickHouseConfig | null;
  s3: S3Config | null;
  ecs: EcsConfig | null;
  /** External JWT issuers accepted as identities (Supabase and/or a generic OIDC issuer). */
  jwtIssuers: JwtIssuer[];
  /** Dashboard session lifetime. */
  sessionTtlSeconds: number;
  build: BuildConfig;
  /** 32-byte key (base64) that encrypts project env vars; default: generated into <data>/secret.key. */
  secretKey: string | null;
  /** Accept file:// and local paths as git URLs (MINIVERCEL_ALLOW_LOCAL_GIT=1; tests and single-user setups). */
  allowLocalGit: boolean;
  gc: GcConfig;
}

/** Flags `serve` accepts; they override the environment. */
export interface ServeFlags {
  role?: string;
  port?: string;
  proxyPort?: string;
  data?: string;
  host?: string;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got '${raw}'`);
  const value = Number(raw);
  if (value < min || value > max)
    throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function url(env: Env, name: string, protocols: string[]): string | null {
  const raw = env[name];
  if (raw === undefined || raw === "") return null;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, "must be a URL");
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must use ${protocols.map((p) => p.replace(":", "")).join(" or ")}`);
  }
  return raw.replace(/\/+$/, "");
}

function text(env: Env, name: string): string | null {
  const raw = env[name];
  return raw === undefined || raw.trim() === "" ? null : raw.trim();
}

function required(env: Env, name: string, because: string): string {
  const value = text(env, name);
  if (value === null) throw new ConfigError(name, `is required when ${because}`);
  return value;
}

function list(env: Env, name: string): string[] {
  return (text(env, name) ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = text(env, name);
  if (raw === null) return fallback;
  const found = allowed.find((a) => a.toLowerCase() === raw.toLowerCase());
  if (!found) throw new ConfigError(name, `must be one of ${allowed.join(", ")}, got '${raw}'`);
  return found;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = text(env, name);
  if (raw === null) return fallback;
  if (["1", "true", "yes", "on"].includes(raw.toLowerCase())) return true;
  if (["0", "false", "no", "off"].includes(raw.toLowerCase())) return false;
  throw new ConfigError(name, `must be true or false, got '${raw}'`);
}

export function parseRoles(raw: string | undefined, name = "--role"): Role[] {
  if (raw === undefined || raw === "" || raw === "all") return [...ROLES];
  const roles = raw.split(",").map((r) => r.trim());
  for (const role of roles) {
    if (!(ROLES as readonly string[]).includes(role)) {
      throw new ConfigError(name, `unknown role '${role}' (use all, or any of ${ROLES.join(", ")})`);
    }
  }
  return [...new Set(roles)] as Role[];
}

const HOST_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function baseDomain(env: Env): string {
  const value = (text(env, "BASE_DOMAIN") ?? "localhost").toLowerCase().replace(/\.$/, "");
  if (!value.split(".").every((label) => HOST_LABEL.test(label))) {
    throw new ConfigError("BASE_DOMAIN", `'${value}' is not a valid domain name`);
  }
  return value;
}

function kafka(env: Env): KafkaConfig | null {
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
  return {
    brokers,
    clientId: text(env, "KAFKA_CLIENT_ID") ?? "minivercel",
    username,
    password,
    saslMechanism: oneOf(env, "KAFKA_SASL_MECHANISM", ["plain", "scram-sha-256", "scram-sha-512"], "plain"),
    ssl: bool(env, "KAFKA_SSL", username !== null),
  };
}

function clickhouse(env: Env): ClickHouseConfig | null {
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

function s3(env: Env): S3Config | null {
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

function ecs(env: Env): EcsConfig | null {
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
    count: int(env, "ECS_COUNT", 1, 1, 10),
    region: required(env, "AWS_REGION", "ECS_CLUSTER_NAME is set"),
    containerName: text(env, "ECS_CONTAINER_NAME") ?? "builder",
    endpoint: url(env, "ECS_ENDPOINT", ["http:", "https:"]),
    apiUrl:
      url(env, "PUBLIC_API_URL", ["http:", "https:"]) ??
      required(env, "PUBLIC_API_URL", "ECS_CLUSTER_NAME is set"),
  };
}

function jwtIssuers(env: Env): JwtIssuer[] {
  const issuers: JwtIssuer[] = [];
  const supabase = url(env, "SUPABASE_URL", ["https:", "http:"]);
  if (supabase) issuers.push(supabaseIssuer(supabase, text(env, "SUPABASE_JWT_AUDIENCE") ?? "authenticated"));
  const issuer = url(env, "OIDC_ISSUER", ["https:", "http:"]);
  if (issuer) {
    issuers.push({
      issuer: text(env, "OIDC_ISSUER") ?? issuer,
      jwksUrl: url(env, "OIDC_JWKS_URL", ["https:", "http:"]) ?? `${issuer}/.well-known/jwks.json`,
      audience: required(env, "OIDC_AUDIENCE", "OIDC_ISSUER is set"),
    });
  } else if (text(env, "OIDC_JWKS_URL") || text(env, "OIDC_AUDIENCE")) {
    throw new ConfigError("OIDC_ISSUER", "is required when OIDC_JWKS_URL or OIDC_AUDIENCE is set");
  }
  return issuers;
}

function secretKey(env: Env): string | null {
  const raw = text(env, "MINIVERCEL_SECRET_KEY");
  if (raw === null) return null;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(raw) || Buffer.from(raw, "base64").length !== 32) {
    throw new ConfigError(
      "MINIVERCEL_SECRET_KEY",
      "must be 32 random bytes in base64 (openssl rand -base64 32)",
    );
  }
  return raw;
}

/** Builds the validated config; throws ConfigError naming the first bad variable. */
export function loadConfig(env: Env, flags: ServeFlags = {}): Config {
  const merged: Env = {
    ...env,
    ...(flags.port !== undefined && { PORT: flags.port }),
    ...(flags.proxyPort !== undefined && { PROXY_PORT: flags.proxyPort }),
    ...(flags.data !== undefined && { MINIVERCEL_DATA: flags.data }),
    ...(flags.host !== undefined && { LISTEN_HOST: flags.host }),
  };
  const dataDir = resolve(text(merged, "MINIVERCEL_DATA") ?? "./data");
  const databaseUrl = url(merged, "DATABASE_URL", ["postgres:", "postgresql:"]);
  const config: Config = {
    roles: parseRoles(
      flags.role ?? text(merged, "MINIVERCEL_ROLE") ?? undefined,
      flags.role ? "--role" : "MINIVERCEL_ROLE",
    ),
    host: text(merged, "LISTEN_HOST") ?? "0.0.0.0",
    port: int(merged, "PORT", 9000, 0, 65535),
    proxyPort: int(merged, "PROXY_PORT", 8001, 0, 65535),
    proxy: {
      accessLog: bool(merged, "PROXY_ACCESS_LOG", false),
      cacheMb: int(merged, "PROXY_CACHE_MB", 64, 0, 64 * 1024),
      reconcileSeconds: int(merged, "PROXY_RECONCILE_SECONDS", 5, 1, 3600),
    },
    dataDir,
    baseDomain: baseDomain(merged),
    frontendUrl: url(merged, "FRONTEND_URL", ["http:", "https:"]),
    store: databaseUrl
      ? { kind: "postgres", url: databaseUrl }
      : { kind: "sqlite", path: `${dataDir}/minivercel.db` },
    kafka: kafka(merged),
    clickhouse: clickhouse(merged),
    s3: s3(merged),
    ecs: ecs(merged),
    jwtIssuers: jwtIssuers(merged),
    sessionTtlSeconds: int(merged, "SESSION_TTL_SECONDS", 14 * 24 * 3600, 60, 365 * 24 * 3600),
    allowLocalGit: bool(merged, "MINIVERCEL_ALLOW_LOCAL_GIT", false),
    build: {
      sandbox: oneOf(merged, "BUILD_SANDBOX", ["bwrap", "none"], "bwrap"),
      concurrency: int(merged, "BUILD_CONCURRENCY", 2, 1, 64),
      timeoutSeconds: int(merged, "BUILD_TIMEOUT_SECONDS", 900, 10, 6 * 3600),
      memoryMb: int(merged, "BUILD_MEMORY_MB", 2048, 64, 256 * 1024),
      pids: int(merged, "BUILD_PIDS", 1024, 16, 65536),
      cacheMb: int(merged, "BUILD_CACHE_MB", 1024, 0, 1024 * 1024),
      heartbeatTimeoutSeconds: int(merged, "BUILD_HEARTBEAT_TIMEOUT_SECONDS", 60, 5, 3600),
    },
    secretKey: secretKey(merged),
    gc: {
      intervalMinutes: int(merged, "GC_INTERVAL_MINUTES", 60, 0, 7 * 24 * 60),
      // At least 5: an upload's claims must outlive its slowest path to the manifest (S3 claims lag a minute).
      graceMinutes: int(merged, "GC_GRACE_MINUTES", 60, 5, 7 * 24 * 60),
      previewRetentionDays: int(merged, "PREVIEW_RETENTION_DAYS", 30, 0, 100 * 365),
    },
  };
  if (
    config.roles.includes("api") &&
    config.roles.includes("proxy") &&
    config.port === config.proxyPort &&
    config.port !== 0
  ) {
    throw new ConfigError(
      "PROXY_PORT",
      `must differ from PORT (${config.port}) when api and proxy run together`,
    );
  }
  return config;
}

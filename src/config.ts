// Config: the only reader of environment variables and serve flags; validated once at start.

import { accessSync, constants } from "node:fs";
import { resolve } from "node:path";
import { ConfigError } from "./errors.ts";
import type { JwtIssuer } from "./identity/jwt.ts";
import { supabaseIssuer } from "./identity/jwt.ts";
import { LOG_LEVELS, type LogFormat, type LogLevel } from "./observe/log.ts";
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
  /** Builds of one user running at once across all workers; more wait QUEUED (MAX_CONCURRENT_BUILDS_PER_USER, 0: no limit). */
  maxPerUser: number;
}

/** How the proxy role serves sites. */
export interface ProxyConfig {
  /** One JSON access line per site request (PROXY_ACCESS_LOG, off by default; src/observe/http.ts). */
  accessLog: boolean;
  /** Memory for files of up to 1 MB served from RAM (PROXY_CACHE_MB). */
  cacheMb: number;
  /** Full reload of every project's routes, besides the instant route-change messages (PROXY_RECONCILE_SECONDS). */
  reconcileSeconds: number;
}

/** Custom domain ownership checks (src/deploy/domains.ts). */
export interface DomainsConfig {
  /** dns: a domain is served (and gets a certificate) once its TXT record checks out; off: as soon as it is saved. */
  verification: "dns" | "off";
  /** DNS servers (ip or ip:port) for the TXT lookups; empty: the system's resolvers (DNS_RESOLVERS). */
  resolvers: string[];
}

/** What `serve` writes to stdout and stderr (src/observe/log.ts). */
export interface LogConfig {
  /** json (default): one JSON object per line, for log collectors; text: short lines for a terminal (LOG_FORMAT). */
  format: LogFormat;
  /** Lines below this level are dropped (LOG_LEVEL, default info). */
  level: LogLevel;
  /** One access log line per API, dashboard and git request (API_ACCESS_LOG, off by default). */
  apiAccess: boolean;
}

/** Where Prometheus scrapes /metrics (src/observe/endpoint.ts). */
export interface MetricsConfig {
  /** A listener for /metrics alone, for any role (METRICS_PORT); null: none. */
  port: number | null;
  /** Address of that listener (METRICS_HOST, default 127.0.0.1: not reachable from other machines). */
  host: string;
  /** Bearer token a scraper must send (METRICS_TOKEN); when set, /metrics is also served on the API port. */
  token: string | null;
}

/** Request rate limits, sign-in throttling and per-user quotas (src/api/rate-limit.ts, src/identity/login-throttle.ts). 0 disables a limit. */
export interface LimitsConfig {
  /** API requests per minute from one client address, before authentication (RATE_LIMIT_IP_PER_MINUTE). */
  ipPerMinute: number;
  /** API reads (GET, HEAD) per minute per user (RATE_LIMIT_USER_PER_MINUTE). */
  userReadsPerMinute: number;
  /** API writes (POST, PUT, PATCH, DELETE) per minute per user (RATE_LIMIT_USER_WRITES_PER_MINUTE). */
  userWritesPerMinute: number;
  /** File uploads and hash checks per minute, per user and per address: a budget of their own (RATE_LIMIT_UPLOADS_PER_MINUTE). */
  uploadsPerMinute: number;
  /** Failed sign-ins for one email that lock it out; each further one doubles the lockout (LOGIN_MAX_FAILURES). */
  loginMaxFailures: number;
  /** The same for one client address, whatever the emails (LOGIN_MAX_FAILURES_PER_IP). */
  loginMaxFailuresPerIp: number;
  /** The first lockout; it doubles with every further failure, up to an hour (LOGIN_LOCKOUT_SECONDS). */
  loginLockoutSeconds: number;
  /** Largest file a user may upload (PUT /api/files/:hash), in MB (MAX_UPLOAD_MB, at most 100). */
  maxUploadMb: number;
  /** Projects one user may own (MAX_PROJECTS_PER_USER). */
  maxProjectsPerUser: number;
  /** Reverse proxies in front of the API whose X-Forwarded-For is trusted for the client address (TRUST_PROXY). */
  trustProxyHops: number;
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

/** Where DNS-01 challenge records go (ACME_DNS_PROVIDER): lego's generic httpreq protocol, or Cloudflare. */
export type DnsConfig =
  | { kind: "httpreq"; url: string; username: string | null; password: string | null }
  | { kind: "cloudflare"; apiToken: string; zoneId: string | null; apiUrl: string };

/** Automatic HTTPS by ACME (src/tls/); present only when ACME_DIRECTORY_URL is set. */
export interface HttpsConfig {
  /** The CA's ACME directory, e.g. Let's Encrypt's https://acme-v02.api.letsencrypt.org/directory. */
  directoryUrl: string;
  /** The ACME account's contact address (ACME_EMAIL): the CA writes here about expiring certificates. */
  email: string;
  /** Port of the HTTPS listener of proxy processes (HTTPS_PORT, default 443). */
  port: number;
  /** PEM file of a CA that the ACME directory's own TLS is trusted with (ACME_CA_FILE; Pebble, private CAs). */
  caFile: string | null;
  /** A certificate is renewed once it expires within this many days (ACME_RENEW_DAYS, default 30). */
  renewDays: number;
  /** http-01: one certificate per host; dns-01: one `*.<BASE_DOMAIN>` wildcard through `dns` (ACME_CHALLENGE). */
  challenge: "http-01" | "dns-01";
  dns: DnsConfig | null;
  /** Wait after publishing a DNS-01 record, for it to reach every name server (ACME_DNS_WAIT_SECONDS). */
  dnsWaitSeconds: number;
  /** The dashboard's and API's public host name (DASHBOARD_HOST, default dashboard.<BASE_DOMAIN>). */
  dashboardHost: string;
  /** Where a proxy process without the api role forwards the dashboard host (DASHBOARD_UPSTREAM). */
  dashboardUpstream: string | null;
}

export interface Config {
  roles: Role[];
  /** Address both servers bind to. */
  host: string;
  /** API and dashboard port (seed: PORT). */
  port: number;
  /** Host-header proxy port. */
  proxyPort: number;
  log: LogConfig;
  metrics: MetricsConfig;
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
  domains: DomainsConfig;
  /** Automatic HTTPS; null: plain HTTP only (no ACME_DIRECTORY_URL). */
  https: HttpsConfig | null;
  limits: LimitsConfig;
  /**
   * On SIGTERM/SIGINT: how long to let in-flight requests and running builds finish before stopping them
   * (SHUTDOWN_TIMEOUT_SECONDS, default 20; 0 stops at once). A build stopped then is queued again.
   */
  shutdownTimeoutSeconds: number;
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

function resolvers(env: Env): string[] {
  const servers = list(env, "DNS_RESOLVERS");
  for (const server of servers) {
    const ipv4 = /^\d{1,3}(\.\d{1,3}){3}(:\d{1,5})?$/;
    const ipv6 = /^(\[[0-9a-fA-F:.]+\](:\d{1,5})?|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*)$/;
    if (!ipv4.test(server) && !ipv6.test(server))
      throw new ConfigError("DNS_RESOLVERS", `'${server}' is not an IP address with an optional :port`);
  }
  return servers;
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/i;

function metrics(env: Env): MetricsConfig {
  const token = text(env, "METRICS_TOKEN");
  if (token !== null && !/^[\x21-\x7e]{16,256}$/.test(token))
    throw new ConfigError("METRICS_TOKEN", "must be 16 to 256 printable characters without spaces");
  const host = text(env, "METRICS_HOST") ?? "127.0.0.1";
  const port = text(env, "METRICS_PORT") === null ? null : int(env, "METRICS_PORT", 0, 0, 65535);
  // Without a token the metrics stay on this machine: they name projects' traffic and the cluster's state.
  if (port !== null && token === null && !LOOPBACK.test(host))
    throw new ConfigError(
      "METRICS_TOKEN",
      `is required when METRICS_HOST (${host}) is not a loopback address`,
    );
  return { port, host, token };
}

/** TRUST_PROXY: a number of proxy hops, or true (one proxy) / false (none: the socket's address). */
function trustProxyHops(env: Env): number {
  const raw = text(env, "TRUST_PROXY");
  if (raw !== null && !/^\d+$/.test(raw)) return bool(env, "TRUST_PROXY", false) ? 1 : 0;
  return int(env, "TRUST_PROXY", 0, 0, 10);
}

function limits(env: Env): LimitsConfig {
  return {
    ipPerMinute: int(env, "RATE_LIMIT_IP_PER_MINUTE", 600, 0, 1_000_000),
    userReadsPerMinute: int(env, "RATE_LIMIT_USER_PER_MINUTE", 600, 0, 1_000_000),
    userWritesPerMinute: int(env, "RATE_LIMIT_USER_WRITES_PER_MINUTE", 120, 0, 1_000_000),
    // A deploy uploads each file it has new in one burst: 20,000 is the most files one deployment may have.
    uploadsPerMinute: int(env, "RATE_LIMIT_UPLOADS_PER_MINUTE", 20_000, 0, 10_000_000),
    loginMaxFailures: int(env, "LOGIN_MAX_FAILURES", 5, 0, 1000),
    loginMaxFailuresPerIp: int(env, "LOGIN_MAX_FAILURES_PER_IP", 20, 0, 100_000),
    loginLockoutSeconds: int(env, "LOGIN_LOCKOUT_SECONDS", 30, 1, 3600),
    // Not above 100: the CLI, the builders and deployments all refuse files over 100 MB.
    maxUploadMb: int(env, "MAX_UPLOAD_MB", 100, 1, 100),
    maxProjectsPerUser: int(env, "MAX_PROJECTS_PER_USER", 100, 0, 1_000_000),
    trustProxyHops: trustProxyHops(env),
  };
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

function dnsProvider(env: Env): DnsConfig | null {
  const kind = text(env, "ACME_DNS_PROVIDER");
  if (kind === null) return null;
  switch (oneOf(env, "ACME_DNS_PROVIDER", ["httpreq", "cloudflare"], "httpreq")) {
    case "httpreq": {
      const username = text(env, "ACME_DNS_HTTPREQ_USERNAME");
      const password = text(env, "ACME_DNS_HTTPREQ_PASSWORD");
      if ((username === null) !== (password === null))
        throw new ConfigError(
          "ACME_DNS_HTTPREQ_USERNAME",
          "set both it and ACME_DNS_HTTPREQ_PASSWORD, or neither",
        );
      const endpoint =
        url(env, "ACME_DNS_HTTPREQ_URL", ["http:", "https:"]) ??
        required(env, "ACME_DNS_HTTPREQ_URL", "ACME_DNS_PROVIDER is httpreq");
      return { kind: "httpreq", url: endpoint, username, password };
    }
    case "cloudflare":
      return {
        kind: "cloudflare",
        apiToken: required(env, "CLOUDFLARE_API_TOKEN", "ACME_DNS_PROVIDER is cloudflare"),
        zoneId: text(env, "CLOUDFLARE_ZONE_ID"),
        apiUrl: url(env, "CLOUDFLARE_API_URL", ["https:", "http:"]) ?? "https://api.cloudflare.com/client/v4",
      };
  }
}

function https(env: Env, base: string): HttpsConfig | null {
  const directoryUrl = url(env, "ACME_DIRECTORY_URL", ["https:"]);
  if (directoryUrl === null) return null;
  // Certificates are for names the public CA can reach; "localhost" (the default) has none.
  if (!base.includes("."))
    throw new ConfigError(
      "BASE_DOMAIN",
      `must be a public domain name when ACME_DIRECTORY_URL is set, got '${base}'`,
    );
  const email = required(env, "ACME_EMAIL", "ACME_DIRECTORY_URL is set");
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email))
    throw new ConfigError("ACME_EMAIL", `'${email}' is not an email address`);
  const caFile = text(env, "ACME_CA_FILE");
  if (caFile !== null) {
    try {
      accessSync(caFile, constants.R_OK);
    } catch {
      throw new ConfigError("ACME_CA_FILE", `cannot read '${caFile}'`);
    }
  }
  const challenge = oneOf(env, "ACME_CHALLENGE", ["http-01", "dns-01"], "http-01");
  const dns = dnsProvider(env);
  if (challenge === "dns-01" && dns === null)
    throw new ConfigError(
      "ACME_DNS_PROVIDER",
      "is required when ACME_CHALLENGE is dns-01 (httpreq or cloudflare)",
    );
  const dashboardHost = (text(env, "DASHBOARD_HOST") ?? `dashboard.${base}`).toLowerCase().replace(/\.$/, "");
  if (!dashboardHost.includes(".") || !dashboardHost.split(".").every((label) => HOST_LABEL.test(label)))
    throw new ConfigError("DASHBOARD_HOST", `'${dashboardHost}' is not a valid host name`);
  return {
    directoryUrl,
    email,
    port: int(env, "HTTPS_PORT", 443, 0, 65535),
    caFile: caFile === null ? null : resolve(caFile),
    renewDays: int(env, "ACME_RENEW_DAYS", 30, 1, 89),
    challenge,
    dns,
    dnsWaitSeconds: int(env, "ACME_DNS_WAIT_SECONDS", 20, 0, 600),
    dashboardHost,
    dashboardUpstream: url(env, "DASHBOARD_UPSTREAM", ["http:", "https:"]),
  };
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
    log: {
      format: oneOf(merged, "LOG_FORMAT", ["json", "text"], "json"),
      level: oneOf(merged, "LOG_LEVEL", LOG_LEVELS, "info"),
      apiAccess: bool(merged, "API_ACCESS_LOG", false),
    },
    metrics: metrics(merged),
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
      maxPerUser: int(merged, "MAX_CONCURRENT_BUILDS_PER_USER", 3, 0, 1000),
    },
    limits: limits(merged),
    shutdownTimeoutSeconds: int(merged, "SHUTDOWN_TIMEOUT_SECONDS", 20, 0, 24 * 3600),
    secretKey: secretKey(merged),
    gc: {
      intervalMinutes: int(merged, "GC_INTERVAL_MINUTES", 60, 0, 7 * 24 * 60),
      // At least 5: an upload's claims must outlive its slowest path to the manifest (S3 claims lag a minute).
      graceMinutes: int(merged, "GC_GRACE_MINUTES", 60, 5, 7 * 24 * 60),
      previewRetentionDays: int(merged, "PREVIEW_RETENTION_DAYS", 30, 0, 100 * 365),
    },
    domains: {
      verification: oneOf(merged, "DOMAIN_VERIFICATION", ["dns", "off"], "dns"),
      resolvers: resolvers(merged),
    },
    https: https(merged, baseDomain(merged)),
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
  const taken = [config.port, config.proxyPort];
  if (config.metrics.port !== null && config.metrics.port !== 0 && taken.includes(config.metrics.port))
    throw new ConfigError("METRICS_PORT", `must differ from PORT and PROXY_PORT, got ${config.metrics.port}`);
  if (config.https && config.https.port !== 0 && taken.includes(config.https.port))
    throw new ConfigError("HTTPS_PORT", `must differ from PORT and PROXY_PORT, got ${config.https.port}`);
  return config;
}

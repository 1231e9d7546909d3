// Config: the only reader of environment variables and serve flags; validated once at start.
// Sections live beside it in src/config/, each a parseX(env) over the readers in parse.ts.

import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { ConfigError } from "../errors.ts";

import { type AnalyticsConfig, parseAnalytics } from "./analytics.ts";
import { type BuildConfig, type GcConfig, parseBuild, parseGc } from "./build.ts";
import {
  type DomainsConfig,
  type HttpsConfig,
  parseBaseDomain,
  parseDomains,
  parseHttps,
  parseSitesDomain,
} from "./domains.ts";
import { type FunctionsConfig, parseFunctions } from "./functions.ts";
import { type LimitsConfig, parseLimits } from "./limits.ts";
import { type LogConfig, type MetricsConfig, parseLog, parseMetrics } from "./observe.ts";
import { bool, type Env, int, required, text, url } from "./parse.ts";
import { type PreviewConfig, parsePreview } from "./preview.ts";
import { type ProtectionConfig, parseProtection } from "./protection.ts";
import {
  type ClickHouseConfig,
  type EcsConfig,
  type KafkaConfig,
  parseClickHouse,
  parseEcs,
  parseKafka,
  parseS3,
  type S3Config,
} from "./scale-out.ts";

// The section types are imported from here across the tree.
export type { AnalyticsConfig } from "./analytics.ts";
export type { BuildConfig, GcConfig } from "./build.ts";
export type { DnsConfig, DomainsConfig, HttpsConfig } from "./domains.ts";
export type { LimitsConfig } from "./limits.ts";
export type { LogConfig, MetricsConfig } from "./observe.ts";
export type { Env } from "./parse.ts";
export type { ProtectionConfig } from "./protection.ts";
export type { ClickHouseConfig, EcsConfig, KafkaConfig, S3Config } from "./scale-out.ts";

export const ROLES = ["api", "worker", "proxy", "functions"] as const;
export type Role = (typeof ROLES)[number];
/** What `all` (the default) runs: everything on one machine, the proxy running functions itself. */
export const ALL_IN_ONE: readonly Role[] = ["api", "worker", "proxy"];

/** How the proxy role serves sites. */
export interface ProxyConfig {
  /** One JSON access line per site request (PROXY_ACCESS_LOG, off by default; src/observe/http.ts). */
  accessLog: boolean;
  /** Memory for files of up to 1 MB served from RAM (PROXY_CACHE_MB). */
  cacheMb: number;
  /** Full reload of every project's routes, besides the instant route-change messages (PROXY_RECONCILE_SECONDS). */
  reconcileSeconds: number;
  /**
   * Processes answering on the proxy port (PROXY_PROCESSES: a number, or `auto` = one per core; default 1):
   * `serve` starts the extra ones itself, as nginx starts its workers (src/roles-proxy-processes.ts).
   */
  processes: number;
}

/** An external identity issuer whose JWTs the API accepts (Supabase, Auth0, Keycloak...). */
export interface JwtIssuer {
  /** Exact `iss` claim value; also the lookup key for the issuer. */
  issuer: string;
  /** Where the issuer publishes its public keys (JWKS). */
  jwksUrl: string;
  /** Required `aud` claim value. */
  audience: string;
}

/** Config helper: Supabase project URL -> its issuer settings (issuer `${url}/auth/v1`, jwks `${url}/auth/v1/.well-known/jwks.json`, audience "authenticated"). */
export function supabaseIssuer(supabaseUrl: string, audience = "authenticated"): JwtIssuer {
  const issuer = `${supabaseUrl.replace(/\/+$/, "")}/auth/v1`;
  return { issuer, jwksUrl: `${issuer}/.well-known/jwks.json`, audience };
}

/** Where the store lives: sqlite in the data dir (embedded), or Postgres (DATABASE_URL). */
export type StoreConfig = { kind: "sqlite"; path: string } | { kind: "postgres"; url: string };

export interface OutgoingHooksConfig {
  /**
   * Accept hook URLs whose host is, or resolves to, a loopback, private or link-local address
   * (MINIVERCEL_ALLOW_PRIVATE_HOOKS=1, e.g. a receiver on the operator's LAN); the same for git provider API
   * URLs (commit statuses, src/deploy/git-provider.ts); default: refused.
   */
  allowPrivate: boolean;
  /**
   * Wait before the first retry of a failed delivery; each next waits 3 times longer, 6 attempts in all
   * (OUTGOING_HOOK_RETRY_BASE_MS, default 30000: retries over about an hour); git provider reports retry alike.
   */
  retryBaseMs: number;
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
  /** The platform's domain: the dashboard's host defaults to dashboard.<BASE_DOMAIN>. */
  baseDomain: string;
  /** Domain under which projects get `<subdomain>.<SITES_DOMAIN>` (SITES_DOMAIN, default BASE_DOMAIN). */
  sitesDomain: string;
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
  /** Preview images of READY deployments: the headless browser, its time and memory (src/preview/). */
  preview: PreviewConfig;
  /** The function runtime: idle instances, start time, limits (src/runtime/). */
  functions: FunctionsConfig;
  /** Web analytics from the proxy (src/config/analytics.ts). */
  analytics: AnalyticsConfig;
  /** 32-byte key (base64) that encrypts project env vars; default: generated into <data>/secret.key. */
  secretKey: string | null;
  /** Accept file:// and local paths as git URLs (MINIVERCEL_ALLOW_LOCAL_GIT=1; tests and single-user setups). */
  allowLocalGit: boolean;
  /**
   * Accept git hosts on loopback, private and link-local addresses (MINIVERCEL_ALLOW_PRIVATE_GIT=1, e.g. a git
   * server on the operator's LAN); default: as MINIVERCEL_ALLOW_LOCAL_GIT. Such clones then run on the host.
   */
  allowPrivateGit: boolean;
  gc: GcConfig;
  domains: DomainsConfig;
  /** Automatic HTTPS; null: plain HTTP only (no ACME_DIRECTORY_URL). */
  https: HttpsConfig | null;
  limits: LimitsConfig;
  /** Outgoing webhooks (src/worker/outgoing.ts). */
  outgoingHooks: OutgoingHooksConfig;
  /** Deployment protection: new projects' mode and the dashboard's origin for sign-in redirects. */
  protection: ProtectionConfig;
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

export function parseRoles(raw: string | undefined, name = "--role"): Role[] {
  if (raw === undefined || raw === "" || raw === "all") return [...ALL_IN_ONE];
  const roles = raw.split(",").map((r) => r.trim());
  for (const role of roles) {
    if (!(ROLES as readonly string[]).includes(role)) {
      throw new ConfigError(name, `unknown role '${role}' (use all, or any of ${ROLES.join(", ")})`);
    }
  }
  return [...new Set(roles)] as Role[];
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

/**
 * PROXY_PROCESSES: 1 by default (each extra process costs ~50 MB: the small VPS the embedded setup is for keeps its
 * memory); `auto` is the number of cores this process may use.
 */
function proxyProcesses(env: Env): number {
  const raw = text(env, "PROXY_PROCESSES");
  if (raw === null) return 1;
  if (raw.toLowerCase() === "auto") return Math.max(1, Math.min(64, availableParallelism()));
  if (!/^\d+$/.test(raw))
    throw new ConfigError("PROXY_PROCESSES", `must be auto or a whole number, got '${raw}'`);
  return int(env, "PROXY_PROCESSES", 1, 1, 64);
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
    log: parseLog(merged),
    metrics: parseMetrics(merged),
    proxy: {
      accessLog: bool(merged, "PROXY_ACCESS_LOG", false),
      cacheMb: int(merged, "PROXY_CACHE_MB", 64, 0, 64 * 1024),
      reconcileSeconds: int(merged, "PROXY_RECONCILE_SECONDS", 5, 1, 3600),
      processes: proxyProcesses(merged),
    },
    dataDir,
    baseDomain: parseBaseDomain(merged),
    sitesDomain: parseSitesDomain(merged, parseBaseDomain(merged)),
    frontendUrl: url(merged, "FRONTEND_URL", ["http:", "https:"]),
    store: databaseUrl
      ? { kind: "postgres", url: databaseUrl }
      : { kind: "sqlite", path: `${dataDir}/minivercel.db` },
    kafka: parseKafka(merged),
    clickhouse: parseClickHouse(merged),
    s3: parseS3(merged),
    ecs: parseEcs(merged),
    jwtIssuers: jwtIssuers(merged),
    sessionTtlSeconds: int(merged, "SESSION_TTL_SECONDS", 14 * 24 * 3600, 60, 365 * 24 * 3600),
    allowLocalGit: bool(merged, "MINIVERCEL_ALLOW_LOCAL_GIT", false),
    allowPrivateGit: bool(
      merged,
      "MINIVERCEL_ALLOW_PRIVATE_GIT",
      bool(merged, "MINIVERCEL_ALLOW_LOCAL_GIT", false),
    ),
    build: parseBuild(merged),
    preview: parsePreview(merged),
    functions: parseFunctions(merged),
    analytics: parseAnalytics(merged),
    limits: parseLimits(merged),
    outgoingHooks: {
      allowPrivate: bool(merged, "MINIVERCEL_ALLOW_PRIVATE_HOOKS", false),
      retryBaseMs: int(merged, "OUTGOING_HOOK_RETRY_BASE_MS", 30_000, 10, 3_600_000),
    },
    shutdownTimeoutSeconds: int(merged, "SHUTDOWN_TIMEOUT_SECONDS", 20, 0, 24 * 3600),
    secretKey: secretKey(merged),
    gc: parseGc(merged),
    domains: parseDomains(merged),
    https: parseHttps(merged, parseBaseDomain(merged), parseSitesDomain(merged, parseBaseDomain(merged))),
    protection: { defaultMode: "previews", dashboardUrl: "" },
  };
  config.protection = parseProtection(merged, config);
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
  checkFunctionsPlacement(config);
  return config;
}

/**
 * Functions nodes and the proxies that use them find each other on the bus and sign their calls with the secret
 * key: across processes that takes Kafka and one MINIVERCEL_SECRET_KEY for all of them.
 */
function checkFunctionsPlacement(config: Config): void {
  const node = config.roles.includes("functions");
  // An api with PROXY_FUNCTIONS=remote asks the nodes about their app servers (src/proxy/apps-nodes.ts).
  const remote =
    (config.roles.includes("proxy") || config.roles.includes("api")) &&
    config.functions.placement === "remote";
  if (node) {
    const { port } = config.functions;
    // Only the listeners this process opens.
    const has = (role: Role) => config.roles.includes(role);
    const others = [
      has("api") ? config.port : null,
      has("proxy") ? config.proxyPort : null,
      has("proxy") ? (config.https?.port ?? null) : null,
      config.metrics.port,
    ];
    if (port !== 0 && others.includes(port))
      throw new ConfigError(
        "FUNCTIONS_PORT",
        `must differ from PORT, PROXY_PORT, HTTPS_PORT and METRICS_PORT, got ${port}`,
      );
  }
  // Both ends in one process (tests, a trial) meet on the in-process bus.
  if (!(node || remote) || (node && remote)) return;
  const name = node ? "MINIVERCEL_ROLE" : "PROXY_FUNCTIONS";
  const what = node ? "the functions role" : "PROXY_FUNCTIONS=remote";
  if (config.kafka === null)
    throw new ConfigError(
      "KAFKA_BROKERS",
      `is required with ${what}: functions nodes announce themselves to proxies on the bus (${name})`,
    );
  if (config.secretKey === null)
    throw new ConfigError(
      "MINIVERCEL_SECRET_KEY",
      `is required with ${what}: proxies and functions nodes sign their calls with it (${name})`,
    );
}

// Config: defaults with no environment, flag precedence, backend selection, and a named error for every bad value.

import { describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ConfigError } from "../errors.ts";
import { type Env, loadConfig, parseRoles, type ServeFlags } from "./config.ts";

/** Asserts loadConfig refuses with a ConfigError whose variable (and message prefix) is `variable`. */
function refuses(env: Env, variable: string, flags: ServeFlags = {}): ConfigError {
  let caught: unknown;
  try {
    loadConfig(env, flags);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  const error = caught as ConfigError;
  expect({ env, variable: error.variable }).toEqual({ env, variable });
  expect(error.message.startsWith(`${variable}: `)).toBe(true);
  return error;
}

describe("defaults", () => {
  test("an empty environment gives the embedded setup on the seed's ports", () => {
    const config = loadConfig({});
    expect(config.port).toBe(9000);
    expect(config.proxyPort).toBe(8001);
    expect(config.host).toBe("0.0.0.0");
    expect(config.baseDomain).toBe("localhost");
    expect(config.roles).toEqual(["api", "worker", "proxy"]);
    // Resolved against the working directory, so later chdirs cannot move the data.
    expect(config.dataDir).toBe(resolve("./data"));
    expect(config.store).toEqual({ kind: "sqlite", path: `${resolve("./data")}/minivercel.db` });
    expect(config.kafka).toBeNull();
    expect(config.clickhouse).toBeNull();
    expect(config.s3).toBeNull();
    expect(config.ecs).toBeNull();
    expect(config.jwtIssuers).toEqual([]);
    expect(config.frontendUrl).toBeNull();
    expect(config.allowLocalGit).toBe(false);
  });

  test("empty strings count as unset", () => {
    const config = loadConfig({ PORT: "", PROXY_PORT: "", BASE_DOMAIN: " ", DATABASE_URL: "" });
    expect(config.port).toBe(9000);
    expect(config.proxyPort).toBe(8001);
    expect(config.baseDomain).toBe("localhost");
    expect(config.store.kind).toBe("sqlite");
  });
});

describe("sources", () => {
  test("environment values are read", () => {
    const config = loadConfig({
      PORT: "3000",
      PROXY_PORT: "3001",
      BASE_DOMAIN: "Sites.Example.COM.",
      MINIVERCEL_DATA: "/srv/mv",
      MINIVERCEL_ROLE: "proxy",
      LISTEN_HOST: "127.0.0.1",
      MINIVERCEL_ALLOW_LOCAL_GIT: "yes",
    });
    expect(config.port).toBe(3000);
    expect(config.proxyPort).toBe(3001);
    expect(config.baseDomain).toBe("sites.example.com");
    expect(config.dataDir).toBe("/srv/mv");
    expect(config.store).toEqual({ kind: "sqlite", path: "/srv/mv/minivercel.db" });
    expect(config.roles).toEqual(["proxy"]);
    expect(config.host).toBe("127.0.0.1");
    expect(config.allowLocalGit).toBe(true);
  });

  test("flags override the environment", () => {
    const env = {
      PORT: "3000",
      PROXY_PORT: "3001",
      MINIVERCEL_DATA: "/srv/env",
      MINIVERCEL_ROLE: "worker",
      LISTEN_HOST: "0.0.0.0",
    };
    const config = loadConfig(env, {
      port: "4000",
      proxyPort: "4001",
      data: "/srv/flag",
      role: "api",
      host: "127.0.0.1",
    });
    expect(config.port).toBe(4000);
    expect(config.proxyPort).toBe(4001);
    expect(config.dataDir).toBe("/srv/flag");
    expect(config.roles).toEqual(["api"]);
    expect(config.host).toBe("127.0.0.1");
    // A flag left out keeps the environment's value.
    expect(loadConfig(env, { port: "4000" }).proxyPort).toBe(3001);
  });

  test("DATABASE_URL selects Postgres", () => {
    for (const url of ["postgres://mv:secret@db:5432/mv", "postgresql://db/mv"]) {
      expect(loadConfig({ DATABASE_URL: url }).store).toEqual({ kind: "postgres", url });
    }
  });

  test("SUPABASE_URL produces the Supabase issuer", () => {
    const config = loadConfig({ SUPABASE_URL: "https://abc.supabase.co/" });
    expect(config.jwtIssuers).toEqual([
      {
        issuer: "https://abc.supabase.co/auth/v1",
        jwksUrl: "https://abc.supabase.co/auth/v1/.well-known/jwks.json",
        audience: "authenticated",
      },
    ]);
  });

  test("an OIDC issuer sits beside Supabase, with a default JWKS URL", () => {
    const config = loadConfig({
      SUPABASE_URL: "https://abc.supabase.co",
      OIDC_ISSUER: "https://id.example.com",
      OIDC_AUDIENCE: "minivercel",
    });
    expect(config.jwtIssuers).toHaveLength(2);
    expect(config.jwtIssuers[1]).toEqual({
      issuer: "https://id.example.com",
      jwksUrl: "https://id.example.com/.well-known/jwks.json",
      audience: "minivercel",
    });
  });

  test("comma-separated roles parse and dedupe", () => {
    expect(parseRoles("api,proxy")).toEqual(["api", "proxy"]);
    expect(parseRoles(" worker , api ,worker")).toEqual(["worker", "api"]);
    expect(parseRoles("all")).toEqual(["api", "worker", "proxy"]);
    expect(parseRoles(undefined)).toEqual(["api", "worker", "proxy"]);
    expect(loadConfig({}, { role: "proxy,proxy,api" }).roles).toEqual(["proxy", "api"]);
  });

  test("port 0 (pick a free port) is allowed for both servers together", () => {
    const config = loadConfig({ PORT: "0", PROXY_PORT: "0" });
    expect([config.port, config.proxyPort]).toEqual([0, 0]);
  });

  test("ECS: the seed's settings plus the builder's container, an endpoint and the URL builders call", () => {
    const ecs = loadConfig({
      ECS_CLUSTER_NAME: "builds",
      ECS_TASK_DEFINITION: "builder:3",
      AWS_REGION: "eu-west-1",
      ECS_SUBNETS: "subnet-a, subnet-b",
      PUBLIC_API_URL: "https://deploy.example.com/",
    }).ecs;
    expect(ecs).toMatchObject({
      cluster: "builds",
      subnets: ["subnet-a", "subnet-b"],
      containerName: "builder",
      endpoint: null,
      apiUrl: "https://deploy.example.com",
      count: null,
    });
  });

  test("ECS_COUNT: builds per worker on ECS (never tasks per build), 1 to 64", () => {
    const base = {
      ECS_CLUSTER_NAME: "builds",
      ECS_TASK_DEFINITION: "builder:3",
      AWS_REGION: "eu-west-1",
      PUBLIC_API_URL: "https://deploy.example.com",
    };
    expect(loadConfig({ ...base, ECS_COUNT: "8" }).ecs?.count).toBe(8);
    expect(() => loadConfig({ ...base, ECS_COUNT: "0" })).toThrow("ECS_COUNT");
    expect(() => loadConfig({ ...base, ECS_COUNT: "65" })).toThrow("ECS_COUNT");
  });

  test("the same port is fine when api and proxy run in separate processes", () => {
    expect(loadConfig({ PORT: "8080", PROXY_PORT: "8080", MINIVERCEL_ROLE: "api,worker" }).port).toBe(8080);
    expect(loadConfig({ PORT: "8080", PROXY_PORT: "8080" }, { role: "proxy" }).proxyPort).toBe(8080);
  });
});

describe("bad values stop the start with the variable's name", () => {
  test("PORT", () => {
    refuses({ PORT: "abc" }, "PORT");
    refuses({ PORT: "70000" }, "PORT");
    refuses({ PORT: "-1" }, "PORT");
    refuses({ PORT: "80.5" }, "PORT");
    refuses({ PROXY_PORT: "65536" }, "PROXY_PORT");
    expect(refuses({ PORT: "abc" }, "PORT").message).toContain("'abc'");
  });

  test("a bad flag value names the variable it stands for", () => {
    refuses({}, "PORT", { port: "abc" });
    refuses({}, "PROXY_PORT", { proxyPort: "99999" });
  });

  test("BASE_DOMAIN", () => {
    for (const value of ["bad_label.example.com", "-x.example.com", "a..b", "exa mple.com", "x".repeat(64)]) {
      refuses({ BASE_DOMAIN: value }, "BASE_DOMAIN");
    }
  });

  test("SITES_DOMAIN: default BASE_DOMAIN, normalized, refused when malformed", () => {
    expect(loadConfig({ BASE_DOMAIN: "example.com" }).sitesDomain).toBe("example.com");
    expect(loadConfig({ BASE_DOMAIN: "example.com", SITES_DOMAIN: "Example-Sites.COM." }).sitesDomain).toBe(
      "example-sites.com",
    );
    for (const value of ["bad_label.example", "a..b", "x y"])
      refuses({ SITES_DOMAIN: value }, "SITES_DOMAIN");
    refuses(
      {
        BASE_DOMAIN: "example.com",
        SITES_DOMAIN: "localhost",
        ACME_DIRECTORY_URL: "https://acme.example/dir",
        ACME_EMAIL: "ops@example.com",
      },
      "SITES_DOMAIN",
    );
  });

  test("DATABASE_URL", () => {
    refuses({ DATABASE_URL: "mysql://x" }, "DATABASE_URL");
    refuses({ DATABASE_URL: "not a url" }, "DATABASE_URL");
  });

  test("roles", () => {
    refuses({}, "--role", { role: "web" });
    refuses({}, "--role", { role: "api,bogus" });
    refuses({ MINIVERCEL_ROLE: "everything" }, "MINIVERCEL_ROLE");
  });

  test("Kafka", () => {
    refuses({ KAFKA_BROKERS: "kafka1" }, "KAFKA_BROKERS");
    refuses({ KAFKA_BROKERS: "kafka1:9092,kafka2" }, "KAFKA_BROKERS");
    const error = refuses({ KAFKA_BROKERS: "kafka1:9092", KAFKA_USERNAME: "mv" }, "KAFKA_PASSWORD");
    expect(error.message).toContain("KAFKA_USERNAME");
    refuses({ KAFKA_BROKERS: "kafka1:9092", KAFKA_PASSWORD: "pw" }, "KAFKA_USERNAME");
    refuses({ KAFKA_BROKERS: "kafka1:9092", KAFKA_SASL_MECHANISM: "gssapi" }, "KAFKA_SASL_MECHANISM");
    expect(loadConfig({ KAFKA_BROKERS: "a:9092, b:9093" }).kafka?.brokers).toEqual(["a:9092", "b:9093"]);
    // No prefix: the topic and group names of installs that predate the setting.
    expect(loadConfig({ KAFKA_BROKERS: "a:9092" }).kafka?.topicPrefix).toBe("");
    const prefixed = loadConfig({ KAFKA_BROKERS: "a:9092", KAFKA_TOPIC_PREFIX: "staging_2.eu-" });
    expect(prefixed.kafka?.topicPrefix).toBe("staging_2.eu-");
    refuses({ KAFKA_BROKERS: "a:9092", KAFKA_TOPIC_PREFIX: "acme/" }, "KAFKA_TOPIC_PREFIX");
    refuses({ KAFKA_BROKERS: "a:9092", KAFKA_TOPIC_PREFIX: "my prefix" }, "KAFKA_TOPIC_PREFIX");
    refuses({ KAFKA_BROKERS: "a:9092", KAFKA_TOPIC_PREFIX: "é." }, "KAFKA_TOPIC_PREFIX");
    refuses({ KAFKA_BROKERS: "a:9092", KAFKA_TOPIC_PREFIX: "a".repeat(101) }, "KAFKA_TOPIC_PREFIX");
    expect(loadConfig({ KAFKA_BROKERS: "a:9092", KAFKA_TOPIC_PREFIX: "a".repeat(100) }).kafka).not.toBeNull();
  });

  test("R2 and S3", () => {
    refuses({ R2_BUCKET_NAME: "sites" }, "R2_ACCOUNT_ID");
    refuses({ R2_BUCKET_NAME: "sites", R2_ACCOUNT_ID: "acc" }, "R2_ACCESS_KEY_ID");
    refuses({ S3_BUCKET: "sites" }, "AWS_ACCESS_KEY_ID");
    const r2 = loadConfig({
      R2_BUCKET_NAME: "sites",
      R2_ACCOUNT_ID: "acc",
      R2_ACCESS_KEY_ID: "id",
      R2_SECRET_ACCESS_KEY: "secret",
    }).s3;
    expect(r2?.endpoint).toBe("https://acc.r2.cloudflarestorage.com");
  });

  test("OIDC", () => {
    refuses({ OIDC_ISSUER: "https://id.example.com" }, "OIDC_AUDIENCE");
    refuses({ OIDC_AUDIENCE: "minivercel" }, "OIDC_ISSUER");
    refuses({ OIDC_ISSUER: "ftp://id.example.com", OIDC_AUDIENCE: "x" }, "OIDC_ISSUER");
    refuses({ SUPABASE_URL: "abc.supabase.co" }, "SUPABASE_URL");
  });

  test("PORT equal to PROXY_PORT when api and proxy share a process", () => {
    const error = refuses({ PORT: "8080", PROXY_PORT: "8080" }, "PROXY_PORT");
    expect(error.message).toContain("8080");
    refuses({ PORT: "8001" }, "PROXY_PORT");
    refuses({ PORT: "7000", PROXY_PORT: "7000" }, "PROXY_PORT", { role: "api,proxy" });
  });

  test("booleans", () => {
    refuses({ MINIVERCEL_ALLOW_LOCAL_GIT: "maybe" }, "MINIVERCEL_ALLOW_LOCAL_GIT");
    expect(loadConfig({ MINIVERCEL_ALLOW_LOCAL_GIT: "0" }).allowLocalGit).toBe(false);
    expect(loadConfig({ MINIVERCEL_ALLOW_LOCAL_GIT: "TRUE" }).allowLocalGit).toBe(true);
  });

  test("other ranges and URLs", () => {
    refuses({ SESSION_TTL_SECONDS: "5" }, "SESSION_TTL_SECONDS");
    refuses({ FRONTEND_URL: "javascript:alert(1)" }, "FRONTEND_URL");
    refuses({ ECS_CLUSTER_NAME: "c" }, "ECS_TASK_DEFINITION");
    const ecs = { ECS_CLUSTER_NAME: "c", ECS_TASK_DEFINITION: "t", AWS_REGION: "us-east-1" };
    refuses(ecs, "PUBLIC_API_URL");
    refuses({ ...ecs, PUBLIC_API_URL: "deploy.example.com" }, "PUBLIC_API_URL");
    refuses({ ...ecs, PUBLIC_API_URL: "https://x.example.com", ECS_ENDPOINT: "ftp://moto" }, "ECS_ENDPOINT");
    refuses({ CLICKHOUSE_HOST: "ch", CLICKHOUSE_PORT: "http" }, "CLICKHOUSE_PORT");
  });

  test("BUILD_SANDBOX_PATH: absolute directories, unset by default", () => {
    expect(loadConfig({}).build.sandboxPath).toBeNull();
    expect(loadConfig({ BUILD_SANDBOX_PATH: "/opt/sandbox/bin:/usr/bin" }).build.sandboxPath).toBe(
      "/opt/sandbox/bin:/usr/bin",
    );
    refuses({ BUILD_SANDBOX_PATH: "bin:/usr/bin" }, "BUILD_SANDBOX_PATH");
    refuses({ BUILD_SANDBOX_PATH: "/usr/bin::/bin" }, "BUILD_SANDBOX_PATH");
  });
});

describe("garbage collection", () => {
  test("defaults: hourly, an hour of grace, previews kept 30 days", () => {
    expect(loadConfig({}).gc).toEqual({ intervalMinutes: 60, graceMinutes: 60, previewRetentionDays: 30 });
    const config = loadConfig({
      GC_INTERVAL_MINUTES: "0",
      GC_GRACE_MINUTES: "5",
      PREVIEW_RETENTION_DAYS: "0",
    });
    expect(config.gc).toEqual({ intervalMinutes: 0, graceMinutes: 5, previewRetentionDays: 0 });
  });

  test("a grace period under 5 minutes or a bad number is refused by name", () => {
    refuses({ GC_GRACE_MINUTES: "1" }, "GC_GRACE_MINUTES");
    refuses({ GC_INTERVAL_MINUTES: "hourly" }, "GC_INTERVAL_MINUTES");
    refuses({ PREVIEW_RETENTION_DAYS: "-1" }, "PREVIEW_RETENTION_DAYS");
  });
});

describe("custom domains", () => {
  test("verification is on by default; resolvers are IPs with optional ports", () => {
    expect(loadConfig({}).domains).toEqual({ verification: "dns", resolvers: [] });
    expect(
      loadConfig({ DOMAIN_VERIFICATION: "OFF", DNS_RESOLVERS: "1.1.1.1, 127.0.0.1:8053,[::1]:53" }).domains,
    ).toEqual({ verification: "off", resolvers: ["1.1.1.1", "127.0.0.1:8053", "[::1]:53"] });
    refuses({ DOMAIN_VERIFICATION: "maybe" }, "DOMAIN_VERIFICATION");
    refuses({ DNS_RESOLVERS: "dns.google" }, "DNS_RESOLVERS");
  });
});

describe("logs and metrics", () => {
  test("defaults: JSON logs at info, no API access log, no metrics listener", () => {
    const config = loadConfig({});
    expect(config.log).toEqual({ format: "json", level: "info", apiAccess: false });
    expect(config.metrics).toEqual({ port: null, host: "127.0.0.1", token: null });
    expect(config.proxy.accessLog).toBe(false);
    const set = loadConfig({
      LOG_FORMAT: "Text",
      LOG_LEVEL: "debug",
      API_ACCESS_LOG: "on",
      PROXY_ACCESS_LOG: "1",
      METRICS_PORT: "9100",
      METRICS_HOST: "0.0.0.0",
      METRICS_TOKEN: "a-long-enough-token",
    });
    expect(set.log).toEqual({ format: "text", level: "debug", apiAccess: true });
    expect(set.metrics).toEqual({ port: 9100, host: "0.0.0.0", token: "a-long-enough-token" });
    expect(set.proxy.accessLog).toBe(true);
  });

  test("bad values are refused by name; an open metrics listener needs a token", () => {
    refuses({ LOG_FORMAT: "xml" }, "LOG_FORMAT");
    refuses({ LOG_LEVEL: "verbose" }, "LOG_LEVEL");
    refuses({ API_ACCESS_LOG: "sometimes" }, "API_ACCESS_LOG");
    refuses({ METRICS_PORT: "http" }, "METRICS_PORT");
    refuses({ METRICS_TOKEN: "short" }, "METRICS_TOKEN");
    refuses({ METRICS_TOKEN: "has a space in it ok" }, "METRICS_TOKEN");
    refuses({ METRICS_PORT: "9100", METRICS_HOST: "0.0.0.0" }, "METRICS_TOKEN");
    refuses({ METRICS_PORT: "9000" }, "METRICS_PORT");
    refuses({ METRICS_PORT: "8001" }, "METRICS_PORT");
    expect(loadConfig({ METRICS_PORT: "9100", METRICS_HOST: "::1" }).metrics.port).toBe(9100);
  });
});

describe("runtime logs", () => {
  test("kept 3 days, 256 KB a minute per deployment by default; each bound named when wrong", () => {
    expect(loadConfig({}).functions).toMatchObject({ logRetentionDays: 3, logKbPerMinute: 256 });
    const set = loadConfig({ FUNCTION_LOG_RETENTION_DAYS: "14", FUNCTION_LOG_KB_PER_MINUTE: "1024" });
    expect(set.functions).toMatchObject({ logRetentionDays: 14, logKbPerMinute: 1024 });
    refuses({ FUNCTION_LOG_RETENTION_DAYS: "0" }, "FUNCTION_LOG_RETENTION_DAYS");
    refuses({ FUNCTION_LOG_RETENTION_DAYS: "a week" }, "FUNCTION_LOG_RETENTION_DAYS");
    refuses({ FUNCTION_LOG_KB_PER_MINUTE: "0" }, "FUNCTION_LOG_KB_PER_MINUTE");
  });
});

describe("functions nodes", () => {
  const KEY = Buffer.alloc(32, 7).toString("base64");
  const SCALED = { KAFKA_BROKERS: "kafka:9092", MINIVERCEL_SECRET_KEY: KEY };

  test("by default the proxy runs functions itself and `all` starts no functions node", () => {
    const config = loadConfig({});
    expect(config.roles).not.toContain("functions");
    expect(config.functions).toMatchObject({
      placement: "local",
      port: 8002,
      advertisedUrl: null,
      capacity: 64,
    });
  });

  test("a functions node and a proxy that uses them, each in its own process, on Kafka with one secret key", () => {
    const node = loadConfig(
      {
        ...SCALED,
        FUNCTIONS_PORT: "9100",
        FUNCTIONS_ADVERTISED_URL: "http://fn-1.internal:9100/",
        FUNCTIONS_CAPACITY: "200",
      },
      { role: "functions" },
    );
    expect(node.roles).toEqual(["functions"]);
    expect(node.functions).toMatchObject({
      port: 9100,
      advertisedUrl: "http://fn-1.internal:9100",
      capacity: 200,
    });
    const proxy = loadConfig({ ...SCALED, PROXY_FUNCTIONS: "remote" }, { role: "proxy" });
    expect(proxy.functions.placement).toBe("remote");
    // Both in one process meet on the in-process bus: nothing more is needed.
    expect(loadConfig({ PROXY_FUNCTIONS: "remote" }, { role: "proxy,functions" }).roles).toEqual([
      "proxy",
      "functions",
    ]);
  });

  test("what cannot work is refused by name", () => {
    refuses({ PROXY_FUNCTIONS: "elsewhere" }, "PROXY_FUNCTIONS");
    refuses({ FUNCTIONS_CAPACITY: "0" }, "FUNCTIONS_CAPACITY");
    refuses({ FUNCTIONS_ADVERTISED_URL: "fn-1:8002" }, "FUNCTIONS_ADVERTISED_URL");
    refuses({ FUNCTIONS_ADVERTISED_URL: "http://lb.internal/functions" }, "FUNCTIONS_ADVERTISED_URL");
    refuses({ ...SCALED, FUNCTIONS_PORT: "9000" }, "FUNCTIONS_PORT", { role: "api,functions" });
    refuses({ ...SCALED, FUNCTIONS_PORT: "8001" }, "FUNCTIONS_PORT", { role: "proxy,functions" });
    // Apart, they find each other on Kafka and sign with the shared key.
    refuses({ MINIVERCEL_SECRET_KEY: KEY }, "KAFKA_BROKERS", { role: "functions" });
    refuses({ KAFKA_BROKERS: "kafka:9092" }, "MINIVERCEL_SECRET_KEY", { role: "functions" });
    refuses({ PROXY_FUNCTIONS: "remote", MINIVERCEL_SECRET_KEY: KEY }, "KAFKA_BROKERS", { role: "proxy" });
    refuses({ PROXY_FUNCTIONS: "remote", KAFKA_BROKERS: "kafka:9092" }, "MINIVERCEL_SECRET_KEY", {
      role: "proxy",
    });
    // An api asking the nodes about app servers needs the same.
    refuses({ PROXY_FUNCTIONS: "remote", MINIVERCEL_SECRET_KEY: KEY }, "KAFKA_BROKERS", { role: "api" });
  });
});

describe("deployment protection", () => {
  test("new projects get previews by default; the dashboard's origin follows PORT, DASHBOARD_HOST and HTTPS", () => {
    const config = loadConfig({});
    expect(config.protection).toEqual({
      defaultMode: "previews",
      dashboardUrl: "http://dashboard.localhost:9000",
    });
    expect(loadConfig({ BASE_DOMAIN: "example.com", PORT: "80" }).protection.dashboardUrl).toBe(
      "http://dashboard.example.com",
    );
    expect(loadConfig({ DEPLOYMENT_PROTECTION_DEFAULT: "none" }).protection.defaultMode).toBe("none");
    expect(loadConfig({ DASHBOARD_URL: "https://admin.example.com/" }).protection.dashboardUrl).toBe(
      "https://admin.example.com",
    );
  });

  test("a bad value is refused, naming the variable", () => {
    refuses({ DEPLOYMENT_PROTECTION_DEFAULT: "everything" }, "DEPLOYMENT_PROTECTION_DEFAULT");
    refuses({ DASHBOARD_URL: "ftp://example.com" }, "DASHBOARD_URL");
    refuses({ DASHBOARD_URL: "https://example.com/dashboard" }, "DASHBOARD_URL");
  });
});

describe("preview images", () => {
  test("the browser: found on PATH when unset, off on request, an absolute path that exists", () => {
    const dir = mkdtempSync(join(tmpdir(), "minivercel-browser-"));
    const fake = join(dir, "chromium");
    writeFileSync(fake, "#!/bin/sh\n");
    chmodSync(fake, 0o755);
    expect(loadConfig({ PATH: dir }).preview.browser).toBe(fake);
    expect(loadConfig({ PATH: "/nonexistent" }).preview.browser).toBeNull();
    expect(loadConfig({ PATH: dir, SCREENSHOT_BROWSER: "off" }).preview.browser).toBeNull();
    expect(loadConfig({ SCREENSHOT_BROWSER: fake }).preview).toEqual({
      browser: fake,
      timeoutSeconds: 45,
      memoryMb: 1024,
    });
    refuses({ SCREENSHOT_BROWSER: "chromium" }, "SCREENSHOT_BROWSER");
    refuses({ SCREENSHOT_BROWSER: join(dir, "missing") }, "SCREENSHOT_BROWSER");
    refuses({ SCREENSHOT_TIMEOUT_SECONDS: "1" }, "SCREENSHOT_TIMEOUT_SECONDS");
  });
});

describe("proxy processes", () => {
  test("PROXY_PROCESSES: 1 by default, auto is one per core; a number is taken as is; bad values refused", () => {
    const cores = availableParallelism();
    expect(loadConfig({}).proxy.processes).toBe(1);
    expect(loadConfig({ PROXY_PROCESSES: "AUTO" }).proxy.processes).toBe(Math.min(64, cores));
    expect(loadConfig({ PROXY_PROCESSES: "1" }).proxy.processes).toBe(1);
    expect(loadConfig({ PROXY_PROCESSES: "4" }).proxy.processes).toBe(4);
    refuses({ PROXY_PROCESSES: "0" }, "PROXY_PROCESSES");
    refuses({ PROXY_PROCESSES: "65" }, "PROXY_PROCESSES");
    refuses({ PROXY_PROCESSES: "many" }, "PROXY_PROCESSES");
  });
});

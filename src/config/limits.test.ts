// Config of the limits (issue 8): defaults, 0 disables, TRUST_PROXY forms, and a named error for each bad value.

import { expect, test } from "bun:test";
import { ConfigError } from "../errors.ts";
import { loadConfig } from "./config.ts";

function refuses(env: Record<string, string>, variable: string): void {
  let caught: unknown;
  try {
    loadConfig(env);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  expect((caught as ConfigError).variable).toBe(variable);
}

test("defaults: generous budgets, lockouts after 5 failures, 100 projects, 3 builds at once", () => {
  const config = loadConfig({});
  expect(config.limits).toEqual({
    ipPerMinute: 600,
    userReadsPerMinute: 600,
    userWritesPerMinute: 120,
    uploadsPerMinute: 20_000,
    loginMaxFailures: 5,
    loginMaxFailuresPerIp: 20,
    loginLockoutSeconds: 30,
    maxUploadMb: 100,
    maxProjectsPerUser: 100,
    trustProxyHops: 0,
  });
  expect(config.build.maxPerUser).toBe(3);
});

test("each limit is read from its variable, and 0 turns it off", () => {
  const config = loadConfig({
    RATE_LIMIT_IP_PER_MINUTE: "0",
    RATE_LIMIT_USER_PER_MINUTE: "60",
    RATE_LIMIT_USER_WRITES_PER_MINUTE: "6",
    RATE_LIMIT_UPLOADS_PER_MINUTE: "1000",
    LOGIN_MAX_FAILURES: "0",
    LOGIN_MAX_FAILURES_PER_IP: "50",
    LOGIN_LOCKOUT_SECONDS: "10",
    MAX_UPLOAD_MB: "25",
    MAX_PROJECTS_PER_USER: "0",
    MAX_CONCURRENT_BUILDS_PER_USER: "0",
  });
  expect(config.limits).toMatchObject({
    ipPerMinute: 0,
    userReadsPerMinute: 60,
    userWritesPerMinute: 6,
    uploadsPerMinute: 1000,
    loginMaxFailures: 0,
    loginMaxFailuresPerIp: 50,
    loginLockoutSeconds: 10,
    maxUploadMb: 25,
    maxProjectsPerUser: 0,
  });
  expect(config.build.maxPerUser).toBe(0);
});

test("TRUST_PROXY: a number of hops, or true (one) and false (none)", () => {
  expect(loadConfig({ TRUST_PROXY: "2" }).limits.trustProxyHops).toBe(2);
  expect(loadConfig({ TRUST_PROXY: "true" }).limits.trustProxyHops).toBe(1);
  expect(loadConfig({ TRUST_PROXY: "off" }).limits.trustProxyHops).toBe(0);
  refuses({ TRUST_PROXY: "cloudflare" }, "TRUST_PROXY");
  refuses({ TRUST_PROXY: "11" }, "TRUST_PROXY");
});

test("a bad value names its variable", () => {
  refuses({ RATE_LIMIT_IP_PER_MINUTE: "-1" }, "RATE_LIMIT_IP_PER_MINUTE");
  refuses({ RATE_LIMIT_USER_PER_MINUTE: "lots" }, "RATE_LIMIT_USER_PER_MINUTE");
  refuses({ RATE_LIMIT_USER_WRITES_PER_MINUTE: "1.5" }, "RATE_LIMIT_USER_WRITES_PER_MINUTE");
  refuses({ RATE_LIMIT_UPLOADS_PER_MINUTE: "x" }, "RATE_LIMIT_UPLOADS_PER_MINUTE");
  refuses({ LOGIN_MAX_FAILURES: "x" }, "LOGIN_MAX_FAILURES");
  refuses({ LOGIN_MAX_FAILURES_PER_IP: "x" }, "LOGIN_MAX_FAILURES_PER_IP");
  refuses({ LOGIN_LOCKOUT_SECONDS: "0" }, "LOGIN_LOCKOUT_SECONDS");
  refuses({ MAX_UPLOAD_MB: "500" }, "MAX_UPLOAD_MB");
  refuses({ MAX_PROJECTS_PER_USER: "many" }, "MAX_PROJECTS_PER_USER");
  refuses({ MAX_CONCURRENT_BUILDS_PER_USER: "-3" }, "MAX_CONCURRENT_BUILDS_PER_USER");
});

// Config of what serve reports: log lines on stdout and stderr, and the Prometheus /metrics listener.

import { ConfigError } from "../errors.ts";
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = "json" | "text";

import { bool, type Env, int, oneOf, text } from "./parse.ts";

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

export function parseLog(env: Env): LogConfig {
  return {
    format: oneOf(env, "LOG_FORMAT", ["json", "text"], "json"),
    level: oneOf(env, "LOG_LEVEL", LOG_LEVELS, "info"),
    apiAccess: bool(env, "API_ACCESS_LOG", false),
  };
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/i;

export function parseMetrics(env: Env): MetricsConfig {
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

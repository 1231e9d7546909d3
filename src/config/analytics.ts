// Config of web analytics: what the proxy counts of the requests it serves, and how long it is kept
// (src/proxy/analytics.ts records, src/worker/analytics.ts stores, src/store/analytics.ts keeps).

import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { ConfigError } from "../errors.ts";
import { bool, type Env, int, text } from "./parse.ts";

export interface AnalyticsConfig {
  /** The proxy counts the requests it serves (ANALYTICS, on by default). */
  enabled: boolean;
  /** Days of analytics kept; older minutes are pruned (ANALYTICS_RETENTION_DAYS, default 90). */
  retentionDays: number;
  /** How often each proxy sends what it counted (ANALYTICS_FLUSH_SECONDS, default 5). */
  flushSeconds: number;
  /** A CSV of address ranges and countries (ANALYTICS_GEOIP_CSV, docs/configuration.md); null: no countries. */
  geoipCsv: string | null;
}

export function parseAnalytics(env: Env): AnalyticsConfig {
  const csv = text(env, "ANALYTICS_GEOIP_CSV");
  const geoipCsv = csv === null ? null : resolve(csv);
  if (geoipCsv !== null && !existsSync(geoipCsv))
    throw new ConfigError("ANALYTICS_GEOIP_CSV", `names a file that does not exist: ${geoipCsv}`);
  return {
    enabled: bool(env, "ANALYTICS", true),
    retentionDays: int(env, "ANALYTICS_RETENTION_DAYS", 90, 1, 3650),
    flushSeconds: int(env, "ANALYTICS_FLUSH_SECONDS", 5, 1, 300),
    geoipCsv,
  };
}

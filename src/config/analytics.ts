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
  /**
   * Requests per second (per proxy process) counted one by one; above it 1 request in N is counted with weight N
   * (ANALYTICS_SAMPLE_ABOVE, default 1000; 0: never sample), so that counting costs a busy proxy next to nothing.
   */
  sampleAbove: number;
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
    sampleAbove: int(env, "ANALYTICS_SAMPLE_ABOVE", 1000, 0, 10_000_000),
    geoipCsv,
  };
}

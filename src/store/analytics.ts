// Web analytics store port: the proxies' per-minute records (schema/analytics.ts), stored by the workers and
// grouped for the API and dashboard. Beside the log stores, in the same backends: sqlite (logs.db) embedded,
// ClickHouse scaled. The report itself (totals, series, top lists, percentiles) is made from `group` calls by
// src/deploy/analytics.ts, the same for both.

import type { AnalyticsRecord } from "../../schema/analytics.ts";
import { createLogger, type Logger } from "../observe/log.ts";
import type { LogsConfig } from "./logs.ts";
import { purgeRegularly } from "./retention.ts";

/** A stored record: the bus record and its project. */
export type AnalyticsRow = AnalyticsRecord & { projectId: string };

export interface AnalyticsFilter {
  projectId: string;
  /** Minutes from this time, seconds since the epoch (inclusive). */
  from: number;
  /** Minutes before this time (exclusive). */
  to: number;
  deploymentId?: string | null;
  path?: string | null;
  referrer?: string | null;
  /** Bots' requests (true) or everyone else's (false): never both at once. */
  bot: boolean;
}

/** What records are grouped by: columns with a fixed name each (nothing else reaches the SQL text). */
export const DIMENSIONS = ["path", "referrer", "country", "browser", "os", "status", "deployment"] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export type GroupBy =
  | { kind: "all" }
  | { kind: "dimension"; dimension: Dimension; limit: number }
  /** Time buckets of `seconds`; the key is the bucket's start (seconds since the epoch). */
  | { kind: "bucket"; seconds: number }
  /** Time-to-first-byte steps; the key is the step in microseconds (for percentiles). */
  | { kind: "ttfb" };

export interface Group {
  key: string;
  requests: number;
  /** Distinct visitor hashes: as each day has its own salt, over several days the sum of daily visitors. */
  visitors: number;
  bytes: number;
}

export interface Analytics {
  /** Stores one bus message's records; a message stored again (redelivery) is still stored once. */
  append(batchId: string, rows: AnalyticsRow[]): Promise<void>;
  /** Groups matching a filter, most requests first (a dimension's key order breaks ties); "all" gives one group. */
  group(filter: AnalyticsFilter, by: GroupBy): Promise<Group[]>;
  /** Removes every record of these projects (project deletion). */
  removeProjects(projectIds: string[]): Promise<void>;
  /** Retention: removes minutes older than `days` days (ClickHouse: whole days, as the log stores). */
  purgeOlderThan(days: number): Promise<void>;
  close(): Promise<void>;
}

export interface AnalyticsOptions {
  /** Records older than this are purged at open and then hourly; null: never (tests). */
  retentionDays: number | null;
  log?: Logger;
}

/** Opens the analytics store on the log stores' backend; the ClickHouse client only when used. */
export async function openAnalytics(config: LogsConfig, options: AnalyticsOptions): Promise<Analytics> {
  const log = options.log ?? createLogger({ format: "text", level: "info" });
  let store: Analytics;
  switch (config.kind) {
    case "sqlite": {
      const { openSqliteAnalytics } = await import("./analytics-sqlite.ts");
      store = openSqliteAnalytics(config.path);
      break;
    }
    case "clickhouse": {
      const { openClickHouseAnalytics } = await import("./analytics-clickhouse.ts");
      store = await openClickHouseAnalytics(config.clickhouse);
      break;
    }
  }
  const days = options.retentionDays;
  if (days === null) return store;
  const stop = purgeRegularly(
    () => store.purgeOlderThan(days),
    (error) => log.error("analytics: retention purge failed", { days, error }),
  );
  return {
    ...store,
    async close() {
      stop();
      await store.close();
    },
  };
}

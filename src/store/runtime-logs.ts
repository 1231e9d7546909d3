// Runtime log store port: what deployments' functions printed, per line with its function and request id, read
// newest first or by time, kept for a retention period. Beside the build log store, in the same backends.

import type { RuntimeLogEntry } from "../../schema/runtime-logs.ts";
import { createLogger, type Logger } from "../observe/log.ts";
import type { LogsConfig } from "./logs.ts";
import { purgeRegularly } from "./retention.ts";

/** A stored line: the bus entry (schema/runtime-logs.ts) and its deployment. */
export type RuntimeLogLine = RuntimeLogEntry & { deploymentId: string };

/** A position in a deployment's log: lines are ordered by (at, id). */
export interface RuntimeLogCursor {
  at: string;
  id: string;
}

export interface RuntimeLogQuery {
  /** Lines printed at or after this ISO time. */
  since?: string | null;
  /** Lines printed before this ISO time. */
  until?: string | null;
  /** Only this function's lines (its path). */
  function?: string | null;
  /** Only lines older than this one (the next page of a newest-first read). */
  before?: RuntimeLogCursor | null;
  limit: number;
}

/** Days a runtime line is kept unless configured otherwise (FUNCTION_LOG_RETENTION_DAYS). */
export const RUNTIME_LOG_RETENTION_DAYS = 3;

export interface RuntimeLogs {
  /**
   * Stores lines in one write (one transaction, one INSERT), whatever their number or deployments: the runtime
   * hands over what it buffered. A line's id names it: storing it again still leaves one.
   */
  append(lines: RuntimeLogLine[]): Promise<void>;
  /** Lines matching the query, newest first: by `at`, then by id, descending. */
  read(deploymentId: string, query: RuntimeLogQuery): Promise<RuntimeLogLine[]>;
  /** Removes every line of the given deployments (project deletion, garbage collection). */
  remove(deploymentIds: string[]): Promise<void>;
  /**
   * Retention: removes lines printed more than `days` days ago. ClickHouse drops whole days (its partitions), so
   * lines up to a day older may stay a little longer; a line younger than `days` is never removed.
   */
  purgeOlderThan(days: number): Promise<void>;
  close(): Promise<void>;
}

export interface RuntimeLogsOptions {
  /** Lines older than this are purged at open and then hourly; null: never (tests). */
  retentionDays: number | null;
  /** Where a failed background purge is reported. */
  log?: Logger;
}

/** Opens the runtime log store on the same backend as the build logs; the ClickHouse client only when used. */
export async function openRuntimeLogs(config: LogsConfig, options: RuntimeLogsOptions): Promise<RuntimeLogs> {
  const log = options.log ?? createLogger({ format: "text", level: "info" });
  let logs: RuntimeLogs;
  switch (config.kind) {
    case "sqlite": {
      const { openSqliteRuntimeLogs } = await import("./runtime-logs-sqlite.ts");
      logs = openSqliteRuntimeLogs(config.path);
      break;
    }
    case "clickhouse": {
      const { openClickHouseRuntimeLogs } = await import("./runtime-logs-clickhouse.ts");
      logs = await openClickHouseRuntimeLogs(config.clickhouse);
      break;
    }
  }
  const days = options.retentionDays;
  if (days === null) return logs;
  const stop = purgeRegularly(
    () => logs.purgeOlderThan(days),
    (error) => log.error("runtime logs: retention purge failed", { days, error }),
  );
  return {
    ...logs,
    async close() {
      stop();
      await logs.close();
    },
  };
}

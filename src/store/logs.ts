// Log store port: build log lines per deployment, ordered by sequence number, written idempotently.

import type { ClickHouseConfig } from "../config/config.ts";
import { createLogger, type Logger } from "../observe/log.ts";

export type LogStream = "stdout" | "stderr" | "system";

export interface LogLine {
  deploymentId: string;
  /** Per-deployment sequence number assigned by the builder; (deploymentId, seq) is unique. */
  seq: number;
  stream: LogStream;
  text: string;
  /** ISO-8601 time the line was printed. */
  at: string;
}

export interface Logs {
  /**
   * Stores lines; (deploymentId, seq) names a line, so storing it again still leaves one (re-delivery is harmless).
   * Copies that differ leave one of them: sqlite keeps the first, ClickHouse either. One call is one write (one
   * transaction, one INSERT), whatever the number of lines or deployments: the worker hands over a batch at once.
   */
  append(lines: LogLine[]): Promise<void>;
  /** Lines with seq > afterSeq, in order, at most `limit`. */
  read(deploymentId: string, afterSeq: number, limit: number): Promise<LogLine[]>;
  /** Removes every line of the given deployments (project deletion, garbage collection). */
  remove(deploymentIds: string[]): Promise<void>;
  close(): Promise<void>;
}

export type LogsConfig =
  | { kind: "sqlite"; path: string }
  | { kind: "clickhouse"; clickhouse: ClickHouseConfig };

/**
 * Opens the configured log store; the ClickHouse client is loaded only when it is used. `log` gets background
 * trouble (ClickHouse's retention purge); default: text lines on stderr.
 */
export async function openLogs(
  config: LogsConfig,
  log: Logger = createLogger({ format: "text", level: "info" }),
): Promise<Logs> {
  switch (config.kind) {
    case "sqlite": {
      const { openSqliteLogs } = await import("./logs-sqlite.ts");
      return openSqliteLogs(config.path);
    }
    case "clickhouse": {
      const { openClickHouseLogs } = await import("./logs-clickhouse.ts");
      return openClickHouseLogs(config.clickhouse, { log });
    }
  }
}

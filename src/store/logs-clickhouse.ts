// Log store on ClickHouse: the seed's log_events table, as far as 18.16 allows (no DateTime64, no TTL, no query parameters).

import { Type } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import type { ClickHouseConfig } from "../config/config.ts";
import { badRequest } from "../errors.ts";
import { createLogger, type Logger } from "../observe/log.ts";
import { epochSeconds, groupCommit, inFlight, literal, openClickHouseTable, UUID } from "./clickhouse.ts";
import type { LogLine, LogStream, Logs } from "./logs.ts";
import { purgeRegularly } from "./retention.ts";

/** The seed's retention (its `TTL timestamp + INTERVAL 30 DAY`). */
export const RETENTION_DAYS = 30;
const MAX_UINT32 = 0xffff_ffff;

/**
 * The seed's columns plus what the port needs. `timestamp` is whole seconds (18.16 has no DateTime64) and only
 * drives partitions and retention; `at` keeps the builder's exact ISO time. ReplacingMergeTree folds re-delivered
 * lines (same deployment_id, seq) together when it merges parts; reads dedupe themselves until then.
 */
const COLUMNS = {
  event_id: "String",
  deployment_id: "String",
  seq: "UInt32",
  stream: "String",
  log: "String",
  timestamp: "DateTime",
  at: "String",
} as const;

/** What a ClickHouse log store adds to the port: retention without TTL. */
export interface ClickHouseLogs extends Logs {
  /** Drops the daily partitions that lie wholly before now minus `days` (server time zone); returns their ids. */
  purgeOlderThan(days: number): Promise<string[]>;
}

export interface ClickHouseLogsOptions {
  /** Days kept: older partitions are dropped at open and then hourly (default 30, the seed's TTL); null: never. */
  retentionDays?: number | null;
  /** Where a failed background purge is reported (nobody awaits it); default: text lines on stderr. */
  log?: Logger;
}

// Shapes of the rows read back (the server's answers are checked like any other input).
const Line = TypeCompiler.Compile(
  Type.Object({
    deployment_id: Type.String(),
    seq: Type.Integer(),
    stream: Type.String(),
    log: Type.String(),
    at: Type.String(),
  }),
);
/** Rows as they go into INSERT ... FORMAT JSONEachRow: values travel as data, never as SQL text. */
interface Row {
  event_id: string;
  deployment_id: string;
  seq: number;
  stream: LogStream;
  log: string;
  timestamp: number;
  at: string;
}

function toRow(line: LogLine): Row {
  // Reads can only ask for uuids (see literal), so lines under any other id would be unreadable.
  if (!UUID.test(line.deploymentId))
    throw badRequest("deploymentId must be a lowercase uuid", "deploymentId");
  if (!Number.isSafeInteger(line.seq) || line.seq < 0 || line.seq > MAX_UINT32)
    throw badRequest("seq must be an integer between 0 and 4294967295", "seq");
  return {
    event_id: `${line.deploymentId}:${line.seq}`,
    deployment_id: line.deploymentId,
    seq: line.seq,
    stream: line.stream,
    log: line.text,
    // An unparseable time still keeps the line: it then ages from the moment it was stored.
    timestamp: epochSeconds(line.at),
    at: line.at,
  };
}

const asStream = (s: string): LogStream => (s === "stderr" || s === "system" ? s : "stdout");

/** Opens the store, creating the database and table if needed; refuses a log_events table of another shape. */
export async function openClickHouseLogs(
  config: ClickHouseConfig,
  options: ClickHouseLogsOptions = {},
): Promise<ClickHouseLogs> {
  const retention = options.retentionDays === undefined ? RETENTION_DAYS : options.retentionDays;
  const log = options.log ?? createLogger({ format: "text", level: "info" });
  if (retention !== null && (!Number.isSafeInteger(retention) || retention < 1))
    throw new RangeError(`retentionDays must be whole days >= 1, got ${retention}`);
  const { client, server, table, select, removeDeployments, dropPartitionsOlderThan } =
    await openClickHouseTable(config, {
      name: "log_events",
      columns: COLUMNS,
      engine:
        "ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMMDD(timestamp) ORDER BY (deployment_id, seq)",
      mismatchHint: " (the seed's table?): set CLICKHOUSE_DATABASE to another database, or rename that table",
    });

  const insertRows = groupCommit<Row>(async (rows) => {
    await client.insert({ table, values: rows, format: "JSONEachRow" });
  });

  // close() waits for whatever is in flight, then ends the connections.
  const requests = inFlight("log store");
  const track = requests.track;

  const logs: ClickHouseLogs = {
    async append(lines) {
      if (lines.length === 0) return;
      const rows = lines.map(toRow);
      await track(() => insertRows(rows));
    },

    async read(deploymentId, afterSeq, limit) {
      if (!Number.isSafeInteger(afterSeq) || !Number.isSafeInteger(limit))
        throw badRequest("afterSeq and limit must be integers");
      const from = Math.max(afterSeq + 1, 0);
      if (!UUID.test(deploymentId) || limit <= 0 || from > MAX_UINT32) return [];
      // LIMIT 1 BY seq: exactly one line per seq even while re-delivered copies wait for a merge (or sit in
      // different partitions, which merges never fold); FINAL would be slower and partition-bound.
      const rows = await track(() =>
        select(
          `SELECT deployment_id, seq, stream, log, at FROM ${table} ` +
            `WHERE deployment_id = ${literal(deploymentId)} AND seq >= ${literal(from)} ` +
            `ORDER BY seq LIMIT 1 BY seq LIMIT ${literal(limit)}`,
          Line,
        ),
      );
      return rows.map((r) => ({
        deploymentId: r.deployment_id,
        seq: r.seq,
        stream: asStream(r.stream),
        text: r.log,
        at: r.at,
      }));
    },

    async remove(deploymentIds) {
      await track(() => removeDeployments(deploymentIds));
    },

    async purgeOlderThan(days) {
      return track(() => dropPartitionsOlderThan(days));
    },

    async close() {
      stopPurging();
      if (await requests.close()) await client.close();
    },
  };

  // Retention replaces the seed's TTL: at open, then hourly; every process may run it (dropping is idempotent).
  const stopPurging =
    retention === null
      ? () => {}
      : purgeRegularly(
          () => logs.purgeOlderThan(retention),
          (error) => log.error("logs: ClickHouse retention purge failed", { server, days: retention, error }),
        );
  return logs;
}

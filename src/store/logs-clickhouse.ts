// Log store on ClickHouse: the seed's log_events table, as far as 18.16 allows (no DateTime64, no TTL, no query parameters).

import { ClickHouseLogLevel, createClient } from "@clickhouse/client";
import { type Static, type TSchema, Type } from "@sinclair/typebox";
import { type TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";
import type { ClickHouseConfig } from "../config/config.ts";
import { badRequest, ConfigError } from "../errors.ts";
import { createLogger, type Logger } from "../observe/log.ts";
import type { LogLine, LogStream, Logs } from "./logs.ts";

/** The seed's retention (its `TTL timestamp + INTERVAL 30 DAY`). */
export const RETENTION_DAYS = 30;
const PURGE_EVERY_MS = 60 * 60 * 1000;
/** Longest a remove() waits for its DELETE mutation (18.16 has no `mutations_sync`). */
const MUTATION_WAIT_MS = 120_000;
/** Ids per DELETE mutation: each mutation rewrites the parts it touches, so fewer and larger is cheaper. */
const REMOVE_CHUNK = 500;
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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Characters that can neither end nor escape a quoted literal: uuids, names, partition ids. */
const SAFE_TEXT = /^[A-Za-z0-9_.:-]*$/;

/**
 * The only way a value enters SQL text here: 18.16 has no server-side parameters, so values are validated strictly,
 * then quoted. Integers become digits (negatives parenthesized, so `x - ${n}` can never read as a `--` comment);
 * strings must be SAFE_TEXT. Anything else throws: it is a caller's bug, not input to escape.
 */
export function literal(value: string | number): string {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new TypeError(`not a safe integer for SQL: ${value}`);
    return value < 0 ? `(${value})` : String(value);
  }
  if (!SAFE_TEXT.test(value)) throw new TypeError(`not a safe SQL string: ${JSON.stringify(value)}`);
  return `'${value}'`;
}

/** A database or table name, backquoted after the same kind of check. */
export function identifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new TypeError(`not a valid SQL identifier: ${JSON.stringify(name)}`);
  return `\`${name}\``;
}

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
const Column = TypeCompiler.Compile(Type.Object({ name: Type.String(), type: Type.String() }));
const Partition = TypeCompiler.Compile(Type.Object({ partition_id: Type.String() }));
const Cutoff = TypeCompiler.Compile(Type.Object({ cutoff: Type.Integer() }));
// JSON output quotes 64-bit integers (output_format_json_quote_64bit_integers, on by default).
const Count = TypeCompiler.Compile(
  Type.Object({ n: Type.Union([Type.String({ pattern: "^[0-9]+$" }), Type.Integer()]) }),
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
  // An unparseable time still keeps the line: it then ages from the moment it was stored.
  const ms = Date.parse(line.at);
  const seconds = Math.floor((Number.isNaN(ms) ? Date.now() : ms) / 1000);
  return {
    event_id: `${line.deploymentId}:${line.seq}`,
    deployment_id: line.deploymentId,
    seq: line.seq,
    stream: line.stream,
    log: line.text,
    timestamp: Math.min(Math.max(seconds, 0), MAX_UINT32),
    at: line.at,
  };
}

const asStream = (s: string): LogStream => (s === "stderr" || s === "system" ? s : "stdout");

/**
 * Group commit: appends that arrive while an INSERT is in flight share the next one. Each append is already one
 * deployment's batch of lines (the worker's), and every INSERT makes a part; one INSERT per call from many
 * deployments at once would hit 18.16's "too many parts" under load. An idle store still inserts at once, and
 * each append resolves only when its own lines are stored.
 */
function groupCommit(insert: (rows: Row[]) => Promise<void>): (rows: Row[]) => Promise<void> {
  let queue: { rows: Row[]; done: () => void; fail: (e: unknown) => void }[] = [];
  let draining = false;
  const drain = async () => {
    draining = true;
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      try {
        await insert(batch.flatMap((b) => b.rows));
        for (const b of batch) b.done();
      } catch (e) {
        for (const b of batch) b.fail(e);
      }
    }
    draining = false;
  };
  return (rows) =>
    new Promise<void>((done, fail) => {
      queue.push({ rows, done, fail });
      if (!draining) void drain();
    });
}

/** Opens the store, creating the database and table if needed; refuses a log_events table of another shape. */
export async function openClickHouseLogs(
  config: ClickHouseConfig,
  options: ClickHouseLogsOptions = {},
): Promise<ClickHouseLogs> {
  if (!IDENTIFIER.test(config.database))
    throw new ConfigError(
      "CLICKHOUSE_DATABASE",
      "must be letters, digits and underscores, not starting with a digit",
    );
  const retention = options.retentionDays === undefined ? RETENTION_DAYS : options.retentionDays;
  const log = options.log ?? createLogger({ format: "text", level: "info" });
  if (retention !== null && (!Number.isSafeInteger(retention) || retention < 1))
    throw new RangeError(`retentionDays must be whole days >= 1, got ${retention}`);
  const database = config.database;
  const table = `${identifier(database)}.log_events`;
  const server = new URL(config.url).host;
  const client = createClient({
    url: config.url,
    username: config.username,
    password: config.password,
    application: "minivercel",
    // Plain HTTP bodies, stated rather than defaulted: a codec a later client picks may be unknown to 18.16.
    compression: { request: false, response: false },
    // Every failure reaches the caller as a rejected promise; the client's own error log would say it twice.
    log: { level: ClickHouseLogLevel.OFF },
  });

  async function select<T extends TSchema>(query: string, shape: TypeCheck<T>): Promise<Static<T>[]> {
    const data: unknown = await (await client.query({ query, format: "JSONEachRow" })).json();
    if (!Array.isArray(data)) throw new Error(`ClickHouse at ${server} answered no rows to: ${query}`);
    const rows: Static<T>[] = [];
    for (const row of data) {
      if (!shape.Check(row))
        throw new Error(`ClickHouse at ${server} answered an unexpected row to: ${query}`);
      rows.push(row);
    }
    return rows;
  }

  const insertRows = groupCommit(async (rows) => {
    await client.insert({ table, values: rows, format: "JSONEachRow" });
  });

  async function waitForMutations(): Promise<void> {
    const query = `SELECT count() AS n FROM system.mutations WHERE database = ${literal(database)} AND table = 'log_events' AND is_done = 0`;
    const deadline = Date.now() + MUTATION_WAIT_MS;
    for (let pause = 20; ; pause = Math.min(pause * 2, 1000)) {
      const [row] = await select(query, Count);
      if (Number(row?.n ?? 0) === 0) return;
      if (Date.now() > deadline)
        throw new Error(`ClickHouse at ${server}: a DELETE on ${database}.log_events is still running`);
      await Bun.sleep(pause);
    }
  }

  try {
    await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${identifier(database)}` });
    const columns = Object.entries(COLUMNS).map(([name, type]) => `${name} ${type}`);
    await client.command({
      query: `CREATE TABLE IF NOT EXISTS ${table} (${columns.join(", ")}) ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMMDD(timestamp) ORDER BY (deployment_id, seq)`,
    });
    const found = await select(
      `SELECT name, type FROM system.columns WHERE database = ${literal(database)} AND table = 'log_events'`,
      Column,
    );
    const have = new Map(found.map((c) => [c.name, c.type]));
    const wrong = Object.entries(COLUMNS).filter(([name, type]) => have.get(name) !== type);
    if (wrong.length > 0)
      throw new Error(
        `${database}.log_events exists without ${wrong.map(([n, t]) => `${n} ${t}`).join(", ")} (the seed's table?): ` +
          "set CLICKHOUSE_DATABASE to another database, or rename that table",
      );
  } catch (e) {
    await client.close();
    throw new Error(`ClickHouse log store at ${server}: ${e instanceof Error ? e.message : String(e)}`);
  }

  // close() waits for whatever is in flight, then ends the connections.
  let closed = false;
  const inFlight = new Set<Promise<unknown>>();
  function track<T>(work: () => Promise<T>): Promise<T> {
    if (closed) return Promise.reject(new Error("the ClickHouse log store is closed"));
    const promise = work();
    inFlight.add(promise);
    const forget = () => inFlight.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

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
      // Non-uuids cannot have lines (append refuses them).
      const ids = [...new Set(deploymentIds.filter((id) => UUID.test(id)))];
      if (ids.length === 0) return;
      await track(async () => {
        // Mutations (since 1.1.54388) run in the background; the port promises the lines are gone on return.
        for (let i = 0; i < ids.length; i += REMOVE_CHUNK) {
          const list = ids.slice(i, i + REMOVE_CHUNK).map((id) => literal(id));
          await client.command({
            query: `ALTER TABLE ${table} DELETE WHERE deployment_id IN (${list.join(", ")})`,
          });
        }
        await waitForMutations();
      });
    },

    async purgeOlderThan(days) {
      if (!Number.isSafeInteger(days) || days < 1)
        throw new RangeError(`retention must be whole days >= 1: ${days}`);
      return track(async () => {
        // Both sides in the server's time zone, which also cut the partitions (toYYYYMMDD(timestamp)).
        const [row] = await select(
          `SELECT toYYYYMMDD(now() - toIntervalDay(${literal(days)})) AS cutoff`,
          Cutoff,
        );
        const cutoff = row?.cutoff ?? 0;
        const partitions = await select(
          `SELECT DISTINCT partition_id FROM system.parts WHERE database = ${literal(database)} AND table = 'log_events' AND active`,
          Partition,
        );
        const old = partitions
          .map((p) => p.partition_id)
          .filter((id) => /^\d{8}$/.test(id) && Number(id) < cutoff);
        // Dropping a partition is a metadata operation (no TTL needed); a missing one is not an error.
        for (const id of old.sort())
          await client.command({ query: `ALTER TABLE ${table} DROP PARTITION ID ${literal(id)}` });
        return old;
      });
    },

    async close() {
      if (closed) return;
      closed = true;
      if (timer) clearInterval(timer);
      await Promise.allSettled([...inFlight]);
      await client.close();
    },
  };

  // Retention replaces the seed's TTL: at open, then hourly; every process may run it (dropping is idempotent).
  let timer: ReturnType<typeof setInterval> | undefined;
  if (retention !== null) {
    let purging = false;
    const purge = () => {
      if (purging || closed) return;
      purging = true;
      logs
        .purgeOlderThan(retention)
        .catch((error: unknown) =>
          log.error("logs: ClickHouse retention purge failed", { server, days: retention, error }),
        )
        .finally(() => {
          purging = false;
        });
    };
    timer = setInterval(purge, PURGE_EVERY_MS);
    timer.unref();
    purge();
  }
  return logs;
}

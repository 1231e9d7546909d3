// ClickHouse for the log stores (build and runtime lines): the client, values in SQL text, checked answers, tables
// made and verified at open, retention by daily partition, deletes that wait. Written for 18.16 and current
// versions alike: no DateTime64, no TTL, no query parameters, no `mutations_sync`.

import { type ClickHouseClient, ClickHouseLogLevel, createClient } from "@clickhouse/client";
import { type Static, type TSchema, Type } from "@sinclair/typebox";
import { type TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";
import type { ClickHouseConfig } from "../config/config.ts";
import { ConfigError } from "../errors.ts";

/** Longest a delete waits for its mutation. */
const MUTATION_WAIT_MS = 120_000;
/** Ids per DELETE mutation: each mutation rewrites the parts it touches, so fewer and larger is cheaper. */
const REMOVE_CHUNK = 500;

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
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

/** Any text as an SQL expression without quoting it: its UTF-8 bytes in hex, decoded by the server. */
export function textLiteral(value: string): string {
  return value === "" ? "''" : `unhex('${Buffer.from(value, "utf8").toString("hex")}')`;
}

/** A database or table name, backquoted after the same kind of check. */
export function identifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new TypeError(`not a valid SQL identifier: ${JSON.stringify(name)}`);
  return `\`${name}\``;
}

// Shapes of the server's answers about itself (checked like any other input).
const Column = TypeCompiler.Compile(Type.Object({ name: Type.String(), type: Type.String() }));
const Partition = TypeCompiler.Compile(Type.Object({ partition_id: Type.String() }));
const Cutoff = TypeCompiler.Compile(Type.Object({ cutoff: Type.Integer() }));
// JSON output quotes 64-bit integers (output_format_json_quote_64bit_integers, on by default).
const Count = TypeCompiler.Compile(
  Type.Object({ n: Type.Union([Type.String({ pattern: "^[0-9]+$" }), Type.Integer()]) }),
);

/**
 * Group commit: inserts that arrive while one is in flight share the next one. Every INSERT makes a part; one per
 * call from many writers at once would hit 18.16's "too many parts" under load. An idle table still inserts at
 * once, and each call resolves only when its own rows are stored.
 */
export function groupCommit<Row>(insert: (rows: Row[]) => Promise<void>): (rows: Row[]) => Promise<void> {
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

/** One log table of a ClickHouse database, and what the log stores do with it. */
/** The requests a ClickHouse store has under way, so that closing it loses none. */
export interface InFlight {
  /** Runs `work`, remembered until it settles; refused once `close` was called. */
  track<T>(work: () => Promise<T>): Promise<T>;
  /** Refuses new work from now on and waits for what is under way; false when it had been called already. */
  close(): Promise<boolean>;
}

/** `store` names the store in the error a request after closing gets ("the ClickHouse <store> is closed"). */
export function inFlight(store: string): InFlight {
  let closed = false;
  const running = new Set<Promise<unknown>>();
  return {
    track(work) {
      if (closed) return Promise.reject(new Error(`the ClickHouse ${store} is closed`));
      const promise = work();
      running.add(promise);
      const forget = () => running.delete(promise);
      promise.then(forget, forget);
      return promise;
    },
    async close() {
      if (closed) return false;
      closed = true;
      await Promise.allSettled([...running]);
      return true;
    },
  };
}

export interface ClickHouseTable {
  client: ClickHouseClient;
  /** host:port, for messages. */
  server: string;
  /** The backquoted `database`.`table`. */
  table: string;
  select<T extends TSchema>(query: string, shape: TypeCheck<T>): Promise<Static<T>[]>;
  /** Deletes the rows of these deployments and waits until they are gone. */
  removeDeployments(ids: string[]): Promise<void>;
  /** Deletes the rows whose uuid `column` (checked against the table's columns) is one of `ids`, and waits. */
  removeWhere(column: string, ids: string[]): Promise<void>;
  /** Drops the daily partitions wholly before now minus `days` (server time zone); returns their ids. */
  dropPartitionsOlderThan(days: number): Promise<string[]>;
}

export interface TableSpec {
  name: string;
  /** Column name -> type; an existing table must have each of them. */
  columns: Record<string, string>;
  /** After the column list: engine, PARTITION BY toYYYYMMDD(timestamp), ORDER BY. */
  engine: string;
  /** Added to the message when an existing table lacks columns. */
  mismatchHint: string;
}

/** Connects, creating the database and table if needed; refuses a table of another shape. */
export async function openClickHouseTable(
  config: ClickHouseConfig,
  spec: TableSpec,
): Promise<ClickHouseTable> {
  if (!IDENTIFIER.test(config.database))
    throw new ConfigError(
      "CLICKHOUSE_DATABASE",
      "must be letters, digits and underscores, not starting with a digit",
    );
  const { database } = config;
  const table = `${identifier(database)}.${identifier(spec.name)}`;
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

  const ofTable = `database = ${literal(database)} AND table = ${literal(spec.name)}`;

  async function waitForMutations(): Promise<void> {
    const query = `SELECT count() AS n FROM system.mutations WHERE ${ofTable} AND is_done = 0`;
    const deadline = Date.now() + MUTATION_WAIT_MS;
    for (let pause = 20; ; pause = Math.min(pause * 2, 1000)) {
      const [row] = await select(query, Count);
      if (Number(row?.n ?? 0) === 0) return;
      if (Date.now() > deadline)
        throw new Error(`ClickHouse at ${server}: a DELETE on ${database}.${spec.name} is still running`);
      await Bun.sleep(pause);
    }
  }

  async function removeWhere(column: string, given: string[]): Promise<void> {
    if (!(column in spec.columns)) throw new TypeError(`${spec.name} has no column ${column}`);
    // Non-uuids cannot have rows (the stores refuse them on append).
    const ids = [...new Set(given.filter((id) => UUID.test(id)))];
    if (ids.length === 0) return;
    // Mutations (since 1.1.54388) run in the background; the stores promise the rows are gone on return.
    for (let i = 0; i < ids.length; i += REMOVE_CHUNK) {
      const list = ids.slice(i, i + REMOVE_CHUNK).map((id) => literal(id));
      await client.command({
        query: `ALTER TABLE ${table} DELETE WHERE ${identifier(column)} IN (${list.join(", ")})`,
      });
    }
    await waitForMutations();
  }

  try {
    await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${identifier(database)}` });
    const columns = Object.entries(spec.columns).map(([name, type]) => `${name} ${type}`);
    await client.command({
      query: `CREATE TABLE IF NOT EXISTS ${table} (${columns.join(", ")}) ${spec.engine}`,
    });
    const found = await select(`SELECT name, type FROM system.columns WHERE ${ofTable}`, Column);
    const have = new Map(found.map((c) => [c.name, c.type]));
    const wrong = Object.entries(spec.columns).filter(([name, type]) => have.get(name) !== type);
    if (wrong.length > 0)
      throw new Error(
        `${database}.${spec.name} exists without ${wrong.map(([n, t]) => `${n} ${t}`).join(", ")}${spec.mismatchHint}`,
      );
  } catch (e) {
    await client.close();
    throw new Error(`ClickHouse log store at ${server}: ${e instanceof Error ? e.message : String(e)}`);
  }

  return {
    client,
    server,
    table,
    select,
    removeDeployments: (deploymentIds) => removeWhere("deployment_id", deploymentIds),
    removeWhere,
    async dropPartitionsOlderThan(days) {
      if (!Number.isSafeInteger(days) || days < 1)
        throw new RangeError(`retention must be whole days >= 1: ${days}`);
      // Both sides in the server's time zone, which also cut the partitions (toYYYYMMDD(timestamp)).
      const [row] = await select(
        `SELECT toYYYYMMDD(now() - toIntervalDay(${literal(days)})) AS cutoff`,
        Cutoff,
      );
      const cutoff = row?.cutoff ?? 0;
      const partitions = await select(
        `SELECT DISTINCT partition_id FROM system.parts WHERE ${ofTable} AND active`,
        Partition,
      );
      const old = partitions
        .map((p) => p.partition_id)
        .filter((id) => /^\d{8}$/.test(id) && Number(id) < cutoff);
      // Dropping a partition is a metadata operation (no TTL needed); a missing one is not an error.
      for (const id of old.sort())
        await client.command({ query: `ALTER TABLE ${table} DROP PARTITION ID ${literal(id)}` });
      return old;
    },
  };
}

/** Whole seconds for a DateTime column (partitions and retention), from an ISO time; now when unparseable. */
export function epochSeconds(iso: string): number {
  const ms = Date.parse(iso);
  const seconds = Math.floor((Number.isNaN(ms) ? Date.now() : ms) / 1000);
  return Math.min(Math.max(seconds, 0), 0xffff_ffff);
}

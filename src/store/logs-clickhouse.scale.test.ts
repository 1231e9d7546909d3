// Runs the log store contract on a real ClickHouse (Debian's 18.16 here), in a fresh database per run, plus what
// only ClickHouse has: copies deduped before merges, retention by partition, the SQL quoting helper.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ClickHouseConfig } from "../config/config.ts";
import { AppError, ConfigError } from "../errors.ts";
import { testService } from "../testing/services.ts";
import { identifier, literal } from "./clickhouse.ts";
import { line, logsContract } from "./logs.contract.ts";
import type { LogLine, Logs } from "./logs.ts";
import { openLogs } from "./logs.ts";
import { type ClickHouseLogs, openClickHouseLogs } from "./logs-clickhouse.ts";

interface Server {
  /** Runs one statement over HTTP and returns the body (TabSeparated). */
  sql(query: string): Promise<string>;
  /** Config for a new uniquely named database (dropped in afterAll); the store creates it. */
  config(): ClickHouseConfig;
}

const created: string[] = [];
// Setup errors are kept and rethrown by every test, so a missing server fails the run instead of skipping it.
let server: Server | Error = new Error("beforeAll did not run");
let shared: Promise<ClickHouseLogs> | null = null;

async function connect(): Promise<Server> {
  const given = new URL(testService("clickhouse"));
  const username = decodeURIComponent(given.username) || "default";
  const password = decodeURIComponent(given.password);
  given.username = "";
  given.password = "";
  const url = given.href;
  const sql = async (query: string) => {
    const response = await fetch(url, {
      method: "POST",
      body: query,
      headers: { Authorization: `Basic ${btoa(`${username}:${password}`)}` },
    });
    const body = await response.text();
    if (!response.ok) throw new Error(`ClickHouse at ${url}: ${body.trim()}\n(query: ${query})`);
    return body;
  };
  await sql("SELECT 1").catch((e: unknown) => {
    throw new Error(
      `no ClickHouse for the log tests at ${url}: ${e instanceof Error ? e.message : String(e)}`,
    );
  });
  return {
    sql,
    config() {
      const database = `mv_test_${crypto.randomUUID().replaceAll("-", "")}`;
      created.push(database);
      return { url, database, username, password };
    },
  };
}

function ready(): Server {
  if (server instanceof Error) throw server;
  return server;
}

beforeAll(async () => {
  server = await connect().catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
}, 600_000);

afterAll(async () => {
  if (shared) await (await shared.catch(() => null))?.close();
  if (server instanceof Error) return;
  for (const database of created) await server.sql(`DROP DATABASE IF EXISTS ${identifier(database)}`);
});

// One store (and database) for every case; retention off so the purge tests below decide what is dropped.
let sharedDatabase = "";
function open(): Promise<ClickHouseLogs> {
  shared ??= (async () => {
    const config = ready().config();
    sharedDatabase = config.database;
    return openClickHouseLogs(config, { retentionDays: null });
  })();
  return shared;
}

logsContract("clickhouse", open);

const table = () => `${identifier(sharedDatabase)}.log_events`;
const rawCount = async (id: string) =>
  Number((await ready().sql(`SELECT count() FROM ${table()} WHERE deployment_id = ${literal(id)}`)).trim());
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000);
/** The partition (server time zone) a line printed at `at` lands in. */
const partitionOf = async (at: Date) =>
  (await ready().sql(`SELECT toYYYYMMDD(toDateTime(${literal(Math.floor(at.getTime() / 1000))}))`)).trim();

describe("clickhouse only", () => {
  test("a line inserted twice is read once before any merge; a merge keeps one copy", async () => {
    const logs = await open();
    const id = crypto.randomUUID();
    const batch = [line(id, 1), line(id, 2), line(id, 3)];
    await ready().sql(`SYSTEM STOP MERGES ${table()}`);
    try {
      // Two awaited appends are two INSERTs, so two parts.
      await logs.append(batch);
      await logs.append(batch);
      expect(await rawCount(id)).toBe(6);
      expect(await logs.read(id, 0, 10)).toEqual(batch);
      expect((await logs.read(id, 1, 1)).map((l) => l.seq)).toEqual([2]);
    } finally {
      await ready().sql(`SYSTEM START MERGES ${table()}`);
    }
    await ready().sql(`OPTIMIZE TABLE ${table()} FINAL`);
    expect(await rawCount(id)).toBe(3);
    expect(await logs.read(id, 0, 10)).toEqual(batch);
  });

  test("one append is one INSERT: a 500-line batch makes one part, 5 appends of 100 make 5", async () => {
    // A store of its own, so the parts counted are this test's: level 0 parts are INSERTs (merges make
    // higher levels, and the parts they replace stay listed, inactive, for minutes).
    const config = ready().config();
    const logs = await openClickHouseLogs(config, { retentionDays: null });
    const inserts = async () =>
      Number(
        (
          await ready().sql(
            `SELECT count() FROM system.parts WHERE database = ${literal(config.database)} AND table = 'log_events' AND level = 0`,
          )
        ).trim(),
      );
    try {
      const id = crypto.randomUUID();
      // One day, so one partition: a part per INSERT.
      const batch = Array.from({ length: 500 }, (_, i) => line(id, i + 1));
      await logs.append(batch);
      expect(await inserts()).toBe(1);
      expect(await logs.read(id, 0, 1000)).toEqual(batch);
      const other = crypto.randomUUID();
      for (let i = 0; i < 5; i++)
        await logs.append(Array.from({ length: 100 }, (_, j) => line(other, i * 100 + j + 1)));
      expect(await inserts()).toBe(6);
      expect((await logs.read(other, 0, 1000)).length).toBe(500);
    } finally {
      await logs.close();
    }
  });

  test("purgeOlderThan drops whole partitions past the cutoff and keeps the recent ones", async () => {
    const logs = await open();
    const id = crypto.randomUUID();
    const old = line(id, 1, { at: daysAgo(40).toISOString() });
    const kept = [
      line(id, 2, { at: daysAgo(29).toISOString() }),
      line(id, 3, { at: new Date().toISOString() }),
    ];
    await logs.append([old, ...kept]);
    expect((await logs.read(id, 0, 10)).map((l) => l.seq)).toEqual([1, 2, 3]);

    const dropped = await logs.purgeOlderThan(30);
    expect(dropped).toContain(await partitionOf(daysAgo(40)));
    expect(dropped).not.toContain(await partitionOf(daysAgo(29)));
    expect(dropped).not.toContain(await partitionOf(new Date()));
    expect(await logs.read(id, 0, 10)).toEqual(kept);
    expect(await logs.purgeOlderThan(30)).toEqual([]);
    await expect(logs.purgeOlderThan(0)).rejects.toThrow(RangeError);
  });

  test("open purges on its own with the default 30 days (the seed's TTL)", async () => {
    const logs = await open();
    const id = crypto.randomUUID();
    const recent = line(id, 2, { at: new Date().toISOString() });
    await logs.append([line(id, 1, { at: daysAgo(45).toISOString() }), recent]);
    const other = await openClickHouseLogs({ ...ready().config(), database: sharedDatabase });
    try {
      let seqs: number[] = [];
      for (let i = 0; i < 100; i++) {
        seqs = (await logs.read(id, 0, 10)).map((l) => l.seq);
        if (seqs.length === 1) break;
        await Bun.sleep(50);
      }
      expect(seqs).toEqual([2]);
    } finally {
      await other.close();
    }
  });

  test("refuses the seed's own log_events table instead of writing into it", async () => {
    const config = ready().config();
    const db = identifier(config.database);
    await ready().sql(`CREATE DATABASE ${db}`);
    await ready().sql(
      `CREATE TABLE ${db}.log_events (event_id String, deployment_id String, log String, timestamp DateTime) ` +
        "ENGINE = MergeTree() PARTITION BY toYYYYMM(timestamp) ORDER BY (deployment_id, timestamp)",
    );
    await expect(openClickHouseLogs(config)).rejects.toThrow(
      /log_events exists without seq UInt32, stream String/,
    );
  });

  test("a database name that is not an identifier is a config error, before any query", async () => {
    const config = { ...ready().config(), database: "logs`; DROP DATABASE default; --" };
    await expect(openClickHouseLogs(config)).rejects.toBeInstanceOf(ConfigError);
  });

  test("an unreachable server fails open with the address in the message", async () => {
    const config = { ...ready().config(), url: "http://127.0.0.1:9" };
    await expect(openClickHouseLogs(config)).rejects.toThrow(/ClickHouse log store at 127\.0\.0\.1:9/);
  });

  test("append refuses lines it could not read back; read of such ids is empty", async () => {
    const logs = await open();
    const expectBadRequest = async (bad: LogLine) => {
      const error = await logs.append([bad]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe("bad_request");
    };
    const id = crypto.randomUUID();
    await expectBadRequest(line("not-a-uuid", 1));
    await expectBadRequest(line(id.toUpperCase(), 1));
    await expectBadRequest(line(id, -1));
    await expectBadRequest(line(id, 2 ** 32));
    await expectBadRequest(line(id, 1.5));
    expect(await logs.read(id, 0, 10)).toEqual([]);
    expect(await logs.read("x' OR 1=1 --", 0, 10)).toEqual([]);
    expect(await logs.read(id, -5, 10)).toEqual([]);
    expect(await logs.read(id, 2 ** 40, 10)).toEqual([]);
    await expect(logs.read(id, 0.5, 10)).rejects.toBeInstanceOf(AppError);
    await logs.remove(["x') OR 1=1 --"]);
  });

  test("openLogs picks ClickHouse and close waits for work in flight", async () => {
    const logs: Logs = await openLogs({ kind: "clickhouse", clickhouse: ready().config() });
    const id = crypto.randomUUID();
    const pending = logs.append([line(id, 1)]);
    await logs.close();
    await pending;
    await expect(logs.read(id, 0, 10)).rejects.toThrow(/closed/);
    const again = await openClickHouseLogs(
      { ...ready().config(), database: sharedDatabase },
      { retentionDays: null },
    );
    try {
      expect(await again.read(id, 0, 10)).toEqual([]);
    } finally {
      await again.close();
    }
  });
});

describe("SQL quoting (18.16 has no server-side parameters)", () => {
  test("literal: integers as digits, negatives parenthesized, nothing else numeric", () => {
    expect(literal(0)).toBe("0");
    expect(literal(4294967295)).toBe("4294967295");
    expect(literal(-1)).toBe("(-1)");
    for (const bad of [1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])
      expect(() => literal(bad)).toThrow();
  });

  test("literal: only strings that cannot end or escape a quoted literal", () => {
    const uuid = crypto.randomUUID();
    expect(literal(uuid)).toBe(`'${uuid}'`);
    expect(literal("20250102")).toBe("'20250102'");
    expect(literal("")).toBe("''");
    for (let code = 0; code < 128; code++) {
      const c = String.fromCharCode(code);
      if (/[A-Za-z0-9_.:-]/.test(c)) expect(literal(`a${c}b`)).toBe(`'a${c}b'`);
      else expect(() => literal(`a${c}b`)).toThrow(TypeError);
    }
    for (const bad of ["é", "ａ", "\u2028", "a\u0000", "x'y", "x\\'", "`", "😀"])
      expect(() => literal(bad)).toThrow();
  });

  test("identifier: backquoted names only", () => {
    expect(identifier("logs")).toBe("`logs`");
    expect(identifier("_a1")).toBe("`_a1`");
    for (const bad of ["", "1a", "a.b", "a`b", "a b", "a-b", "lögs"])
      expect(() => identifier(bad)).toThrow(TypeError);
  });

  test("what literal accepts, the server reads back unchanged", async () => {
    const values = [crypto.randomUUID(), "20250102", "a:b.c-d_e", "", "--", "0"];
    for (const value of values) expect(await ready().sql(`SELECT ${literal(value)}`)).toBe(`${value}\n`);
    expect(await ready().sql(`SELECT 1 - ${literal(-1)}`)).toBe("2\n");
  });
});

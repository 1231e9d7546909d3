// Runs the runtime log store contract on a real ClickHouse (Debian's 18.16 here), in a fresh database, plus what
// only ClickHouse has: copies read once before merges, one INSERT per append, values that never become SQL.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ClickHouseConfig } from "../config/config.ts";
import { AppError } from "../errors.ts";
import { testService } from "../testing/services.ts";
import { identifier, literal } from "./clickhouse.ts";
import { runtimeLine, runtimeLogsContract } from "./runtime-logs.contract.ts";
import { openRuntimeLogs, type RuntimeLogs } from "./runtime-logs.ts";
import { openClickHouseRuntimeLogs } from "./runtime-logs-clickhouse.ts";

let config: ClickHouseConfig | Error = new Error("beforeAll did not run");
let sql: (query: string) => Promise<string> = async () => "";
let shared: Promise<RuntimeLogs> | null = null;

beforeAll(async () => {
  const given = new URL(testService("clickhouse"));
  const username = decodeURIComponent(given.username) || "default";
  const password = decodeURIComponent(given.password);
  given.username = "";
  given.password = "";
  const url = given.href;
  sql = async (query) => {
    const response = await fetch(url, {
      method: "POST",
      body: query,
      headers: { Authorization: `Basic ${btoa(`${username}:${password}`)}` },
    });
    const body = await response.text();
    if (!response.ok) throw new Error(`ClickHouse at ${url}: ${body.trim()}\n(query: ${query})`);
    return body;
  };
  // A missing server fails every test instead of skipping them.
  config = await sql("SELECT 1").then(
    () => ({ url, database: `mv_test_${crypto.randomUUID().replaceAll("-", "")}`, username, password }),
    (e: unknown) => new Error(`no ClickHouse for the runtime log tests at ${url}: ${String(e)}`),
  );
}, 600_000);

afterAll(async () => {
  if (shared) await (await shared.catch(() => null))?.close();
  if (!(config instanceof Error)) await sql(`DROP DATABASE IF EXISTS ${identifier(config.database)}`);
});

function ready(): ClickHouseConfig {
  if (config instanceof Error) throw config;
  return config;
}

function open(): Promise<RuntimeLogs> {
  shared ??= openClickHouseRuntimeLogs(ready());
  return shared;
}

runtimeLogsContract("clickhouse", open);

describe("clickhouse only", () => {
  const table = () => `${identifier(ready().database)}.runtime_logs`;

  test("a line inserted twice is read once before any merge", async () => {
    const logs = await open();
    const id = crypto.randomUUID();
    const batch = [runtimeLine(id, 1), runtimeLine(id, 2)];
    await sql(`SYSTEM STOP MERGES ${table()}`);
    try {
      await logs.append(batch);
      await logs.append(batch);
      const raw = await sql(`SELECT count() FROM ${table()} WHERE deployment_id = ${literal(id)}`);
      expect(Number(raw.trim())).toBe(4);
      expect(await logs.read(id, { limit: 10 })).toEqual(batch.reverse());
    } finally {
      await sql(`SYSTEM START MERGES ${table()}`);
    }
  });

  test("one append is one INSERT: a 500-line flush makes one part", async () => {
    const logs = await open();
    const parts = async () =>
      Number(
        (
          await sql(
            `SELECT count() FROM system.parts WHERE database = ${literal(ready().database)} AND table = 'runtime_logs' AND level = 0`,
          )
        ).trim(),
      );
    const before = await parts();
    const id = crypto.randomUUID();
    await logs.append(Array.from({ length: 500 }, (_, i) => runtimeLine(id, i + 1)));
    expect(await parts()).toBe(before + 1);
  });

  test("what cannot be named in SQL is refused on append, and never reaches the server on read", async () => {
    const logs = await open();
    const id = crypto.randomUUID();
    const refused = async (line: ReturnType<typeof runtimeLine>) => {
      const error = await logs.append([line]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppError);
    };
    await refused(runtimeLine("not-a-uuid", 1));
    await refused(runtimeLine(id, 1, { at: "2025-01-02 03:04:05" }));
    await refused(runtimeLine(id, 1, { id: "x'); DROP TABLE runtime_logs; --" }));
    expect(await logs.read("x' OR 1=1 --", { limit: 10 })).toEqual([]);
    await expect(logs.read(id, { since: "' OR 1=1 --", limit: 10 })).rejects.toBeInstanceOf(AppError);
    await expect(
      logs.read(id, { before: { at: new Date().toISOString(), id: "a' OR 'b" }, limit: 10 }),
    ).rejects.toBeInstanceOf(AppError);
    await logs.remove(["x') OR 1=1 --"]);
  });

  test("openRuntimeLogs picks ClickHouse; close waits for work in flight", async () => {
    const logs = await openRuntimeLogs({ kind: "clickhouse", clickhouse: ready() }, { retentionDays: null });
    const id = crypto.randomUUID();
    const pending = logs.append([runtimeLine(id, 1, { at: new Date().toISOString() })]);
    await logs.close();
    await pending;
    await expect(logs.read(id, { limit: 10 })).rejects.toThrow(/closed/);
    expect((await (await open()).read(id, { limit: 10 })).length).toBe(1);
  });
});

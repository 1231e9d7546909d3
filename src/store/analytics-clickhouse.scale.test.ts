// Runs the analytics store contract on a real ClickHouse (Debian's 18.16 here), in a fresh database, plus what
// only ClickHouse has: a redelivered message folded by FINAL before any merge, text that never becomes SQL.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ClickHouseConfig } from "../config/config.ts";
import { testService } from "../testing/services.ts";
import { analyticsContract, analyticsRow, T0 } from "./analytics.contract.ts";
import { type Analytics, openAnalytics } from "./analytics.ts";
import { openClickHouseAnalytics } from "./analytics-clickhouse.ts";
import { identifier } from "./clickhouse.ts";

let config: ClickHouseConfig | Error = new Error("beforeAll did not run");
let sql: (query: string) => Promise<string> = async () => "";
let shared: Promise<Analytics> | null = null;

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
  config = await sql("SELECT 1").then(
    () => ({ url, database: `mv_test_${crypto.randomUUID().replaceAll("-", "")}`, username, password }),
    (e: unknown) => new Error(`no ClickHouse for the analytics tests at ${url}: ${String(e)}`),
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

function open(): Promise<Analytics> {
  shared ??= openClickHouseAnalytics(ready());
  return shared;
}

analyticsContract("clickhouse", open);

describe("clickhouse only", () => {
  test("paths and referrers with quotes, backslashes and SQL stay text", async () => {
    const store = await open();
    const p = crypto.randomUUID();
    const path = "/a'b\\c\"; DROP TABLE analytics; --";
    await store.append(crypto.randomUUID(), [analyticsRow(p, { path, referrer: "x'y" })]);
    const filter = { projectId: p, from: T0, to: T0 + 60, bot: false, path, referrer: "x'y" };
    const found = await store.group(filter, { kind: "dimension", dimension: "path", limit: 5 });
    expect(found.map((g) => g.key)).toEqual([path]);
  });

  test("openAnalytics on ClickHouse reopens the same table", async () => {
    const again = await openAnalytics({ kind: "clickhouse", clickhouse: ready() }, { retentionDays: null });
    await again.close();
  });
});

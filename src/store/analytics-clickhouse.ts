// Web analytics on ClickHouse: an `analytics` table beside the log tables, created here at open (no migrations),
// within what 18.16 allows. ReplacingMergeTree keyed by (batch, seq) folds a message stored twice when parts
// merge; reads use FINAL so that a redelivered message never counts twice before then.

import { Type } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { COUNTRY_PATTERN, VISITOR_PATTERN } from "../../schema/analytics.ts";
import type { ClickHouseConfig } from "../config/config.ts";
import { badRequest } from "../errors.ts";
import type { Analytics, AnalyticsFilter, AnalyticsRow, Dimension, GroupBy } from "./analytics.ts";
import { groupCommit, inFlight, literal, openClickHouseTable, textLiteral, UUID } from "./clickhouse.ts";

const COLUMNS = {
  project_id: "String",
  deployment_id: "String",
  minute: "DateTime",
  path: "String",
  referrer: "String",
  country: "String",
  browser: "String",
  os: "String",
  status: "UInt16",
  bot: "UInt8",
  visitor: "String",
  ttfb_us: "UInt32",
  requests: "UInt32",
  bytes: "UInt64",
  batch: "String",
  seq: "UInt32",
} as const;

const COLUMN: Record<Dimension, string> = {
  path: "path",
  referrer: "referrer",
  country: "country",
  browser: "browser",
  os: "os",
  status: "toString(status)",
  deployment: "deployment_id",
};

const VISITOR = new RegExp(VISITOR_PATTERN);
const COUNTRY = new RegExp(COUNTRY_PATTERN);

// JSON output quotes 64-bit integers.
const Count = Type.Union([Type.String({ pattern: "^[0-9]+$" }), Type.Integer()]);
const GroupRow = TypeCompiler.Compile(
  Type.Object({ key: Type.String(), requests: Count, visitors: Count, bytes: Count }),
);

interface Row {
  project_id: string;
  deployment_id: string;
  minute: number;
  path: string;
  referrer: string;
  country: string;
  browser: string;
  os: string;
  status: number;
  bot: number;
  visitor: string;
  ttfb_us: number;
  requests: number;
  bytes: number;
  batch: string;
  seq: number;
}

function toRow(batch: string, r: AnalyticsRow, seq: number): Row {
  // What the reads name in SQL text is refused here if it could not be named there.
  if (!UUID.test(batch)) throw badRequest("batch must be a lowercase uuid", "batch");
  if (!UUID.test(r.projectId)) throw badRequest("projectId must be a lowercase uuid", "projectId");
  if (!UUID.test(r.deploymentId)) throw badRequest("deploymentId must be a lowercase uuid", "deploymentId");
  if (!VISITOR.test(r.visitor)) throw badRequest("visitor must be 16 hex digits", "visitor");
  if (!COUNTRY.test(r.country)) throw badRequest("country must be two capital letters", "country");
  return {
    project_id: r.projectId,
    deployment_id: r.deploymentId,
    minute: r.minute,
    path: r.path,
    referrer: r.referrer,
    country: r.country,
    browser: r.browser,
    os: r.os,
    status: r.status,
    bot: r.bot ? 1 : 0,
    visitor: r.visitor,
    ttfb_us: r.ttfbUs,
    requests: r.requests,
    bytes: r.bytes,
    batch,
    seq,
  };
}

function whereOf(filter: AnalyticsFilter): string {
  if (!UUID.test(filter.projectId)) throw badRequest("project id must be a uuid", "projectId");
  const where = [
    `project_id = ${literal(filter.projectId)}`,
    `minute >= toDateTime(${literal(filter.from)})`,
    `minute < toDateTime(${literal(filter.to)})`,
    `bot = ${filter.bot ? 1 : 0}`,
  ];
  if (filter.deploymentId != null) where.push(`deployment_id = ${textLiteral(filter.deploymentId)}`);
  if (filter.path != null) where.push(`path = ${textLiteral(filter.path)}`);
  if (filter.referrer != null) where.push(`referrer = ${textLiteral(filter.referrer)}`);
  return where.join(" AND ");
}

function keyOf(by: GroupBy): string {
  switch (by.kind) {
    case "all":
      return "''";
    case "dimension":
      return COLUMN[by.dimension];
    case "bucket":
      return `toString(intDiv(toUInt32(minute), ${literal(by.seconds)}) * ${literal(by.seconds)})`;
    case "ttfb":
      return "toString(ttfb_us)";
  }
}

export async function openClickHouseAnalytics(config: ClickHouseConfig): Promise<Analytics> {
  const { client, table, select, removeWhere, dropPartitionsOlderThan } = await openClickHouseTable(config, {
    name: "analytics",
    columns: COLUMNS,
    engine:
      "ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMMDD(minute) ORDER BY (project_id, minute, batch, seq)",
    mismatchHint: ": set CLICKHOUSE_DATABASE to another database, or rename that table",
  });
  const insertRows = groupCommit<Row>(async (rows) => {
    await client.insert({ table, values: rows, format: "JSONEachRow" });
  });

  // close() waits for whatever is in flight, then ends the connections.
  const requests = inFlight("analytics store");
  const track = requests.track;

  return {
    async append(batch, rows) {
      if (rows.length === 0) return;
      const values = rows.map((r, seq) => toRow(batch, r, seq));
      await track(() => insertRows(values));
    },
    async group(filter, by) {
      const key = keyOf(by);
      let query =
        `SELECT ${key} AS key, sum(requests) AS requests, uniqExact(visitor) AS visitors, sum(bytes) AS bytes ` +
        `FROM ${table} FINAL WHERE ${whereOf(filter)}`;
      if (by.kind !== "all") query += " GROUP BY key";
      query +=
        by.kind === "dimension" ? ` ORDER BY requests DESC, key LIMIT ${literal(by.limit)}` : " ORDER BY key";
      const rows = await track(() => select(query, GroupRow));
      return rows
        .map((r) => ({
          key: r.key,
          requests: Number(r.requests),
          visitors: Number(r.visitors),
          bytes: Number(r.bytes),
        }))
        .filter((g) => g.requests > 0);
    },
    async removeProjects(projectIds) {
      await track(() => removeWhere("project_id", projectIds));
    },
    async purgeOlderThan(days) {
      await track(() => dropPartitionsOlderThan(days));
    },
    async close() {
      if (await requests.close()) await client.close();
    },
  };
}

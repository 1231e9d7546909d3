// Runtime log store on ClickHouse: a runtime_logs table beside log_events, created here at open (no migrations),
// within what 18.16 allows: whole-second DateTime for partitions, the exact time as sortable ISO text, no TTL.

import { Type } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { AT_PATTERN, LINE_ID_PATTERN } from "../../schema/runtime-logs.ts";
import type { ClickHouseConfig } from "../config/config.ts";
import { badRequest } from "../errors.ts";
import {
  epochSeconds,
  groupCommit,
  inFlight,
  literal,
  openClickHouseTable,
  textLiteral,
  UUID,
} from "./clickhouse.ts";
import type { RuntimeLogLine, RuntimeLogs } from "./runtime-logs.ts";

/**
 * `at` is the line's ISO time to the millisecond, fixed width, so sorting the text sorts by time (18.16 has no
 * DateTime64); `timestamp` is the same in whole seconds, for daily partitions and retention. `request_id` is ""
 * outside a request. ReplacingMergeTree folds a line stored twice (a retried INSERT) when it merges parts;
 * reads dedupe themselves until then.
 */
const COLUMNS = {
  deployment_id: "String",
  at: "String",
  id: "String",
  function: "String",
  request_id: "String",
  stream: "String",
  text: "String",
  timestamp: "DateTime",
} as const;

const AT = new RegExp(AT_PATTERN);
const LINE_ID = new RegExp(LINE_ID_PATTERN);

const Line = TypeCompiler.Compile(
  Type.Object({
    deployment_id: Type.String(),
    at: Type.String(),
    id: Type.String(),
    function: Type.String(),
    request_id: Type.String(),
    stream: Type.String(),
    text: Type.String(),
  }),
);

interface Row {
  deployment_id: string;
  at: string;
  id: string;
  function: string;
  request_id: string;
  stream: string;
  text: string;
  timestamp: number;
}

function toRow(line: RuntimeLogLine): Row {
  // Reads name deployments, times and ids in SQL text: what could not be named there is refused here.
  if (!UUID.test(line.deploymentId))
    throw badRequest("deploymentId must be a lowercase uuid", "deploymentId");
  if (!AT.test(line.at)) throw badRequest("at must be an ISO time with milliseconds", "at");
  if (!LINE_ID.test(line.id)) throw badRequest("id must be letters, digits and _.:-", "id");
  return {
    deployment_id: line.deploymentId,
    at: line.at,
    id: line.id,
    function: line.function,
    request_id: line.requestId ?? "",
    stream: line.stream,
    text: line.text,
    timestamp: epochSeconds(line.at),
  };
}

function time(value: string, field: string): string {
  if (!AT.test(value)) throw badRequest(`${field} must be an ISO time with milliseconds`, field);
  return literal(value);
}

const asStream = (s: string): RuntimeLogLine["stream"] => (s === "stderr" || s === "system" ? s : "stdout");

export async function openClickHouseRuntimeLogs(config: ClickHouseConfig): Promise<RuntimeLogs> {
  const { client, table, select, removeDeployments, dropPartitionsOlderThan } = await openClickHouseTable(
    config,
    {
      name: "runtime_logs",
      columns: COLUMNS,
      engine:
        "ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMMDD(timestamp) ORDER BY (deployment_id, at, id)",
      mismatchHint: ": set CLICKHOUSE_DATABASE to another database, or rename that table",
    },
  );
  const insertRows = groupCommit<Row>(async (rows) => {
    await client.insert({ table, values: rows, format: "JSONEachRow" });
  });

  // close() waits for whatever is in flight, then ends the connections.
  const requests = inFlight("runtime log store");
  const track = requests.track;

  return {
    async append(lines) {
      if (lines.length === 0) return;
      const rows = lines.map(toRow);
      await track(() => insertRows(rows));
    },

    async read(deploymentId, query) {
      if (!Number.isSafeInteger(query.limit)) throw badRequest("limit must be an integer", "limit");
      if (!UUID.test(deploymentId) || query.limit <= 0) return [];
      const where = [`deployment_id = ${literal(deploymentId)}`];
      if (query.since) where.push(`at >= ${time(query.since, "since")}`);
      if (query.until) where.push(`at < ${time(query.until, "until")}`);
      if (query.function != null) where.push(`function = ${textLiteral(query.function)}`);
      if (query.before) {
        const at = time(query.before.at, "cursor");
        if (!LINE_ID.test(query.before.id)) throw badRequest("cursor is not a line of this log", "cursor");
        where.push(`(at < ${at} OR (at = ${at} AND id < ${literal(query.before.id)}))`);
      }
      // LIMIT 1 BY: one copy of a line stored twice, before merges fold them (FINAL would be slower).
      const rows = await track(() =>
        select(
          `SELECT deployment_id, at, id, function, request_id, stream, text FROM ${table} ` +
            `WHERE ${where.join(" AND ")} ORDER BY at DESC, id DESC LIMIT 1 BY at, id LIMIT ${literal(query.limit)}`,
          Line,
        ),
      );
      return rows.map((r) => ({
        deploymentId: r.deployment_id,
        id: r.id,
        function: r.function,
        requestId: r.request_id === "" ? null : r.request_id,
        stream: asStream(r.stream),
        text: r.text,
        at: r.at,
      }));
    },

    async remove(deploymentIds) {
      await track(() => removeDeployments(deploymentIds));
    },

    async purgeOlderThan(days) {
      await track(() => dropPartitionsOlderThan(days));
    },

    async close() {
      if (await requests.close()) await client.close();
    },
  };
}

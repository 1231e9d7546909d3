// Web analytics on bun:sqlite: an `analytics` table in the build logs' WAL file (logs.db), so backups carry it;
// created here, as the log tables are, since logs.db has no migrations of its own.

import { Database, type SQLQueryBindings } from "bun:sqlite";
import type { Analytics, AnalyticsRow, Dimension, GroupBy } from "./analytics.ts";

const COLUMN: Record<Dimension, string> = {
  path: "path",
  referrer: "referrer",
  country: "country",
  browser: "browser",
  os: "os",
  status: "CAST(status AS TEXT)",
  deployment: "deployment_id",
};

interface GroupRow {
  key: string | number;
  requests: number;
  visitors: number;
  bytes: number;
}

export function openSqliteAnalytics(path: string): Analytics {
  const db = new Database(path, { create: true, strict: true });
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec("PRAGMA synchronous = NORMAL");
  // (batch, seq) names a record: a bus message delivered twice inserts nothing the second time.
  db.exec(`CREATE TABLE IF NOT EXISTS analytics (
    batch TEXT NOT NULL,
    seq INTEGER NOT NULL,
    project_id TEXT NOT NULL,
    deployment_id TEXT NOT NULL,
    minute INTEGER NOT NULL,
    path TEXT NOT NULL,
    referrer TEXT NOT NULL,
    country TEXT NOT NULL,
    browser TEXT NOT NULL,
    os TEXT NOT NULL,
    status INTEGER NOT NULL,
    bot INTEGER NOT NULL,
    visitor TEXT NOT NULL,
    ttfb_us INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    PRIMARY KEY (batch, seq)
  ) WITHOUT ROWID`);
  db.exec("CREATE INDEX IF NOT EXISTS analytics_project_minute ON analytics (project_id, minute)");
  db.exec("CREATE INDEX IF NOT EXISTS analytics_minute ON analytics (minute)");
  const insert = db.query(
    `INSERT OR IGNORE INTO analytics (batch, seq, project_id, deployment_id, minute, path, referrer, country, browser,
     os, status, bot, visitor, ttfb_us, requests, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const appendAll = db.transaction((batch: string, rows: AnalyticsRow[]) => {
    rows.forEach((r, seq) => {
      insert.run(
        batch,
        seq,
        r.projectId,
        r.deploymentId,
        r.minute,
        r.path,
        r.referrer,
        r.country,
        r.browser,
        r.os,
        r.status,
        r.bot ? 1 : 0,
        r.visitor,
        r.ttfbUs,
        r.requests,
        r.bytes,
      );
    });
  });
  const removeAll = db.transaction((ids: string[]) => {
    const remove = db.query("DELETE FROM analytics WHERE project_id = ?");
    for (const id of ids) remove.run(id);
  });

  function keyOf(by: GroupBy, params: SQLQueryBindings[]): string {
    switch (by.kind) {
      case "all":
        return "''";
      case "dimension":
        return COLUMN[by.dimension];
      case "bucket":
        params.push(by.seconds, by.seconds);
        return "(minute / ?) * ?";
      case "ttfb":
        return "ttfb_us";
    }
  }

  return {
    async append(batch, rows) {
      if (rows.length > 0) appendAll(batch, rows);
    },
    async group(filter, by) {
      const params: SQLQueryBindings[] = [];
      const key = keyOf(by, params);
      const where = ["project_id = ?", "minute >= ?", "minute < ?", "bot = ?"];
      params.push(filter.projectId, filter.from, filter.to, filter.bot ? 1 : 0);
      if (filter.deploymentId != null) {
        where.push("deployment_id = ?");
        params.push(filter.deploymentId);
      }
      if (filter.path != null) {
        where.push("path = ?");
        params.push(filter.path);
      }
      if (filter.referrer != null) {
        where.push("referrer = ?");
        params.push(filter.referrer);
      }
      let sql =
        `SELECT ${key} AS key, sum(requests) AS requests, count(DISTINCT visitor) AS visitors, ` +
        `sum(bytes) AS bytes FROM analytics WHERE ${where.join(" AND ")}`;
      if (by.kind !== "all") sql += " GROUP BY 1";
      sql += by.kind === "dimension" ? " ORDER BY requests DESC, key LIMIT ?" : " ORDER BY key";
      if (by.kind === "dimension") params.push(by.limit);
      const rows = db.query<GroupRow, SQLQueryBindings[]>(sql).all(...params);
      return rows
        .filter((r) => r.requests !== null && Number(r.requests) > 0)
        .map((r) => ({
          key: String(r.key),
          requests: Number(r.requests),
          visitors: Number(r.visitors),
          bytes: Number(r.bytes),
        }));
    },
    async removeProjects(ids) {
      removeAll(ids);
    },
    async purgeOlderThan(days) {
      if (!Number.isSafeInteger(days) || days < 1)
        throw new RangeError(`retention must be whole days >= 1: ${days}`);
      const cutoff = Math.floor(Date.now() / 1000) - days * 86_400;
      db.query("DELETE FROM analytics WHERE minute < ?").run(cutoff);
    },
    async close() {
      db.close();
    },
  };
}

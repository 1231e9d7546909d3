// Runtime log store on bun:sqlite: a runtime_logs table in the build logs' own WAL file (logs.db), so backups
// carry it with them; created here, as log_events is, since logs.db has no migrations of its own.

import { Database, type SQLQueryBindings } from "bun:sqlite";
import type { RuntimeLogLine, RuntimeLogs } from "./runtime-logs.ts";

interface Row {
  deployment_id: string;
  at: string;
  id: string;
  function: string;
  request_id: string | null;
  stream: string;
  text: string;
}

const asStream = (s: string): RuntimeLogLine["stream"] => (s === "stderr" || s === "system" ? s : "stdout");

const toLine = (r: Row): RuntimeLogLine => ({
  deploymentId: r.deployment_id,
  id: r.id,
  function: r.function,
  requestId: r.request_id,
  stream: asStream(r.stream),
  text: r.text,
  at: r.at,
});

export function openSqliteRuntimeLogs(path: string): RuntimeLogs {
  const db = new Database(path, { create: true, strict: true });
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec("PRAGMA synchronous = NORMAL");
  // The key is the read order, so a newest-first page is a walk down the primary key of one deployment.
  db.exec(`CREATE TABLE IF NOT EXISTS runtime_logs (
    deployment_id TEXT NOT NULL,
    at TEXT NOT NULL,
    id TEXT NOT NULL,
    function TEXT NOT NULL,
    request_id TEXT,
    stream TEXT NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (deployment_id, at, id)
  ) WITHOUT ROWID`);
  // Retention deletes by time across deployments.
  db.exec("CREATE INDEX IF NOT EXISTS runtime_logs_at ON runtime_logs (at)");
  const insert = db.query(
    "INSERT OR IGNORE INTO runtime_logs (deployment_id, at, id, function, request_id, stream, text) VALUES (?, ?, ?, ?, ?, ?, ?)",
  );
  const appendAll = db.transaction((lines: RuntimeLogLine[]) => {
    for (const l of lines) insert.run(l.deploymentId, l.at, l.id, l.function, l.requestId, l.stream, l.text);
  });
  const removeAll = db.transaction((ids: string[]) => {
    const remove = db.query("DELETE FROM runtime_logs WHERE deployment_id = ?");
    for (const id of ids) remove.run(id);
  });

  return {
    async append(lines) {
      if (lines.length > 0) appendAll(lines);
    },
    async read(deploymentId, query) {
      if (query.limit <= 0) return [];
      const where = ["deployment_id = ?"];
      const params: SQLQueryBindings[] = [deploymentId];
      if (query.since) {
        where.push("at >= ?");
        params.push(query.since);
      }
      if (query.until) {
        where.push("at < ?");
        params.push(query.until);
      }
      if (query.function != null) {
        where.push("function = ?");
        params.push(query.function);
      }
      if (query.before) {
        where.push("(at < ? OR (at = ? AND id < ?))");
        params.push(query.before.at, query.before.at, query.before.id);
      }
      params.push(query.limit);
      const sql = `SELECT * FROM runtime_logs WHERE ${where.join(" AND ")} ORDER BY at DESC, id DESC LIMIT ?`;
      return db
        .query<Row, SQLQueryBindings[]>(sql)
        .all(...params)
        .map(toLine);
    },
    async remove(ids) {
      removeAll(ids);
    },
    async purgeOlderThan(days) {
      if (!Number.isSafeInteger(days) || days < 1)
        throw new RangeError(`retention must be whole days >= 1: ${days}`);
      const cutoff = new Date(Date.now() - days * 86_400_000).toISOString();
      db.query("DELETE FROM runtime_logs WHERE at < ?").run(cutoff);
    },
    async close() {
      db.close();
    },
  };
}

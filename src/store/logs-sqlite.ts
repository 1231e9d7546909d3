// Log store on bun:sqlite: the seed's log_events table, in its own WAL file beside the main database.

import { Database } from "bun:sqlite";
import type { LogLine, LogStream, Logs } from "./logs.ts";

interface LogRow {
  deployment_id: string;
  seq: number;
  stream: string;
  log: string;
  timestamp: string;
}

/** Lines per multi-row INSERT (5 parameters each, well under sqlite's 32,766). */
const ROWS = 100;

const asStream = (s: string): LogStream => (s === "stderr" || s === "system" ? s : "stdout");

export function openSqliteLogs(path: string): Logs {
  const db = new Database(path, { create: true, strict: true });
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec(`CREATE TABLE IF NOT EXISTS log_events (
    deployment_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    stream TEXT NOT NULL,
    log TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    PRIMARY KEY (deployment_id, seq)
  ) WITHOUT ROWID`);
  const insertSql = (rows: number) =>
    `INSERT OR IGNORE INTO log_events (deployment_id, seq, stream, log, timestamp) VALUES ${Array.from(
      { length: rows },
      () => "(?, ?, ?, ?, ?)",
    ).join(", ")}`;
  const insert = db.query(insertSql(1));
  // A chatty build's batches are stored ROWS lines per statement: one statement run per line costs more.
  const insertMany = db.query(insertSql(ROWS));
  const select = db.query<LogRow, [string, number, number]>(
    "SELECT * FROM log_events WHERE deployment_id = ? AND seq > ? ORDER BY seq LIMIT ?",
  );
  const appendAll = db.transaction((lines: LogLine[]) => {
    let i = 0;
    for (; i + ROWS <= lines.length; i += ROWS) {
      const values: (string | number)[] = [];
      for (const l of lines.slice(i, i + ROWS)) values.push(l.deploymentId, l.seq, l.stream, l.text, l.at);
      insertMany.run(...values);
    }
    for (const l of lines.slice(i)) insert.run(l.deploymentId, l.seq, l.stream, l.text, l.at);
  });
  const removeAll = db.transaction((ids: string[]) => {
    for (const id of ids) db.query("DELETE FROM log_events WHERE deployment_id = ?").run(id);
  });

  return {
    async append(lines) {
      if (lines.length > 0) appendAll(lines);
    },
    async read(deploymentId, afterSeq, limit) {
      return select.all(deploymentId, afterSeq, limit).map((r) => ({
        deploymentId: r.deployment_id,
        seq: r.seq,
        stream: asStream(r.stream),
        text: r.log,
        at: r.timestamp,
      }));
    },
    async remove(ids) {
      removeAll(ids);
    },
    async close() {
      db.close();
    },
  };
}

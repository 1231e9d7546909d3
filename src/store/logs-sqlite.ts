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
  const insert = db.query(
    "INSERT OR IGNORE INTO log_events (deployment_id, seq, stream, log, timestamp) VALUES (?, ?, ?, ?, ?)",
  );
  const select = db.query<LogRow, [string, number, number]>(
    "SELECT * FROM log_events WHERE deployment_id = ? AND seq > ? ORDER BY seq LIMIT ?",
  );
  const appendAll = db.transaction((lines: LogLine[]) => {
    for (const l of lines) insert.run(l.deploymentId, l.seq, l.stream, l.text, l.at);
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

// Log store port: build log lines per deployment, ordered by sequence number, written idempotently.

export type LogStream = "stdout" | "stderr" | "system";

export interface LogLine {
  deploymentId: string;
  /** Per-deployment sequence number assigned by the builder; (deploymentId, seq) is unique. */
  seq: number;
  stream: LogStream;
  text: string;
  /** ISO-8601 time the line was printed. */
  at: string;
}

export interface Logs {
  /** Stores lines; a line whose (deploymentId, seq) is already stored is ignored. */
  append(lines: LogLine[]): Promise<void>;
  /** Lines with seq > afterSeq, in order, at most `limit`. */
  read(deploymentId: string, afterSeq: number, limit: number): Promise<LogLine[]>;
  /** Removes every line of the given deployments (project deletion, garbage collection). */
  remove(deploymentIds: string[]): Promise<void>;
  close(): Promise<void>;
}

export type LogsConfig = { kind: "sqlite"; path: string };

export async function openLogs(config: LogsConfig): Promise<Logs> {
  switch (config.kind) {
    case "sqlite": {
      const { openSqliteLogs } = await import("./logs-sqlite.ts");
      return openSqliteLogs(config.path);
    }
  }
}

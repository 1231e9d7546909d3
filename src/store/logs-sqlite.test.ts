// Runs the log store contract on bun:sqlite, in memory and on a WAL file.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { logsContract } from "./logs.contract.ts";
import { openLogs } from "./logs.ts";
import { openSqliteLogs } from "./logs-sqlite.ts";

logsContract("sqlite :memory:", async () => openSqliteLogs(":memory:"));

const dir = mkdtempSync(join(tmpdir(), "minivercel-logs-"));
let shared: ReturnType<typeof openLogs> | null = null;
logsContract("sqlite file (WAL)", () => {
  shared ??= openLogs({ kind: "sqlite", path: join(dir, "logs.db") });
  return shared;
});

// Runs the runtime log store contract on bun:sqlite, in memory and on a WAL file shared with the build logs.

import { expect, test } from "bun:test";
import { join } from "node:path";
import { tempDir } from "../testing/deps.ts";
import { line } from "./logs.contract.ts";
import { openLogs } from "./logs.ts";
import { runtimeLine, runtimeLogsContract } from "./runtime-logs.contract.ts";
import { openRuntimeLogs } from "./runtime-logs.ts";
import { openSqliteRuntimeLogs } from "./runtime-logs-sqlite.ts";

runtimeLogsContract("sqlite :memory:", async () => openSqliteRuntimeLogs(":memory:"));

const dir = tempDir("minivercel-runtime-logs-");
const file = openSqliteRuntimeLogs(join(dir, "logs.db"));
runtimeLogsContract("sqlite file (WAL)", async () => file);

test("beside the build logs in one file: each store keeps its own lines", async () => {
  const path = join(tempDir("minivercel-runtime-logs-"), "logs.db");
  const build = await openLogs({ kind: "sqlite", path });
  const runtime = await openRuntimeLogs({ kind: "sqlite", path }, { retentionDays: 3 });
  const id = crypto.randomUUID();
  await build.append([line(id, 1)]);
  const recent = runtimeLine(id, 1, { at: new Date().toISOString() });
  await runtime.append([recent]);
  expect(await build.read(id, 0, 10)).toEqual([line(id, 1)]);
  expect(await runtime.read(id, { limit: 10 })).toEqual([recent]);
  await runtime.remove([id]);
  expect(await build.read(id, 0, 10)).toEqual([line(id, 1)]);
  await runtime.close();
  await build.close();
});

test("opened with a retention, the store purges at once: a line past it is gone", async () => {
  const path = join(tempDir("minivercel-runtime-logs-"), "logs.db");
  const id = crypto.randomUUID();
  const writer = openSqliteRuntimeLogs(path);
  const old = runtimeLine(id, 1, { at: new Date(Date.now() - 5 * 86_400_000).toISOString() });
  const young = runtimeLine(id, 2, { at: new Date().toISOString() });
  await writer.append([old, young]);
  await writer.close();
  const logs = await openRuntimeLogs({ kind: "sqlite", path }, { retentionDays: 3 });
  expect(await logs.read(id, { limit: 10 })).toEqual([young]);
  await logs.close();
});

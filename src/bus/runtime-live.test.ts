// Runtime lines over the bus: a flush is split into messages Kafka accepts, and a feed validates what it hears.

import { expect, test } from "bun:test";
import { MAX_RUNTIME_BATCH_LINES } from "../../schema/runtime-logs.ts";
import type { RuntimeLogLine } from "../store/runtime-logs.ts";
import { captureLog } from "../testing/metrics.ts";
import { memoryBus } from "./bus-memory.ts";
import { createLive } from "./live.ts";
import {
  publishRuntimeLines,
  type RuntimeLiveEvent,
  runtimeBatches,
  startRuntimeLogFeed,
} from "./runtime-live.ts";

const deploymentId = crypto.randomUUID();
const line = (n: number, text = `line ${n}`): RuntimeLogLine => ({
  deploymentId,
  id: `l${n}`,
  function: "/api/fn",
  requestId: n % 2 ? "req-1" : null,
  stream: "stdout",
  text,
  at: new Date(Date.UTC(2025, 0, 1) + n).toISOString(),
});

test("a flush becomes messages of at most 500 lines and about 256 KB, in order", () => {
  const many = Array.from({ length: 1201 }, (_, i) => line(i));
  expect(runtimeBatches(deploymentId, many).map((b) => b.lines.length)).toEqual([
    MAX_RUNTIME_BATCH_LINES,
    MAX_RUNTIME_BATCH_LINES,
    201,
  ]);
  const wide = Array.from({ length: 200 }, (_, i) => line(i, "é".repeat(4000)));
  const batches = runtimeBatches(deploymentId, wide);
  // 8 KB of UTF-8 a line: 32 lines a message.
  expect(batches.length).toBe(7);
  for (const b of batches) expect(Buffer.byteLength(JSON.stringify(b))).toBeLessThan(300 * 1024);
  expect(batches.flatMap((b) => b.lines.map((l) => l.id))).toEqual(wide.map((l) => l.id));
  expect(runtimeBatches(deploymentId, [])).toEqual([]);
});

test("the feed hands valid messages to watchers and refuses the rest", async () => {
  const { log, lines } = captureLog();
  const bus = memoryBus(log);
  const runtimeLive = createLive<RuntimeLiveEvent>(log);
  const heard: unknown[] = [];
  runtimeLive.subscribe(deploymentId, (event) => heard.push(event));
  const feed = await startRuntimeLogFeed({ bus, runtimeLive, log });
  await publishRuntimeLines(bus, deploymentId, [line(1), line(2)]);
  // Forged or broken: another shape, an unknown field, a line id that is not SQL-safe.
  await bus.publish("runtime-logs", deploymentId, { type: "runtime-logs", deploymentId, lines: [] });
  await bus.publish("runtime-logs", deploymentId, { type: "log", deploymentId });
  const { deploymentId: _, ...entry } = line(3);
  await bus.publish("runtime-logs", deploymentId, {
    type: "runtime-logs",
    deploymentId,
    lines: [{ ...entry, id: "x' OR 1=1" }],
  });
  await publishRuntimeLines(bus, deploymentId, [line(4)]);
  await feed.stop();
  expect(heard).toEqual([
    { kind: "runtime", lines: [line(1), line(2)] },
    { kind: "runtime", lines: [line(4)] },
  ]);
  expect(lines.filter((l) => l.msg === "runtime logs: refused a bus message")).toHaveLength(3);
});

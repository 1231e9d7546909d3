// The runtime log sink on the embedded store and bus: request ids split off, long lines cut, lines written and
// published in batches (not per line), a deployment held to its budget with a note about what was dropped.

import { describe, expect, test } from "bun:test";
import { MAX_RUNTIME_LINE_CHARS } from "../../schema/runtime-logs.ts";
import { memoryBus } from "../bus/bus-memory.ts";
import type { RuntimeLogLine } from "../store/runtime-logs.ts";
import { openSqliteRuntimeLogs } from "../store/runtime-logs-sqlite.ts";
import { captureLog } from "../testing/metrics.ts";
import { createLogSink, parseLine } from "./log-sink.ts";

describe("parseLine", () => {
  test("the launcher's [id] prefix becomes the request id; anything else stays text", () => {
    expect(parseLine("[ab12-3] hello [x] there")).toEqual({ requestId: "ab12-3", text: "hello [x] there" });
    expect(parseLine("[req-1]")).toEqual({ requestId: "req-1", text: "" });
    expect(parseLine("plain line")).toEqual({ requestId: null, text: "plain line" });
    expect(parseLine("[not an id] x")).toEqual({ requestId: null, text: "[not an id] x" });
    expect(parseLine("[req-1]x")).toEqual({ requestId: null, text: "[req-1]x" });
    expect(parseLine(`[${"a".repeat(129)}] x`).requestId).toBeNull();
  });

  test("a line past the limit is cut, says so, and never splits a character", () => {
    const long = parseLine(`[r] ${"x".repeat(MAX_RUNTIME_LINE_CHARS + 10)}`);
    expect(long.requestId).toBe("r");
    expect(long.text).toBe(
      `${"x".repeat(MAX_RUNTIME_LINE_CHARS)} … [cut: the line had ${MAX_RUNTIME_LINE_CHARS + 10} characters]`,
    );
    const emoji = parseLine(`${"x".repeat(MAX_RUNTIME_LINE_CHARS - 1)}😀😀`).text;
    expect(emoji.startsWith(`${"x".repeat(MAX_RUNTIME_LINE_CHARS - 1)} …`)).toBe(true);
    expect(emoji.isWellFormed()).toBe(true);
  });
});

/** A sink on a fresh in-memory store and bus; `messages` counts what reached the bus, per deployment. */
async function setup(bytesPerMinute = 1024 * 1024) {
  const { log, lines: logged } = captureLog();
  const runtimeLogs = openSqliteRuntimeLogs(":memory:");
  const bus = memoryBus(log);
  const messages: { deploymentId: string; lines: number }[] = [];
  await bus.consume("runtime-logs", "test", async (value) => {
    const batch = value as { deploymentId: string; lines: unknown[] };
    messages.push({ deploymentId: batch.deploymentId, lines: batch.lines.length });
  });
  let clock = Date.UTC(2025, 0, 1);
  const sink = createLogSink({ runtimeLogs, bus, log }, { bytesPerMinute, flushMs: 50, now: () => clock });
  const read = async (deploymentId: string) =>
    (await runtimeLogs.read(deploymentId, { limit: 10_000 })).reverse();
  return {
    sink,
    runtimeLogs,
    bus,
    messages,
    logged,
    read,
    tick: (ms: number) => {
      clock += ms;
    },
  };
}

describe("the sink", () => {
  test("lines are stored and published in batches: 1,200 lines are 3 messages, not 1,200", async () => {
    const { sink, messages, read, bus } = await setup();
    const source = { deploymentId: crypto.randomUUID(), function: "/api/chatty" };
    for (let i = 0; i < 1200; i++)
      sink.write(source, i % 2 ? "stderr" : "stdout", `[req-${i % 3}] line ${i}`);
    await sink.flush();
    await bus.close();
    const stored = await read(source.deploymentId);
    expect(stored.map((l) => l.text)).toEqual(Array.from({ length: 1200 }, (_, i) => `line ${i}`));
    expect(stored[4]).toMatchObject({ function: "/api/chatty", requestId: "req-1", stream: "stdout" });
    expect(messages.map((m) => m.lines)).toEqual([500, 500, 200]);
    // Ids sort as the lines were printed, even within one millisecond (the clock did not move).
    const ids = stored.map((l) => l.id);
    expect([...ids].sort()).toEqual(ids);
  });

  test("a few lines wait for the timer, then go out together", async () => {
    const { sink, read, messages, bus } = await setup();
    const source = { deploymentId: crypto.randomUUID(), function: "/api/a" };
    sink.write(source, "stdout", "one");
    sink.write(source, "stdout", "two");
    expect(await read(source.deploymentId)).toEqual([]);
    await Bun.sleep(150);
    await bus.close();
    expect((await read(source.deploymentId)).map((l) => l.text)).toEqual(["one", "two"]);
    expect(messages).toEqual([{ deploymentId: source.deploymentId, lines: 2 }]);
  });

  test("a deployment past its budget loses lines, and a note says how many; others are not affected", async () => {
    const { sink, read, tick } = await setup(1000);
    const noisy = { deploymentId: crypto.randomUUID(), function: "/api/noisy" };
    const quiet = { deploymentId: crypto.randomUUID(), function: "/api/quiet" };
    const hundred = (i: number) => `${String(i).padStart(3, "0")}${"x".repeat(97)}`;
    for (let i = 0; i < 25; i++) sink.write(noisy, "stdout", hundred(i));
    sink.write(quiet, "stdout", "still heard");
    await sink.flush();
    const first = await read(noisy.deploymentId);
    expect(first.length).toBe(11);
    expect(first.slice(0, 10).map((l) => l.text.slice(0, 3))).toEqual(
      Array.from({ length: 10 }, (_, i) => String(i).padStart(3, "0")),
    );
    const note = first[10] as RuntimeLogLine;
    expect(note).toMatchObject({ function: "", requestId: null, stream: "system" });
    expect(note.text).toContain("15 line(s) (2 KB) of output were dropped");
    expect(note.text).toContain("1 KB per minute (FUNCTION_LOG_KB_PER_MINUTE)");
    expect((await read(quiet.deploymentId)).map((l) => l.text)).toEqual(["still heard"]);
    // The budget refills over the minute: half a minute later, half of it again.
    tick(30_000);
    for (let i = 25; i < 35; i++) sink.write(noisy, "stdout", hundred(i));
    await sink.flush();
    const later = (await read(noisy.deploymentId)).slice(11);
    expect(later.slice(0, 5).map((l) => l.text.slice(0, 3))).toEqual(["025", "026", "027", "028", "029"]);
    expect(later[5]?.text).toContain("5 line(s)");
  });

  test("a store that fails is logged (once in a while); watchers still get the lines", async () => {
    const { sink, runtimeLogs, messages, logged, bus } = await setup();
    await runtimeLogs.close();
    const source = { deploymentId: crypto.randomUUID(), function: "/api/x" };
    sink.write(source, "stdout", "a");
    await sink.flush();
    sink.write(source, "stdout", "b");
    await sink.flush();
    await bus.close();
    expect(messages.map((m) => m.lines)).toEqual([1, 1]);
    expect(logged.filter((l) => l.msg === "runtime logs: could not store lines; they are lost")).toHaveLength(
      1,
    );
  });

  test("stop flushes what is left; later lines are dropped", async () => {
    const { sink, read } = await setup();
    const source = { deploymentId: crypto.randomUUID(), function: "/api/x" };
    sink.write(source, "stdout", "last words");
    await sink.stop();
    sink.write(source, "stdout", "too late");
    await Bun.sleep(100);
    expect((await read(source.deploymentId)).map((l) => l.text)).toEqual(["last words"]);
  });
});

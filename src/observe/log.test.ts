// The logger: JSON lines a collector can parse (errors with their stack), text for people, levels, console routing.

import { expect, test } from "bun:test";
import { captureLog } from "../testing/metrics.ts";
import { createLogger, type LogLevel, routeConsole } from "./log.ts";

const at = new Date("2030-01-02T03:04:05.000Z");

test("json: one object per line with time, level, msg and the fields; an error keeps its message and stack", () => {
  const written: [string, LogLevel][] = [];
  const log = createLogger({
    format: "json",
    level: "info",
    now: () => at,
    write: (l, lv) => written.push([l, lv]),
  });
  log.info("hello", { requestId: "r-1", n: 2, skipped: undefined });
  log.error("boom", { error: new Error("disk full", { cause: new Error("ENOSPC") }) });
  expect(written.map(([, level]) => level)).toEqual(["info", "error"]);
  expect(JSON.parse(written[0]?.[0] ?? "")).toEqual({
    time: "2030-01-02T03:04:05.000Z",
    level: "info",
    msg: "hello",
    requestId: "r-1",
    n: 2,
  });
  const error = JSON.parse(written[1]?.[0] ?? "").error;
  expect(error).toMatchObject({ name: "Error", message: "disk full", cause: { message: "ENOSPC" } });
  expect(error.stack).toContain("log.test.ts");
  // A newline in a message cannot start a second line.
  log.info("two\nlines");
  expect(written[2]?.[0]).not.toContain("\n");
});

test("fields cannot overwrite time, level or msg; a child adds its fields to every line", () => {
  const { log, lines } = captureLog();
  log.child({ role: "proxy" }).warn("slow", { level: "debug", msg: "forged", ms: 3 });
  expect(lines[0]).toMatchObject({ level: "warn", msg: "slow", role: "proxy", ms: 3 });
});

test("levels below LOG_LEVEL are dropped", () => {
  const { log, lines } = captureLog("warn");
  log.debug("d");
  log.info("i");
  log.warn("w");
  log.error("e");
  expect(lines.map((l) => l.msg)).toEqual(["w", "e"]);
});

test("text: the message as is for info, the level in front otherwise, key=value fields, the stack last", () => {
  const written: string[] = [];
  const log = createLogger({ format: "text", level: "debug", write: (l) => written.push(l) });
  log.info("started", { port: 9000, host: "a b" });
  log.error("failed", { id: "x1", error: new Error("nope") });
  expect(written[0]).toBe('started port=9000 host="a b"');
  expect(written[1]?.split("\n")[0]).toBe("ERROR failed id=x1");
  expect(written[1]).toContain("Error: nope");
});

test("routeConsole sends console.* through the logger until restored", () => {
  const { log, lines } = captureLog();
  const restore = routeConsole(log);
  try {
    console.error("bus: dead letter:", new Error("bad message"));
    console.warn("careful", { a: 1 });
    console.log("plain");
  } finally {
    restore();
  }
  console.log("(not captured: the console is back)");
  expect(lines.map((l) => [l.level, l.msg])).toEqual([
    ["error", "bus: dead letter"],
    ["warn", 'careful {"a":1}'],
    ["info", "plain"],
  ]);
  expect(lines[0]?.error).toMatchObject({ message: "bad message" });
});

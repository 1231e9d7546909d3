// Handler retries: a handler that keeps failing is given up on with one dead-letter line naming the message.

import { expect, test } from "bun:test";
import { captureLog } from "../testing/metrics.ts";
import { memoryBus } from "./bus-memory.ts";
import { handleBatchWithRetry, handleWithRetry, isUnavailable } from "./retry.ts";

const QUICK = { attempts: 3, backoffMs: 1, maxBackoffMs: 2, outageMs: 0, maxOutageBackoffMs: 2 };
/** Waits out an unreachable backend for up to 200 ms. */
const PATIENT = { ...QUICK, outageMs: 200 };

/** An error as postgres.js raises it when the server went away (code on the error itself). */
function connectionError(code = "ECONNREFUSED"): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:54329`), { code });
}

test("a handler that always fails is called `attempts` times, then logged as a dead letter with its fields", async () => {
  const { log, lines } = captureLog();
  let calls = 0;
  await handleWithRetry(
    async () => {
      calls++;
      throw new Error("poison");
    },
    {
      where: () => ({ topic: "build-events", group: "workers", key: "d1", offset: 42n }),
      log,
      policy: QUICK,
    },
  );
  expect(calls).toBe(3);
  expect(lines).toEqual([
    {
      time: expect.any(String),
      level: "error",
      msg: "bus: dead letter: handler failed, message skipped",
      topic: "build-events",
      group: "workers",
      key: "d1",
      offset: "42",
      attempts: 3,
      error: expect.objectContaining({ name: "Error", message: "poison" }),
    },
  ]);
});

test("a handler that recovers within its attempts leaves no line, and `where` is not even asked", async () => {
  const { log, lines } = captureLog();
  let calls = 0;
  let asked = false;
  await handleWithRetry(
    async () => {
      if (++calls < 3) throw new Error("flaky");
    },
    {
      where: () => {
        asked = true;
        return {};
      },
      log,
      policy: QUICK,
    },
  );
  expect(calls).toBe(3);
  expect(lines).toEqual([]);
  expect(asked).toBe(false);
});

test("memory bus: a message whose handler keeps failing is skipped with a dead letter in the bus's log", async () => {
  const { log, lines } = captureLog();
  const bus = memoryBus(log);
  const handled: unknown[] = [];
  const sub = await bus.consume("route-changes", "proxy-x", async (value) => {
    if (value === "bad") throw new Error("cannot apply");
    handled.push(value);
  });
  await bus.publish("route-changes", "p1", "bad");
  await bus.publish("route-changes", "p1", "good");
  await sub.stop();
  expect(handled).toEqual(["good"]);
  expect(lines).toEqual([
    expect.objectContaining({
      level: "error",
      msg: "bus: dead letter: handler failed, message skipped",
      topic: "route-changes",
      group: "proxy-x",
      key: "p1",
      attempts: 5,
    }),
  ]);
}, 10_000);

test("errors of a backend that cannot be reached are told from others, through wrapped causes too", () => {
  expect(isUnavailable(connectionError())).toBe(true);
  expect(isUnavailable(connectionError("CONNECTION_CLOSED"))).toBe(true);
  expect(isUnavailable(Object.assign(new Error("terminating connection"), { code: "57P01" }))).toBe(true);
  expect(isUnavailable(new Error("fetch failed", { cause: new Error("socket hang up") }))).toBe(true);
  expect(isUnavailable(Object.assign(new Error("x"), { name: "KafkaJSConnectionError" }))).toBe(true);
  expect(isUnavailable(new Error("duplicate key value violates unique constraint"))).toBe(false);
  expect(isUnavailable(Object.assign(new Error("syntax"), { code: "42601" }))).toBe(false);
  expect(isUnavailable("poison")).toBe(false);
  expect(isUnavailable(null)).toBe(false);
});

test("a handler failing because its backend is down waits for it past `attempts`, without a dead letter", async () => {
  const { log, lines } = captureLog();
  let calls = 0;
  const done = await handleWithRetry(
    async () => {
      if (++calls < 10) throw connectionError();
    },
    { where: () => ({ key: "d1" }), log, policy: PATIENT },
  );
  expect(done).toBe(true);
  expect(calls).toBe(10);
  expect(lines).toEqual([
    expect.objectContaining({
      level: "warn",
      msg: "bus: a backend is unreachable; the message waits for it",
    }),
  ]);
});

test("an outage longer than `outageMs` ends in a dead letter after the usual attempts", async () => {
  const { log, lines } = captureLog();
  let calls = 0;
  await handleWithRetry(
    async () => {
      calls++;
      throw connectionError();
    },
    { where: () => ({ key: "d1" }), log, policy: { ...PATIENT, outageMs: 30 } },
  );
  expect(calls).toBeGreaterThan(3);
  expect(lines.at(-1)).toEqual(
    expect.objectContaining({ level: "error", msg: "bus: dead letter: handler failed, message skipped" }),
  );
});

test("a batch waiting for its backend is abandoned, not marked done, when its consumer stops", async () => {
  const { log, lines } = captureLog();
  let stopping = false;
  setTimeout(() => {
    stopping = true;
  }, 20);
  const done = await handleBatchWithRetry(
    [1, 2],
    async () => {
      throw connectionError("ECONNRESET");
    },
    { where: () => ({ key: "d1" }), log, policy: { ...PATIENT, outageMs: 60_000 }, abandon: () => stopping },
  );
  expect(done).toBe(false);
  expect(lines.map((l) => l.msg)).toEqual(["bus: a backend is unreachable; the messages wait for it"]);
});

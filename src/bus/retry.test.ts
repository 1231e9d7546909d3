// Handler retries: a handler that keeps failing is given up on with one dead-letter line naming the message.

import { expect, test } from "bun:test";
import { captureLog } from "../testing/metrics.ts";
import { memoryBus } from "./bus-memory.ts";
import { handleWithRetry } from "./retry.ts";

const QUICK = { attempts: 3, backoffMs: 1, maxBackoffMs: 2 };

test("a handler that always fails is called `attempts` times, then logged as a dead letter with its fields", async () => {
  const { log, lines } = captureLog();
  let calls = 0;
  await handleWithRetry(
    async () => {
      calls++;
      throw new Error("poison");
    },
    () => ({ topic: "build-events", group: "workers", key: "d1", offset: 42n }),
    log,
    QUICK,
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
    () => {
      asked = true;
      return {};
    },
    log,
    QUICK,
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

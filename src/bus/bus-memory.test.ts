// The in-process bus: every group gets every message, as copies; one consumer per group (the queue: keyed.test.ts).

import { expect, test } from "bun:test";
import { memoryBus } from "./bus-memory.ts";

test("memory bus: every subscribed group gets every message, in order per key, as copies", async () => {
  const bus = memoryBus();
  const a: unknown[] = [];
  const b: unknown[] = [];
  const subA = await bus.consume("route-changes", "proxy-a", async (v) => void a.push(v));
  const original = { n: 1 };
  await bus.publish("route-changes", "p1", original);
  const subB = await bus.consume("route-changes", "proxy-b", async (v) => void b.push(v));
  await bus.publish("route-changes", "p1", { n: 2 });
  await subA.stop();
  await subB.stop();
  expect(a).toEqual([{ n: 1 }, { n: 2 }]);
  expect(b).toEqual([{ n: 2 }]);
  expect(a[0]).not.toBe(original);
});

test("memory bus: one consumer per group", async () => {
  const bus = memoryBus();
  const sub = await bus.consume("build-events", "workers", async () => {});
  await expect(bus.consume("build-events", "workers", async () => {})).rejects.toThrow(
    "already has a consumer",
  );
  await sub.stop();
});

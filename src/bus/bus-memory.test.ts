// The in-process bus and its keyed queue: per-key order, cross-key concurrency, backlog before subscribe.

import { expect, test } from "bun:test";
import { memoryBus } from "./bus-memory.ts";
import { keyedQueue } from "./keyed.ts";

test("keyed queue: strict order within a key, concurrency across keys, bounded", async () => {
  const seen = new Map<string, number[]>();
  let running = 0;
  let peak = 0;
  const queue = keyedQueue<number>(4, async (n, key) => {
    running++;
    peak = Math.max(peak, running);
    // Random delays would reorder a naive pool; per-key order must survive them.
    await Bun.sleep(Math.random() * 5);
    seen.set(key, [...(seen.get(key) ?? []), n]);
    running--;
  });
  for (let i = 0; i < 50; i++) for (const key of ["a", "b", "c", "d", "e", "f"]) queue.push(key, i);
  await queue.drain();
  for (const key of ["a", "b", "c", "d", "e", "f"])
    expect(seen.get(key)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  expect(peak).toBeGreaterThan(1);
  expect(peak).toBeLessThanOrEqual(4);
  expect(queue.size).toBe(0);
});

test("keyed queue: a failing handler does not stop its key", async () => {
  const handled: number[] = [];
  const queue = keyedQueue<number>(2, async (n) => {
    if (n === 1) throw new Error("boom");
    handled.push(n);
  });
  for (const n of [0, 1, 2]) queue.push("k", n);
  await queue.drain();
  expect(handled).toEqual([0, 2]);
});

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

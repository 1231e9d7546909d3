// The keyed queue under every bus: per-key order, cross-key concurrency, batches of a key's waiting items.

import { expect, test } from "bun:test";
import { createLogger, type LogLevel } from "../observe/log.ts";
import { keyedQueue } from "./keyed.ts";

/** A real logger whose lines the test can read. */
function captured() {
  const lines: { line: string; level: LogLevel }[] = [];
  const log = createLogger({
    format: "json",
    level: "debug",
    write: (line, level) => lines.push({ line, level }),
  });
  return { log, lines };
}

function gate() {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

test("one at a time (maxBatch 1): strict order within a key, concurrency across keys, bounded", async () => {
  const seen = new Map<string, number[]>();
  let running = 0;
  let peak = 0;
  const queue = keyedQueue<number>({ concurrency: 4, log: captured().log }, async (items, key) => {
    expect(items.length).toBe(1);
    running++;
    peak = Math.max(peak, running);
    // Random delays would reorder a naive pool; per-key order must survive them.
    await Bun.sleep(Math.random() * 5);
    seen.set(key, [...(seen.get(key) ?? []), ...items]);
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

test("batches: a key's waiting items come together, in order, never two batches of a key at once", async () => {
  const batches = new Map<string, number[][]>();
  const busy = new Set<string>();
  let running = 0;
  let peak = 0;
  const keys = ["a", "b", "c", "d", "e", "f"];
  const queue = keyedQueue<number>(
    { concurrency: 3, maxBatch: 7, log: captured().log },
    async (items, key) => {
      expect(busy.has(key)).toBe(false);
      busy.add(key);
      running++;
      peak = Math.max(peak, running);
      await Bun.sleep(Math.random() * 5);
      batches.set(key, [...(batches.get(key) ?? []), items]);
      running--;
      busy.delete(key);
    },
  );
  // Pushed over time, as messages arrive: each key's items pile up while its batch runs.
  for (let i = 0; i < 60; i++) {
    for (const key of keys) queue.push(key, i);
    if (i % 10 === 0) await Bun.sleep(2);
  }
  await queue.drain();
  const all = [...batches.values()].flat();
  for (const key of keys) expect(batches.get(key)?.flat()).toEqual(Array.from({ length: 60 }, (_, i) => i));
  expect(Math.max(...all.map((b) => b.length))).toBe(7);
  expect(all.length).toBeLessThan(keys.length * 60);
  expect(peak).toBeGreaterThan(1);
  expect(peak).toBeLessThanOrEqual(3);
  expect(queue.size).toBe(0);
});

test("batches: what is pushed while a key runs is its next batch, cut at maxBatch; size counts every item", async () => {
  const batches: number[][] = [];
  const first = gate();
  const queue = keyedQueue<number>({ concurrency: 2, maxBatch: 500, log: captured().log }, async (items) => {
    if (items[0] === 0) await first.opened;
    batches.push(items);
  });
  queue.push("k", 0);
  await Bun.sleep(1); // the first batch starts with the one item there is
  for (let i = 1; i <= 1_200; i++) queue.push("k", i);
  expect(queue.size).toBe(1_201);
  first.open();
  await queue.drain();
  expect(batches.map((b) => b.length)).toEqual([1, 500, 500, 200]);
  expect(batches.flat()).toEqual(Array.from({ length: 1_201 }, (_, i) => i));
  expect(queue.size).toBe(0);
});

test("batches: items pushed in one tick form one batch (a fetched Kafka batch)", async () => {
  const batches: number[][] = [];
  const queue = keyedQueue<number>({ concurrency: 1, maxBatch: 100, log: captured().log }, async (items) => {
    batches.push(items);
  });
  for (let i = 0; i < 30; i++) queue.push("k", i);
  await queue.drain();
  expect(batches).toEqual([Array.from({ length: 30 }, (_, i) => i)]);
});

test("a rejected batch is logged with its key and does not stop the key", async () => {
  const { log, lines } = captured();
  const handled: number[] = [];
  const first = gate();
  const queue = keyedQueue<number>({ concurrency: 2, maxBatch: 10, log }, async (items) => {
    if (items[0] === 0) await first.opened;
    if (items.includes(1)) throw new Error("boom");
    handled.push(...items);
  });
  queue.push("k", 0);
  await Bun.sleep(1);
  queue.push("k", 1);
  queue.push("k", 2);
  first.open();
  await queue.drain();
  // The queue itself never retries (the buses wrap handlers in retry.ts): the failed batch [1, 2] is gone.
  await Bun.sleep(1);
  queue.push("k", 3);
  await queue.drain();
  expect(handled).toEqual([0, 3]);
  const errors = lines.filter((l) => l.level === "error").map((l) => JSON.parse(l.line));
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatchObject({ msg: "bus: handler failed", key: "k", messages: 2 });
  expect(errors[0].error.message).toBe("boom");
});

test("bad limits are refused", () => {
  const log = captured().log;
  expect(() => keyedQueue({ concurrency: 0, log }, async () => {})).toThrow("concurrency");
  expect(() => keyedQueue({ concurrency: 1, maxBatch: 0, log }, async () => {})).toThrow("maxBatch");
});

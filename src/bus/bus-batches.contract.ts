// The bus contract for batch consumers (consumeBatches): a key's waiting messages together and in order, a failing
// batch handed over again whole, a poison message skipped alone, a running batch still counted in the lag. Run
// against every Bus implementation beside bus.contract.ts.

import { describe, expect, test } from "bun:test";
import { type BusUnderTest, caseKit, isMessage, publishAll, until } from "./bus.contract.ts";

export function busBatchesContract(bus: BusUnderTest): void {
  const { topic, fresh, keysOf, timeout } = caseKit(bus);

  describe(`bus contract, batches: ${bus.name}`, () => {
    test(
      "consumeBatches: a key's waiting messages come together, in order, at most maxBatch, concurrent across keys",
      async () => {
        const b = await bus.open();
        const run = fresh();
        const keys = keysOf(run, 4);
        const batches = new Map<string, number[][]>();
        let running = 0;
        let peak = 0;
        const sub = await b.consumeBatches(
          topic,
          `t-${run}`,
          async (values, key) => {
            const mine = values.filter((v) => isMessage(v, run));
            if (mine.length === 0) return;
            running++;
            peak = Math.max(peak, running);
            // Slow enough that a key's next messages are waiting when its turn comes again.
            await Bun.sleep(30);
            batches.set(key, [...(batches.get(key) ?? []), mine.map((m) => m.n)]);
            running--;
          },
          { concurrency: 3, maxBatch: 8 },
        );
        await publishAll(b, topic, run, keys, 40);
        const count = () => [...batches.values()].flat(2).length;
        await until("160 messages", bus.timeoutMs, () => count() >= 160);
        await Bun.sleep(200); // room for a duplicate to show up
        await sub.stop();
        const all = [...batches.values()].flat();
        for (const key of keys)
          expect(batches.get(key)?.flat()).toEqual(Array.from({ length: 40 }, (_, i) => i));
        expect(Math.max(...all.map((batch) => batch.length))).toBeLessThanOrEqual(8);
        expect(all.some((batch) => batch.length > 1)).toBe(true);
        expect(all.length).toBeLessThan(160);
        expect(peak).toBeGreaterThan(1);
        expect(peak).toBeLessThanOrEqual(3);
      },
      timeout,
    );

    test(
      "consumeBatches: a batch that throws is handed over again whole: nothing lost, nothing reordered",
      async () => {
        const b = await bus.open();
        const run = fresh();
        const key = `k-${run}`;
        const applied: number[] = [];
        const failedBatches: number[][] = [];
        const sub = await b.consumeBatches(topic, `t-${run}`, async (values) => {
          const mine = values.filter((v) => isMessage(v, run)).map((m) => m.n);
          // The first batch holding message 5 fails once, after "applying" part of it (never recorded here).
          if (mine.includes(5) && failedBatches.length === 0) {
            failedBatches.push(mine);
            await Bun.sleep(5);
            throw new Error("transient failure (expected by the test)");
          }
          await Bun.sleep(10);
          applied.push(...mine);
        });
        await publishAll(b, topic, run, [key], 20);
        await until("20 messages", bus.timeoutMs, () => applied.length >= 20);
        await Bun.sleep(200);
        await sub.stop();
        expect(failedBatches.length).toBe(1);
        expect(applied).toEqual(Array.from({ length: 20 }, (_, i) => i));
      },
      timeout,
    );

    test(
      "consumeBatches: a message that always fails is skipped alone; the rest of its batch is applied in order",
      async () => {
        const b = await bus.open();
        const run = fresh();
        const key = `k-${run}`;
        const applied: number[] = [];
        let release: () => void = () => {};
        const gate = new Promise<void>((resolve) => {
          release = resolve;
        });
        let poisonCalls = 0;
        const sub = await b.consumeBatches(topic, `t-${run}`, async (values) => {
          const mine = values.filter((v) => isMessage(v, run)).map((m) => m.n);
          if (mine.length === 0) return;
          // Message 0 holds the key until all are published, so 1..5 wait and come as one batch.
          if (mine[0] === 0) await gate;
          if (mine.includes(3)) {
            poisonCalls++;
            throw new Error("poison message (expected by the test)");
          }
          applied.push(...mine);
        });
        await publishAll(b, topic, run, [key], 6);
        await Bun.sleep(bus.timeoutMs / 10);
        release();
        await until("the messages around the poison one", bus.timeoutMs + 10_000, () => applied.length >= 5);
        await Bun.sleep(200);
        await sub.stop();
        expect(applied).toEqual([0, 1, 2, 4, 5]);
        // The batch 1..5 whole (its retries), then 3 alone (its own): more than one round of retries.
        expect(poisonCalls).toBeGreaterThan(5);
      },
      timeout + 10_000,
    );

    test(
      "consumeBatches: a batch still running is not handled yet: its messages stay in the lag (uncommitted)",
      async () => {
        const b = await bus.open();
        const run = fresh();
        const key = `k-${run}`;
        const group = `t-${run}`;
        let release: () => void = () => {};
        const gate = new Promise<void>((resolve) => {
          release = resolve;
        });
        let blocked: number[] = [];
        const applied: number[] = [];
        const sub = await b.consumeBatches(topic, group, async (values) => {
          const mine = values.filter((v) => isMessage(v, run)).map((m) => m.n);
          if (mine.length === 0) return;
          if (mine.includes(10) && blocked.length === 0) {
            blocked = mine;
            await gate;
          }
          applied.push(...mine);
        });
        await publishAll(b, topic, run, [key], 20);
        await until("the batch holding message 10", bus.timeoutMs, () => blocked.length > 0);
        await Bun.sleep(1_000); // several of Kafka's commit intervals
        // From the running batch's first message on, nothing is applied: none of it may count as handled.
        const unapplied = 20 - (blocked[0] ?? 0);
        const lag = (await b.lag()).find((l) => l.topic === topic && l.group === group)?.messages ?? 0;
        expect(applied).toEqual(Array.from({ length: blocked[0] ?? 0 }, (_, i) => i));
        expect(lag).toBeGreaterThanOrEqual(unapplied);
        release();
        await until("all 20", bus.timeoutMs, () => applied.length >= 20);
        await sub.stop();
        expect(applied).toEqual(Array.from({ length: 20 }, (_, i) => i));
      },
      timeout + 5_000,
    );
  });
}

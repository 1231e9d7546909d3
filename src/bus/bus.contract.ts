// The bus contract: the same cases run against every Bus implementation (in-process and Kafka). Batch consumers
// (consumeBatches) have theirs in bus-batches.contract.ts, which shares the helpers here.

import { describe, expect, test } from "bun:test";
import type { Bus, Topic } from "./bus.ts";

export interface BusUnderTest {
  name: string;
  /**
   * Another handle on the same bus. For Kafka a new client each call (as another process would be); for the
   * in-process bus one shared instance, since there is nothing to share between instances.
   */
  open(): Promise<Bus>;
  /** Several consumers (on different handles) in one group split the messages: Kafka. */
  sharedGroups: boolean;
  /** A group keeps its position while it has no consumer, so the next consumer resumes there: Kafka. */
  durableGroups: boolean;
  /** Time for messages to arrive; Kafka needs joins, fetches and commits. */
  timeoutMs: number;
}

/** What the cases publish: tagged with the case's run, since topics (and brokers) outlive a test run. */
export interface Message {
  run: string;
  key: string;
  n: number;
}

export function isMessage(value: unknown, run: string): value is Message {
  return typeof value === "object" && value !== null && "run" in value && value.run === run;
}

export async function until(what: string, timeoutMs: number, done: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(10);
  }
}

/** Publishes n messages per key: keys in parallel, each key's messages one after another. */
export async function publishAll(
  bus: Bus,
  topic: Topic,
  run: string,
  keys: string[],
  n: number,
): Promise<void> {
  await Promise.all(
    keys.map(async (key) => {
      for (let i = 0; i < n; i++) await bus.publish(topic, key, { run, key, n: i } satisfies Message);
    }),
  );
}

/** What every case uses: the topic, a fresh run id, keys of a run, and a case's time limit on `bus`. */
export function caseKit(bus: BusUnderTest) {
  return {
    topic: "build-events" as Topic,
    fresh: () => crypto.randomUUID().slice(0, 8),
    keysOf: (run: string, count: number) => Array.from({ length: count }, (_, i) => `${run}-k${i}`),
    timeout: bus.timeoutMs + 15_000,
  };
}

/** Consuming one message at a time; batches are in bus-batches.contract.ts. */
export function busContract(bus: BusUnderTest): void {
  const { topic, fresh, keysOf, timeout } = caseKit(bus);

  describe(`bus contract: ${bus.name}`, () => {
    test(
      "publish then consume: the value and the key come through",
      async () => {
        const b = await bus.open();
        const run = fresh();
        const got: [unknown, string][] = [];
        const sub = await b.consume("route-changes", `t-${run}`, async (value, key) => {
          if (isMessage(value, run)) got.push([value, key]);
        });
        const value = { run, key: `p-${run}`, n: 1, nested: { list: [1, "two", null] } };
        await b.publish("route-changes", `p-${run}`, value);
        await until("the message", bus.timeoutMs, () => got.length === 1);
        await sub.stop();
        expect(got).toEqual([[value, `p-${run}`]]);
      },
      timeout,
    );

    test(
      "publishAll: thousands of one key's messages (past one request's bytes), in order with single publishes",
      async () => {
        const b = await bus.open();
        const run = fresh();
        const key = `${run}-many`;
        const got: number[] = [];
        const sub = await b.consumeBatches(topic, `t-${run}`, async (values) => {
          for (const value of values) if (isMessage(value, run)) got.push(value.n);
        });
        // 3,000 messages of ~1 KB: several producer requests over Kafka.
        const pad = "x".repeat(1000);
        const message = (n: number) => ({ run, key, n, pad });
        await b.publish(topic, key, message(0));
        const batch = Array.from({ length: 3000 }, (_, i) => message(i + 1));
        await Promise.all([b.publishAll(topic, key, batch), b.publish(topic, key, message(3001))]);
        await b.publishAll(topic, key, []);
        await until("every message", bus.timeoutMs + 10_000, () => got.length >= 3002);
        await sub.stop();
        expect(got).toEqual(Array.from({ length: 3002 }, (_, i) => i));
      },
      timeout + 10_000,
    );

    test(
      "lag: what a group has not handled yet counts, and drops to zero once handled (/metrics)",
      async () => {
        const b = await bus.open();
        const run = fresh();
        const group = `t-${run}`;
        let release: () => void = () => {};
        const gate = new Promise<void>((resolve) => {
          release = resolve;
        });
        let handled = 0;
        const sub = await b.consume(topic, group, async (value) => {
          if (!isMessage(value, run)) return;
          await gate;
          handled++;
        });
        const lagOf = async () =>
          (await b.lag()).find((l) => l.topic === topic && l.group === group)?.messages;
        expect(await lagOf()).toBe(0);
        await publishAll(b, topic, run, [`${run}-k`], 3);
        // Kafka's lag is read from the broker and cached a few seconds: the first read after publishing counts.
        let lag = await lagOf();
        const deadline = Date.now() + bus.timeoutMs;
        while (lag !== 3 && Date.now() < deadline) {
          await Bun.sleep(100);
          lag = await lagOf();
        }
        expect(lag).toBe(3);
        release();
        await until("the messages handled", bus.timeoutMs, () => handled === 3);
        const drained = Date.now() + bus.timeoutMs + 10_000;
        while ((await lagOf()) !== 0 && Date.now() < drained) await Bun.sleep(250);
        expect(await lagOf()).toBe(0);
        await sub.stop();
        expect(await lagOf()).toBeUndefined();
      },
      timeout + 10_000,
    );

    test(
      "a new group starts at the end: what was published before it subscribed is not replayed",
      async () => {
        const b = await bus.open();
        const run = fresh();
        const key = `p-${run}`;
        await b.publish("route-changes", key, { run, key, n: 0 } satisfies Message);
        const got: number[] = [];
        const sub = await b.consume("route-changes", `t-${run}`, async (v) => {
          if (isMessage(v, run)) got.push(v.n);
        });
        await b.publish("route-changes", key, { run, key, n: 1 } satisfies Message);
        await until("the message published after subscribing", bus.timeoutMs, () => got.length >= 1);
        await Bun.sleep(200);
        await sub.stop();
        expect(got).toEqual([1]);
      },
      timeout,
    );

    test(
      "in order within a key under random handler delays, concurrent across keys, within the bound",
      async () => {
        const b = await bus.open();
        const run = fresh();
        const keys = keysOf(run, 8);
        const seen = new Map<string, number[]>();
        let running = 0;
        let peak = 0;
        const sub = await b.consume(
          topic,
          `t-${run}`,
          async (value) => {
            if (!isMessage(value, run)) return;
            running++;
            peak = Math.max(peak, running);
            await Bun.sleep(Math.random() * 8);
            seen.set(value.key, [...(seen.get(value.key) ?? []), value.n]);
            running--;
          },
          { concurrency: 4 },
        );
        await publishAll(b, topic, run, keys, 20);
        await until("160 messages", bus.timeoutMs, () => [...seen.values()].flat().length >= 160);
        await sub.stop();
        for (const key of keys) expect(seen.get(key)).toEqual(Array.from({ length: 20 }, (_, i) => i));
        expect(peak).toBeGreaterThan(1);
        expect(peak).toBeLessThanOrEqual(4);
      },
      timeout,
    );

    test(
      "slow handlers of different keys overlap",
      async () => {
        const b = await bus.open();
        const run = fresh();
        let running = 0;
        let peak = 0;
        let handled = 0;
        const sub = await b.consume(topic, `t-${run}`, async (value) => {
          if (!isMessage(value, run)) return;
          running++;
          peak = Math.max(peak, running);
          await Bun.sleep(150);
          running--;
          handled++;
        });
        await publishAll(b, topic, run, keysOf(run, 12), 1);
        await until("12 messages", bus.timeoutMs, () => handled === 12);
        await sub.stop();
        expect(peak).toBeGreaterThan(1);
      },
      timeout,
    );

    test(
      "two groups each get every message",
      async () => {
        const b = await bus.open();
        const run = fresh();
        const a: number[] = [];
        const c: number[] = [];
        const subA = await b.consume("route-changes", `t-${run}-a`, async (v) => {
          if (isMessage(v, run)) a.push(v.n);
        });
        const subC = await b.consume("route-changes", `t-${run}-c`, async (v) => {
          if (isMessage(v, run)) c.push(v.n);
        });
        await publishAll(b, "route-changes", run, [`p-${run}`], 10);
        await until("10 messages in both groups", bus.timeoutMs, () => a.length >= 10 && c.length >= 10);
        await Promise.all([subA.stop(), subC.stop()]);
        const all = Array.from({ length: 10 }, (_, i) => i);
        expect(a).toEqual(all);
        expect(c).toEqual(all);
      },
      timeout,
    );

    test(
      "a handler that throws is retried: the message is not lost and its key keeps its order",
      async () => {
        const b = await bus.open();
        const run = fresh();
        const key = `k-${run}`;
        const handled: number[] = [];
        let failures = 0;
        const sub = await b.consume(topic, `t-${run}`, async (v) => {
          if (!isMessage(v, run)) return;
          if (v.n === 1 && failures === 0) {
            failures++;
            throw new Error("transient failure (expected by the test)");
          }
          handled.push(v.n);
        });
        await publishAll(b, topic, run, [key], 3);
        await until("3 messages", bus.timeoutMs, () => handled.length >= 3);
        await sub.stop();
        expect(failures).toBe(1);
        expect(handled).toEqual([0, 1, 2]);
      },
      timeout,
    );

    test(
      "a message that always fails is given up after bounded retries; the next one of its key still comes",
      async () => {
        const b = await bus.open();
        const run = fresh();
        const handled: number[] = [];
        let attempts = 0;
        const sub = await b.consume(topic, `t-${run}`, async (v) => {
          if (!isMessage(v, run)) return;
          if (v.n === 0) {
            attempts++;
            throw new Error("poison message (expected by the test)");
          }
          handled.push(v.n);
        });
        await publishAll(b, topic, run, [`k-${run}`], 2);
        await until("the message after the poison one", bus.timeoutMs + 5_000, () => handled.length >= 1);
        await sub.stop();
        expect(handled).toEqual([1]);
        expect(attempts).toBeGreaterThan(1);
        expect(attempts).toBeLessThanOrEqual(10);
      },
      timeout + 5_000,
    );

    if (bus.sharedGroups) {
      test(
        "one group, two consumers: the work is split, and together they see every message once",
        async () => {
          const [b1, b2] = [await bus.open(), await bus.open()];
          const run = fresh();
          const group = `t-${run}`;
          const seen: [string, Message][] = [];
          const sub1 = await b1.consume(topic, group, async (v) => {
            if (isMessage(v, run)) seen.push(["one", v]);
          });
          const sub2 = await b2.consume(topic, group, async (v) => {
            if (isMessage(v, run)) seen.push(["two", v]);
          });
          await publishAll(b1, topic, run, keysOf(run, 24), 2);
          await until("48 messages", bus.timeoutMs, () => seen.length >= 48);
          await Bun.sleep(300); // room for a duplicate to show up
          await Promise.all([sub1.stop(), sub2.stop()]);
          const ids = seen.map(([, m]) => `${m.key}/${m.n}`);
          expect(new Set(ids).size).toBe(48);
          expect(ids.length).toBe(48);
          expect(seen.some(([who]) => who === "one")).toBe(true);
          expect(seen.some(([who]) => who === "two")).toBe(true);
        },
        timeout * 2,
      );
    }

    if (bus.durableGroups) {
      test(
        "stop, publish while nobody consumes, then another consumer of the group resumes after the last commit",
        async () => {
          const run = fresh();
          const group = `t-${run}`;
          const key = `k-${run}`;
          const first: number[] = [];
          const b1 = await bus.open();
          const sub1 = await b1.consume(topic, group, async (v) => {
            if (isMessage(v, run)) first.push(v.n);
          });
          for (let n = 0; n < 10; n++) await b1.publish(topic, key, { run, key, n } satisfies Message);
          await until("the first 10", bus.timeoutMs, () => first.length >= 10);
          await sub1.stop();
          for (let n = 10; n < 20; n++) await b1.publish(topic, key, { run, key, n } satisfies Message);

          const second: number[] = [];
          const b2 = await bus.open();
          const sub2 = await b2.consume(topic, group, async (v) => {
            if (isMessage(v, run)) second.push(v.n);
          });
          await until("the next 10", bus.timeoutMs, () => second.length >= 10);
          await Bun.sleep(300);
          await sub2.stop();
          expect(first).toEqual(Array.from({ length: 10 }, (_, i) => i));
          expect(second).toEqual(Array.from({ length: 10 }, (_, i) => i + 10));
        },
        timeout * 2,
      );
    }
  });
}

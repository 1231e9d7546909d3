// Runs the bus contract on a real Kafka broker, then restarts that broker under load; scripts/services.sh
// starts one if needed. Topics are shared across runs: every case uses new groups and tags its messages.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import type { KafkaConfig } from "../config/config.ts";
import { createLogger } from "../observe/log.ts";
import { startService, testService } from "../testing/services.ts";
import { busContract, isMessage, type Message, until } from "./bus.contract.ts";
import type { Bus } from "./bus.ts";
import { busBatchesContract } from "./bus-batches.contract.ts";
import { kafkaBus } from "./bus-kafka.ts";

const pidFile = new URL("../../.services/kafka/kafka.pid", import.meta.url).pathname;

// Setup errors are kept and rethrown by every case, so a missing broker fails the run instead of skipping it.
let brokers: string[] | Error = new Error("beforeAll did not run");
const opened: Bus[] = [];
// The client's warnings and any dead letter stay visible in the test output, as text.
const log = createLogger({ format: "text", level: "info" });

function config(): KafkaConfig {
  if (brokers instanceof Error) throw brokers;
  return {
    brokers,
    clientId: `minivercel-test-${crypto.randomUUID().slice(0, 8)}`,
    username: null,
    password: null,
    saslMechanism: "plain",
    ssl: false,
    topicPrefix: "",
  };
}

async function open(): Promise<Bus> {
  const bus = await kafkaBus(config(), log);
  opened.push(bus);
  return bus;
}

beforeAll(async () => {
  try {
    brokers = testService("kafka")
      .split(",")
      .map((b) => b.trim());
    // One client up front: an unreachable broker then fails every case at once, not each after its retries.
    await open();
  } catch (error) {
    brokers = new Error(
      `no Kafka for the bus tests: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}, 600_000);

afterAll(async () => {
  await Promise.allSettled(opened.map((bus) => bus.close()));
});

/** Gone, or a zombie nobody has reaped yet (its parent may be a shell that already exited). */
function exited(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.startsWith("Z") ?? true;
  } catch {
    return true;
  }
}

const underTest = { name: "kafka", open, sharedGroups: true, durableGroups: true, timeoutMs: 20_000 };
busContract(underTest);
busBatchesContract(underTest);

test("kafka: consumers joining and leaving a group mid-stream lose no message", async () => {
  const publisher = await open();
  const run = crypto.randomUUID().slice(0, 8);
  const group = `t-${run}`;
  const keys = Array.from({ length: 10 }, (_, i) => `${run}-k${i}`);
  // Publishing goes on until both rebalances are over, however long the group takes to settle (a fixed count
  // could all be consumed by the first member before the second is given partitions).
  const sent = new Set<number>();
  let stop = false;
  const deliveries = new Map<number, number>();
  const by = { one: 0, two: 0 };
  const handler = (who: keyof typeof by) => async (value: unknown) => {
    if (!isMessage(value, run)) return;
    await Bun.sleep(Math.random() * 10);
    deliveries.set(value.n, (deliveries.get(value.n) ?? 0) + 1);
    by[who]++;
  };
  const sub1 = await (await open()).consume("build-events", group, handler("one"));
  const publishing = Promise.all(
    keys.map(async (key, k) => {
      for (let n = k; !stop && n < 20_000; n += keys.length) {
        await publisher.publish("build-events", key, { run, key, n } satisfies Message);
        sent.add(n);
        await Bun.sleep(40);
      }
    }),
  );
  try {
    // A second member joins (a rebalance with messages in flight), then the first leaves (another one).
    await until("40 messages", 30_000, () => deliveries.size >= 40);
    const sub2 = await (await open()).consume("build-events", group, handler("two"));
    await until("the second member at work", 60_000, () => by.two >= 10);
    await sub1.stop();
    const afterLeave = by.two;
    await until("the second member alone at work", 60_000, () => by.two >= afterLeave + 40);
    stop = true;
    await publishing;
    await until(`all ${sent.size} messages`, 30_000, () => deliveries.size === sent.size);
    await sub2.stop();
  } finally {
    stop = true;
  }
  const duplicates = [...deliveries.values()].reduce((sum, count) => sum + count - 1, 0);
  console.error(
    `bus-kafka rebalance: ${sent.size} messages, ${duplicates} duplicate deliveries, split ${by.one}/${by.two}`,
  );
  expect([...deliveries.keys()].sort((a, b) => a - b)).toEqual([...sent].sort((a, b) => a - b));
  expect(by.one).toBeGreaterThanOrEqual(40);
}, 240_000);

test("kafka: a broker restart while publishing and consuming loses no message", async () => {
  if (!existsSync(pidFile)) {
    throw new Error(
      `the restart test needs the broker of \`bash scripts/services.sh kafka\` (no ${pidFile})`,
    );
  }
  const publisher = await open();
  const consumer = await open();
  const run = crypto.randomUUID().slice(0, 8);
  const keys = Array.from({ length: 6 }, (_, i) => `${run}-k${i}`);
  const total = 300;
  const deliveries = new Map<number, number>();
  const order = new Map<string, number[]>();
  const sub = await consumer.consume("build-events", `t-${run}`, async (value) => {
    if (!isMessage(value, run)) return;
    const { key, n } = value;
    deliveries.set(n, (deliveries.get(n) ?? 0) + 1);
    order.set(key, [...(order.get(key) ?? []), n]);
  });

  // One publisher per key, each awaiting its sends; a send that fails outright (retries spent) is sent again.
  let failedSends = 0;
  const publishing = Promise.all(
    keys.map(async (key, k) => {
      for (let n = k; n < total; n += keys.length) {
        for (;;) {
          try {
            await publisher.publish("build-events", key, { run, key, n } satisfies Message);
            break;
          } catch {
            failedSends++;
            await Bun.sleep(200);
          }
        }
        await Bun.sleep(15);
      }
    }),
  );

  await until("some messages before the restart", 20_000, () => deliveries.size >= 50);
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  const stoppedAt = Date.now();
  process.kill(pid, "SIGTERM");
  await until("the broker to exit", 30_000, () => exited(pid));
  const exitMs = Date.now() - stoppedAt;
  startService("kafka");
  const downMs = Date.now() - stoppedAt;

  await publishing;
  await until(`all ${total} messages after the restart`, 45_000, () => deliveries.size === total);
  await sub.stop();

  const duplicates = [...deliveries.values()].reduce((sum, count) => sum + count - 1, 0);
  console.error(
    `bus-kafka restart: broker exited after ${exitMs} ms, down ${downMs} ms, ${total} messages, ${duplicates} duplicate deliveries, ` +
      `${failedSends} sends retried by the test`,
  );
  // At least once: every message arrived; duplicates are allowed. Per key, first deliveries keep their order.
  expect([...deliveries.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i));
  for (const [, seen] of order) {
    const first = seen.filter((n, i) => seen.indexOf(n) === i);
    expect(first).toEqual([...first].sort((a, b) => a - b));
  }
}, 120_000);

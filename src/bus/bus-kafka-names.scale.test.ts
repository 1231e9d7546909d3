// Kafka names on a real broker: installations with different KAFKA_TOPIC_PREFIX share a cluster without seeing
// each other, and a process's own (transient) consumer groups are deleted when it stops cleanly.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Admin, ConfigResourceTypes, Kafka } from "kafkajs";
import type { KafkaConfig } from "../config/config.ts";
import { createLogger } from "../observe/log.ts";
import { testService } from "../testing/services.ts";
import { isMessage, until } from "./bus.contract.ts";
import type { Bus } from "./bus.ts";
import { kafkaBus } from "./bus-kafka.ts";

// Setup errors are kept and rethrown by every case, so a missing broker fails the run instead of skipping it.
let brokers: string[] | Error = new Error("beforeAll did not run");
let admin: Admin | null = null;
const opened: Bus[] = [];
/** Prefixes this run created topics under: their topics are deleted at the end, the broker is shared. */
const prefixes: string[] = [];
const log = createLogger({ format: "text", level: "info" });

function adminClient(): Admin {
  if (brokers instanceof Error) throw brokers;
  if (!admin) throw new Error("no admin client");
  return admin;
}

async function open(topicPrefix: string): Promise<Bus> {
  if (brokers instanceof Error) throw brokers;
  const config: KafkaConfig = {
    brokers,
    clientId: `minivercel-test-${crypto.randomUUID().slice(0, 8)}`,
    username: null,
    password: null,
    saslMechanism: "plain",
    ssl: false,
    topicPrefix,
  };
  if (!prefixes.includes(topicPrefix)) prefixes.push(topicPrefix);
  const bus = await kafkaBus(config, log);
  opened.push(bus);
  return bus;
}

async function groups(): Promise<string[]> {
  return (await adminClient().listGroups()).groups.map((g) => g.groupId);
}

beforeAll(async () => {
  try {
    brokers = testService("kafka")
      .split(",")
      .map((b) => b.trim());
    admin = new Kafka({ clientId: "minivercel-test-admin", brokers, connectionTimeout: 3_000 }).admin();
    await admin.connect();
  } catch (error) {
    brokers = new Error(
      `no Kafka for the bus tests: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}, 600_000);

afterAll(async () => {
  await Promise.allSettled(opened.map((bus) => bus.close()));
  if (!admin) return;
  const topics = (await admin.listTopics()).filter((t) => prefixes.some((p) => t.startsWith(p)));
  await admin.deleteTopics({ topics }).catch((error: unknown) => {
    console.error("bus-kafka-names: could not delete this run's topics:", error);
  });
  await admin.disconnect();
});

test("kafka: buses with different topic prefixes share a broker without seeing each other", async () => {
  const run = crypto.randomUUID().slice(0, 8);
  const [a, b] = [`t-${run}-a.`, `t-${run}-b.`];
  const publisherA = await open(a);
  const consumerA = await open(a);
  const consumerB = await open(b);
  const seenA: string[] = [];
  const seenB: string[] = [];
  // The same logical group and key on both sides: only the prefix keeps them apart.
  const group = `t-${run}`;
  const key = `${run}-k`;
  const record = (seen: string[]) => async (value: unknown) => {
    if (isMessage(value, run)) seen.push(`${value.key}:${value.n}`);
  };
  const subA = await consumerA.consume("route-changes", group, record(seenA));
  const subB = await consumerB.consume("route-changes", group, record(seenB));

  await publisherA.publish("route-changes", key, { run, key: "a", n: 1 });
  await until("A's message on A's other bus", 20_000, () => seenA.length === 1);
  // B's message goes after A's, on the same key: were the topics one, B would have had A's message first.
  await consumerB.publish("route-changes", key, { run, key: "b", n: 2 });
  await until("B's message on B", 20_000, () => seenB.length === 1);
  await Bun.sleep(1_000); // time for a stray delivery to show

  expect(seenA).toEqual(["a:1"]);
  expect(seenB).toEqual(["b:2"]);
  const topics = await adminClient().listTopics();
  for (const prefix of [a, b]) {
    expect(topics).toContain(`${prefix}build-events`);
    expect(topics).toContain(`${prefix}route-changes`);
    expect(topics).toContain(`${prefix}runtime-logs`);
  }
  // Runtime lines only feed live watchers: the broker keeps them an hour.
  const { resources } = await adminClient().describeConfigs({
    resources: [{ type: ConfigResourceTypes.TOPIC, name: `${a}runtime-logs`, configNames: ["retention.ms"] }],
    includeSynonyms: false,
  });
  expect(resources[0]?.configEntries.find((e) => e.configName === "retention.ms")?.configValue).toBe(
    "3600000",
  );
  const names = await groups();
  expect(names).toContain(`${a}${group}`);
  expect(names).toContain(`${b}${group}`);
  expect(names).not.toContain(group);
  // Lag is reported under the logical names, as the metrics expect.
  expect(await consumerA.lag()).toEqual([{ topic: "route-changes", group, messages: 0 }]);
  await subA.stop();
  await subB.stop();
}, 90_000);

test("kafka: a process's own groups are deleted when it stops cleanly; shared ones stay", async () => {
  const prefix = `t-${crypto.randomUUID().slice(0, 8)}.`;
  const bus = await open(prefix);
  const proxyGroup = `proxy-${crypto.randomUUID()}`;
  const liveGroup = `live-${crypto.randomUUID()}`;
  const nothing = async () => {};
  await bus.consumeBatches("build-events", "workers", nothing);
  // Same kind of name, not declared transient: kept, so only the option decides, never the name.
  const keptGroup = `live-${crypto.randomUUID()}`;
  await bus.consume("build-events", keptGroup, nothing);
  const proxy = await bus.consume("route-changes", proxyGroup, nothing, { transient: true });
  await bus.consume("build-events", liveGroup, nothing, { transient: true });
  const before = await groups();
  for (const group of ["workers", proxyGroup, liveGroup, keptGroup])
    expect(before).toContain(`${prefix}${group}`);

  // Unsubscribing deletes that group alone...
  await proxy.stop();
  const afterStop = await groups();
  expect(afterStop).not.toContain(`${prefix}${proxyGroup}`);
  expect(afterStop).toContain(`${prefix}${liveGroup}`);

  // ...and closing the bus deletes the rest of its transient groups.
  await bus.close();
  const afterClose = await groups();
  expect(afterClose).not.toContain(`${prefix}${liveGroup}`);
  expect(afterClose).toContain(`${prefix}workers`);
  expect(afterClose).toContain(`${prefix}${keptGroup}`);
  await adminClient().deleteGroups([`${prefix}workers`, `${prefix}${keptGroup}`]);
}, 90_000);

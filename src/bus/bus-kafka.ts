// Kafka bus (scale-out): keyed JSON messages on `build-events` and `route-changes`, consumer groups that
// apply messages concurrently across keys and in order per key, committing only what has been applied.

import { type Admin, Kafka, type LogEntry, logLevel, Partitioners, type SASLOptions } from "kafkajs";
import type { KafkaConfig } from "../config.ts";
import type { Bus, ConsumeOptions, Lag, Subscription, Topic } from "./bus.ts";
import { keyedQueue } from "./keyed.ts";
import { type PartitionTrack, partitionTrack } from "./offsets.ts";
import { handleWithRetry } from "./retry.ts";

/** Partitions of each topic when the bus creates it: build events spread over workers, route changes in one order. */
const PARTITIONS: Record<Topic, number> = { "build-events": 12, "route-changes": 1 };
/** Client retries (connects, sends, commits): about half a minute, longer than a broker restart. */
const RETRY = { initialRetryTime: 300, maxRetryTime: 5_000, retries: 10 };
const COMMIT_EVERY_MS = 250;
/** Messages fetched but not yet applied, per subscription, past which fetching waits. */
const MAX_IN_FLIGHT = 1_000;
/** A consumer that crashed on an error kafkajs does not restart from is started again after this. */
const RESTART_AFTER_MS = 5_000;
/** Lag is asked of the broker at most this often (a scrape every few seconds costs two admin requests). */
const LAG_CACHE_MS = 5_000;

type Handler = (value: unknown, key: string) => Promise<void>;

interface Item {
  track: PartitionTrack;
  offset: bigint;
  value: unknown;
}

// kafkajs logs JSON objects by default; one plain line on stderr reads better beside ours. Its Connection
// namespace reports every error response, which the layers above retry and report when it matters.
const logLine = ({ namespace, label, log }: LogEntry) => {
  if (namespace === "Connection") return;
  const error = typeof log.error === "string" ? ` (${log.error})` : "";
  const group = typeof log.groupId === "string" ? ` [${log.groupId}]` : "";
  console.error(`kafka ${label.toLowerCase()}: ${namespace}: ${log.message}${group}${error}`);
};

function sasl(config: KafkaConfig): SASLOptions | undefined {
  if (config.username === null || config.password === null) return undefined;
  const { username, password } = config;
  return { mechanism: config.saslMechanism, username, password };
}

export async function kafkaBus(config: KafkaConfig): Promise<Bus> {
  const kafka = new Kafka({
    clientId: config.clientId,
    brokers: config.brokers,
    ssl: config.ssl,
    sasl: sasl(config),
    retry: RETRY,
    connectionTimeout: 3_000,
    logLevel: logLevel.WARN,
    logCreator: () => logLine,
  });
  const admin = kafka.admin({ retry: RETRY });
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
    retry: RETRY,
  });
  try {
    await admin.connect();
    await createTopics(admin);
    await producer.connect();
  } catch (error) {
    await Promise.allSettled([producer.disconnect(), admin.disconnect()]);
    throw new Error(`bus: cannot use Kafka at ${config.brokers.join(",")}: ${String(error)}`, {
      cause: error,
    });
  }

  // Sends of one key wait for the previous one: a retried send can then never overtake a later one.
  const tails = new Map<string, Promise<void>>();
  const subscriptions = new Set<Subscription>();
  /** What each live subscription consumes, for lag(). */
  const consumed = new Map<Subscription, { topic: Topic; group: string }>();
  let lagCache: { at: number; value: Promise<Lag[]> } | null = null;

  return {
    publish(topic, key, value) {
      const json = JSON.stringify(value);
      if (json === undefined)
        return Promise.reject(new Error(`bus: ${topic} message for ${key} is not JSON`));
      const chain = `${topic}\u0000${key}`;
      const sent = (tails.get(chain) ?? Promise.resolve())
        .catch(() => {})
        .then(() => producer.send({ topic, messages: [{ key, value: json }] }))
        .then(() => {});
      tails.set(chain, sent);
      const forget = () => {
        if (tails.get(chain) === sent) tails.delete(chain);
      };
      sent.then(forget, forget);
      return sent;
    },
    async consume(topic, group, handler, options = {}) {
      const subscription = await joinWithRetries(() =>
        subscribe(kafka, admin, topic, group, handler, options),
      );
      subscriptions.add(subscription);
      consumed.set(subscription, { topic, group });
      lagCache = null; // a new group shows at the next scrape
      return {
        async stop() {
          subscriptions.delete(subscription);
          consumed.delete(subscription);
          lagCache = null;
          await subscription.stop();
        },
      };
    },
    lag() {
      if (lagCache && Date.now() - lagCache.at < LAG_CACHE_MS) return lagCache.value;
      const value = readLag(admin, [...consumed.values()]);
      lagCache = { at: Date.now(), value };
      // A failed read is not cached: the next scrape asks again.
      value.catch(() => {
        if (lagCache?.value === value) lagCache = null;
      });
      return value;
    },
    async close() {
      await Promise.allSettled([...subscriptions].map((s) => s.stop()));
      subscriptions.clear();
      await Promise.allSettled([...tails.values()]);
      await Promise.allSettled([producer.disconnect(), admin.disconnect()]);
    },
  };
}

/** Per group: the partitions' high-water marks minus the group's committed offsets (none committed: 0). */
async function readLag(admin: Admin, pairs: { topic: Topic; group: string }[]): Promise<Lag[]> {
  const topics = [...new Set(pairs.map((p) => p.topic))];
  const ends = new Map(
    await Promise.all(topics.map(async (t) => [t, await admin.fetchTopicOffsets(t)] as const)),
  );
  return Promise.all(
    pairs.map(async ({ topic, group }) => {
      const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      let messages = 0;
      for (const end of ends.get(topic) ?? []) {
        const committed = Number(
          offsets?.partitions.find((p) => p.partition === end.partition)?.offset ?? -1,
        );
        if (committed >= 0) messages += Math.max(0, Number(end.high) - committed);
      }
      return { topic, group, messages };
    }),
  );
}

/** How long a consumer keeps trying to join while the broker's group coordinator is not ready yet. */
const JOIN_ATTEMPTS = 20;

/**
 * A freshly started broker answers "coordinator is loading" (or not available) for a while; that is a
 * reason to wait, not to fail the process. Anything else, or a broker that never gets ready, is thrown.
 */
async function joinWithRetries<T>(join: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await join();
    } catch (error) {
      const retriable =
        (typeof error === "object" && error !== null && "retriable" in error && error.retriable === true) ||
        /coordinator|rebalanc|not the leader|leader not available/i.test(String(error));
      if (!retriable || attempt >= JOIN_ATTEMPTS) throw error;
      await Bun.sleep(Math.min(500 * attempt, 3000));
    }
  }
}

async function createTopics(admin: Admin): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = (Object.keys(PARTITIONS) as Topic[])
    .filter((topic) => !existing.has(topic))
    .map((topic) => ({ topic, numPartitions: PARTITIONS[topic] }));
  if (missing.length === 0) return;
  // Another process may create them at the same moment; only a topic still missing is an error.
  await admin.createTopics({ topics: missing, waitForLeaders: true }).catch(async (error: unknown) => {
    const now = new Set(await admin.listTopics());
    if (missing.some(({ topic }) => !now.has(topic))) throw error;
  });
}

/**
 * Where a group without a commit for a partition starts: the end of the partition as it is now, so the group
 * sees every message published from the time it subscribed, even when its first assignment comes later.
 */
async function startOffsets(admin: Admin, topic: Topic, group: string): Promise<Map<number, bigint>> {
  const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  const unset = new Set(
    (offsets?.partitions ?? []).filter((p) => Number(p.offset) < 0).map((p) => p.partition),
  );
  if (unset.size === 0) return new Map();
  const ends = await admin.fetchTopicOffsets(topic);
  return new Map(ends.filter((p) => unset.has(p.partition)).map((p) => [p.partition, BigInt(p.high)]));
}

function decode(value: Buffer | null): { value: unknown } | null {
  if (value === null) return null;
  try {
    return { value: JSON.parse(value.toString("utf8")) };
  } catch {
    return null;
  }
}

async function subscribe(
  kafka: Kafka,
  admin: Admin,
  topic: Topic,
  group: string,
  handler: Handler,
  options: ConsumeOptions,
): Promise<Subscription> {
  const starts = await startOffsets(admin, topic, group);
  const consumer = kafka.consumer({
    groupId: group,
    allowAutoTopicCreation: false,
    heartbeatInterval: 1_000,
    maxWaitTimeInMs: 500,
    retry: RETRY,
  });
  // The partitions this consumer holds now, the only ones it commits; a revoked track's messages still run.
  const tracks = new Map<number, PartitionTrack>();
  let stopping = false;
  let progress: (() => void)[] = [];
  const wake = () => {
    for (const resolve of progress) resolve();
    progress = [];
  };

  const queue = keyedQueue<Item>(options.concurrency ?? 50, async (item, key) => {
    // Stopping: not applied and not marked done, so the next consumer of the group reads it again. A message
    // of a partition revoked meanwhile is still applied (its new owner may apply it too: at least once).
    if (stopping) return;
    await handleWithRetry(
      () => handler(item.value, key),
      () => `${topic}[${item.track.partition}]@${item.offset} (group ${group}, key ${key})`,
    );
    item.track.done(item.offset);
    wake();
  });

  // One commit at a time, each up to what every partition has applied without a gap.
  let flushing = Promise.resolve();
  const flush = () => {
    flushing = flushing.then(async () => {
      const due = [...tracks.values()].flatMap((track) => {
        const offset = track.due();
        return offset === null ? [] : [{ track, offset }];
      });
      if (due.length === 0) return;
      try {
        await consumer.commitOffsets(
          due.map(({ track, offset }) => ({ topic, partition: track.partition, offset: offset.toString() })),
        );
        for (const { track, offset } of due) track.committed(offset);
      } catch (error) {
        // Safe to leave: what is not committed is read again after a restart or a rebalance.
        console.error(
          `bus: commit for group ${group} on ${topic} failed, retried on the next one: ${String(error)}`,
        );
      }
    });
    return flushing;
  };
  const timer = setInterval(() => void flush(), COMMIT_EVERY_MS);

  // A partition the group never committed starts where it ended when consume() was called. Whether it is
  // still uncommitted is asked once it is assigned (another member may have committed it meanwhile), with
  // the partition paused until then so no fetch runs ahead.
  let generation = 0;
  let pinning = Promise.resolve();
  const pin = async (partitions: number[], at: number) => {
    const [offsets] = await admin
      .fetchOffsets({ groupId: group, topics: [topic] })
      .catch((error: unknown) => {
        console.error(
          `bus: group ${group} on ${topic}: could not read its offsets, starting at the end: ${String(error)}`,
        );
        return [];
      });
    if (at !== generation) return; // reassigned meanwhile: the newer assignment pins again
    for (const partition of partitions) {
      const committed = offsets?.partitions.find((p) => p.partition === partition)?.offset ?? "-1";
      const start = Number(committed) < 0 && offsets ? (starts.get(partition) ?? null) : null;
      tracks.set(partition, partitionTrack(partition, start));
      if (start !== null) consumer.seek({ topic, partition, offset: start.toString() });
      starts.delete(partition);
    }
    consumer.resume([{ topic, partitions }]);
  };

  let joined = false;
  // kafkajs emits this synchronously after each sync, before the first fetch of the new assignment.
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    generation++;
    const assigned = new Set(payload.memberAssignment[topic] ?? []);
    for (const partition of tracks.keys()) if (!assigned.has(partition)) tracks.delete(partition);
    const unpinned: number[] = [];
    for (const partition of assigned) {
      if (tracks.has(partition)) continue;
      if (starts.has(partition)) unpinned.push(partition);
      else tracks.set(partition, partitionTrack(partition));
    }
    if (unpinned.length > 0) {
      consumer.pause([{ topic, partitions: unpinned }]);
      const at = generation;
      pinning = pin(unpinned, at).catch((error: unknown) => {
        console.error(`bus: group ${group} on ${topic}: pinning start offsets failed: ${String(error)}`);
      });
    }
    joined = true;
  });

  const run = () =>
    consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const track = tracks.get(batch.partition);
        if (!track) return;
        for (const message of batch.messages) {
          if (stopping || !isRunning() || isStale()) return;
          const offset = BigInt(message.offset);
          if (track.take(offset)) {
            const key = message.key?.toString("utf8") ?? "";
            const decoded = decode(message.value);
            if (decoded) queue.push(key, { track, offset, value: decoded.value });
            else {
              console.error(
                `bus: dead letter: ${topic}[${batch.partition}]@${offset} (key ${key}) is not JSON, skipped`,
              );
              track.done(offset);
            }
          }
          resolveOffset(message.offset);
        }
        while (queue.size >= MAX_IN_FLIGHT && !stopping && isRunning()) {
          await Promise.race([new Promise<void>((resolve) => progress.push(resolve)), Bun.sleep(1_000)]);
          await heartbeat();
        }
      },
    });

  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart || stopping) return;
    console.error(`bus: consumer of ${group} on ${topic} stopped (${String(payload.error)}); restarting it`);
    setTimeout(() => {
      if (stopping) return;
      consumer
        .connect()
        .then(run)
        .catch((error: unknown) =>
          console.error(`bus: restarting consumer of ${group} failed: ${String(error)}`),
        );
    }, RESTART_AFTER_MS);
  });

  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: false });
    await run();
    if (!joined) throw new Error(`bus: consumer of ${group} on ${topic} did not join its group`);
    // Start offsets are committed before consume() returns: a rebalance right after cannot skip past them.
    await pinning;
    await flush();
  } catch (error) {
    stopping = true;
    clearInterval(timer);
    await consumer.disconnect().catch(() => {});
    throw error;
  }

  let stopped: Promise<void> | null = null;
  return {
    stop() {
      stopped ??= (async () => {
        // Fetching stops taking messages; running handlers finish; the rest stays uncommitted for the next owner.
        stopping = true;
        clearInterval(timer);
        wake();
        await queue.drain();
        await flush();
        await consumer.disconnect();
      })();
      return stopped;
    },
  };
}

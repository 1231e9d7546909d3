// Kafka bus (scale-out): keyed JSON messages on `build-events`, `route-changes` and `runtime-logs`, consumer groups that
// apply messages concurrently across keys and in order per key, committing only what has been applied.
// Every topic and group name gets the installation's KAFKA_TOPIC_PREFIX, so installations can share a cluster.

import { type Admin, Kafka, logLevel, Partitioners, type SASLOptions } from "kafkajs";
import type { KafkaConfig } from "../config/config.ts";
import type { Logger } from "../observe/log.ts";
import { chunksByWeight } from "../utils/chunks.ts";
import {
  type BatchConsumeOptions,
  type Bus,
  type Lag,
  MAX_BATCH,
  type Subscription,
  type Topic,
} from "./bus.ts";
import { createTopics, deleteTransientGroup, readLag, startOffsets } from "./bus-kafka-admin.ts";
import { kafkaLogCreator } from "./bus-kafka-log.ts";
import { keyedQueue } from "./keyed.ts";
import { type PartitionTrack, partitionTrack } from "./offsets.ts";
import { handleBatchWithRetry } from "./retry.ts";

/** Client retries (connects, sends, commits): about half a minute, longer than a broker restart. */
const RETRY = { initialRetryTime: 300, maxRetryTime: 5_000, retries: 10 };
const COMMIT_EVERY_MS = 250;
/**
 * Messages fetched but not yet applied, per subscription, past which fetching waits: room for a few batches
 * of a chatty build's lines while the previous one is stored.
 */
const MAX_IN_FLIGHT = 10_000;
/** A consumer that crashed on an error kafkajs does not restart from is started again after this. */
const RESTART_AFTER_MS = 5_000;
/** Lag is asked of the broker at most this often (a scrape every few seconds costs two admin requests). */
const LAG_CACHE_MS = 5_000;

type Handler = (values: unknown[], key: string) => Promise<void>;

interface Item {
  track: PartitionTrack;
  offset: bigint;
  value: unknown;
}

/** The SASL settings of KAFKA_USERNAME, KAFKA_PASSWORD and KAFKA_SASL_MECHANISM; none without a user. */
export function sasl(config: KafkaConfig): SASLOptions | undefined {
  if (config.username === null || config.password === null) return undefined;
  const { username, password } = config;
  return { mechanism: config.saslMechanism, username, password };
}

/** `log` gets dead letters, consumer trouble and the client's own warnings. */
export async function kafkaBus(config: KafkaConfig, log: Logger): Promise<Bus> {
  const kafka = new Kafka({
    clientId: config.clientId,
    brokers: config.brokers,
    ssl: config.ssl,
    sasl: sasl(config),
    retry: RETRY,
    connectionTimeout: 3_000,
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(log),
  });
  // The one place logical names become the broker's: every topic and every group id passes through here, so
  // installations with different prefixes never read each other's messages nor join each other's groups.
  const inKafka = (name: string) => `${config.topicPrefix}${name}`;
  const admin = kafka.admin({ retry: RETRY });
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
    retry: RETRY,
  });
  try {
    await admin.connect();
    await createTopics(admin, inKafka);
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

  const consumeBatches: Bus["consumeBatches"] = async (topic, group, handler, options = {}) => {
    const subscription = await joinWithRetries(() =>
      subscribe(
        kafka,
        admin,
        { topic: inKafka(topic), group: inKafka(group) },
        handler,
        options,
        log.child({ topic, group }),
      ),
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
  };

  const bus: Bus = {
    publish(topic, key, value) {
      return bus.publishAll(topic, key, [value]);
    },
    publishAll(topic, key, values) {
      const messages: { key: string; value: string }[] = [];
      for (const value of values) {
        const json = JSON.stringify(value);
        if (json === undefined)
          return Promise.reject(new Error(`bus: ${topic} message for ${key} is not JSON`));
        messages.push({ key, value: json });
      }
      const chain = `${topic}\u0000${key}`;
      const sent = (tails.get(chain) ?? Promise.resolve())
        .catch(() => {})
        .then(async () => {
          // One request per slice that stays well under the broker's default record batch limit (1 MB).
          for (const slice of chunksByWeight(messages, SEND_BYTES, (m) => Buffer.byteLength(m.value) + 64))
            await producer.send({ topic: inKafka(topic), messages: slice });
        });
      tails.set(chain, sent);
      const forget = () => {
        if (tails.get(chain) === sent) tails.delete(chain);
      };
      sent.then(forget, forget);
      return sent;
    },
    consume(topic, group, handler, options = {}) {
      const one: Handler = (values, key) => handler(values[0], key);
      return consumeBatches(topic, group, one, { ...options, maxBatch: 1 });
    },
    consumeBatches,
    lag() {
      if (lagCache && Date.now() - lagCache.at < LAG_CACHE_MS) return lagCache.value;
      const value = readLag(admin, [...consumed.values()], inKafka);
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
  return bus;
}

/** Bytes of message values per producer request (the broker refuses record batches over 1 MB by default). */
const SEND_BYTES = 512 * 1024;

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
  /** The broker's names: prefixed already. */
  { topic, group }: { topic: string; group: string },
  handler: Handler,
  options: BatchConsumeOptions,
  /** Carries the topic and the group already. */
  log: Logger,
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

  const limits = { concurrency: options.concurrency ?? 50, maxBatch: options.maxBatch ?? MAX_BATCH, log };
  const queue = keyedQueue<Item>(limits, async (items, key) => {
    // Stopping: not applied and not marked done, so the next consumer of the group reads them again. Messages
    // of a partition revoked meanwhile are still applied (its new owner may apply them too: at least once).
    if (stopping) return;
    const done = await handleBatchWithRetry(
      items,
      (batch) =>
        handler(
          batch.map((item) => item.value),
          key,
        ),
      {
        where: (batch) => ({
          partition: batch[0]?.track.partition,
          offset: batch[0]?.offset,
          lastOffset: batch.length > 1 ? batch.at(-1)?.offset : undefined,
          key,
        }),
        log,
        // A batch waiting out a backend outage is left to the group's next consumer when this one stops.
        abandon: () => stopping,
      },
    );
    if (!done) return;
    // Only now may the commit point pass them: every message of the batch is applied (or dead-lettered).
    for (const item of items) item.track.done(item.offset);
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
        log.warn("bus: commit failed, retried with the next one", { error });
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
        log.warn("bus: could not read the group's offsets, starting at the end", { partitions, error });
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
        log.error("bus: pinning start offsets failed", { partitions: unpinned, error });
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
              log.error("bus: dead letter: message is not JSON, skipped", {
                partition: batch.partition,
                offset,
                key,
              });
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

  // Until it runs again or is stopped: a broker down for longer than the client's own retries (a minute-long
  // restart) fails a connect too, and a consumer given up on would never apply another message.
  const restart = () =>
    setTimeout(() => {
      if (stopping) return;
      consumer
        .connect()
        .then(run)
        .catch((error: unknown) => {
          log.error("bus: restarting the consumer failed, trying again", {
            error,
            restartInMs: RESTART_AFTER_MS,
          });
          restart();
        });
    }, RESTART_AFTER_MS);
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart || stopping) return;
    log.error("bus: consumer stopped, restarting it", {
      error: payload.error,
      restartInMs: RESTART_AFTER_MS,
    });
    restart();
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
    if (options.transient) await deleteTransientGroup(admin, group, log);
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
        try {
          await consumer.disconnect();
        } finally {
          // Never a shared group (workers): only a group the caller declared this subscription's alone.
          if (options.transient) await deleteTransientGroup(admin, group, log);
        }
      })();
      return stopped;
    },
  };
}

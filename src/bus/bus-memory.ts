// In-process bus: one keyed queue per consumer group; a group sees what is published while it is subscribed.

import { createLogger, type Logger } from "../observe/log.ts";
import { type Bus, MAX_BATCH, type Topic } from "./bus.ts";
import { type KeyedQueue, keyedQueue } from "./keyed.ts";
import { HANDLER_RETRY, handleBatchWithRetry, type RetryPolicy } from "./retry.ts";

/**
 * `log` gets the dead letters (messages skipped after their retries); default: text lines on stderr.
 * `retry` is the handlers' retry policy (tests shorten its waits).
 */
export function memoryBus(
  log: Logger = createLogger({ format: "text", level: "info" }),
  retry: RetryPolicy = HANDLER_RETRY,
): Bus {
  const topics = new Map<Topic, Map<string, KeyedQueue<unknown>>>();
  const groupsOf = (topic: Topic) => {
    let groups = topics.get(topic);
    if (!groups) {
      groups = new Map();
      topics.set(topic, groups);
    }
    return groups;
  };

  const bus: Bus = {
    async publish(topic, key, value) {
      for (const queue of groupsOf(topic).values()) {
        // A copy per group: consumers must not share (or mutate) the publisher's object, as over Kafka.
        queue.push(key, structuredClone(value));
      }
    },
    async publishAll(topic, key, values) {
      // All at once, with no await between: a publish called meanwhile comes after them, as over Kafka. One
      // copy of the whole list per group (a clone per message costs more than the rest of the way to the store).
      for (const queue of groupsOf(topic).values())
        for (const value of structuredClone(values)) queue.push(key, value);
    },
    consume(topic, group, handler, options = {}) {
      const one = (values: unknown[], key: string) => handler(values[0], key);
      return bus.consumeBatches(topic, group, one, { ...options, maxBatch: 1 });
    },
    async consumeBatches(topic, group, handler, options = {}) {
      const groups = groupsOf(topic);
      if (groups.has(group)) throw new Error(`bus: group ${group} already has a consumer on ${topic}`);
      // Same failure handling as over Kafka: retried with backoff, then logged and skipped.
      const queue = keyedQueue<unknown>(
        { concurrency: options.concurrency ?? 50, maxBatch: options.maxBatch ?? MAX_BATCH, log },
        (values, key) =>
          handleBatchWithRetry(values, (batch) => handler(batch, key), {
            where: () => ({ topic, group, key }),
            log,
            policy: retry,
          }).then(() => {}),
      );
      groups.set(group, queue);
      return {
        async stop() {
          groups.delete(group);
          await queue.drain();
        },
      };
    },
    async lag() {
      return [...topics].flatMap(([topic, groups]) =>
        [...groups].map(([group, queue]) => ({ topic, group, messages: queue.size })),
      );
    },
    async close() {
      await Promise.all([...topics.values()].flatMap((groups) => [...groups.values()].map((q) => q.drain())));
    },
  };
  return bus;
}

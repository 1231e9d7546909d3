// In-process bus: one keyed queue per consumer group; a group sees what is published while it is subscribed.

import type { Bus, Topic } from "./bus.ts";
import { type KeyedQueue, keyedQueue } from "./keyed.ts";
import { handleWithRetry } from "./retry.ts";

export function memoryBus(): Bus {
  const topics = new Map<Topic, Map<string, KeyedQueue<unknown>>>();
  const groupsOf = (topic: Topic) => {
    let groups = topics.get(topic);
    if (!groups) {
      groups = new Map();
      topics.set(topic, groups);
    }
    return groups;
  };

  return {
    async publish(topic, key, value) {
      for (const queue of groupsOf(topic).values()) {
        // A copy per group: consumers must not share (or mutate) the publisher's object, as over Kafka.
        queue.push(key, structuredClone(value));
      }
    },
    async consume(topic, group, handler, options = {}) {
      const groups = groupsOf(topic);
      if (groups.has(group)) throw new Error(`bus: group ${group} already has a consumer on ${topic}`);
      // Same failure handling as over Kafka: retried with backoff, then logged and skipped.
      const queue = keyedQueue<unknown>(options.concurrency ?? 50, (value, key) =>
        handleWithRetry(
          () => handler(value, key),
          () => `${topic} (group ${group}, key ${key})`,
        ),
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
}

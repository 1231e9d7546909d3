// Kafka bus: what it asks the broker's admin API: topics to create, where new groups start, lag, group cleanup.

import type { Admin } from "kafkajs";
import type { Logger } from "../observe/log.ts";
import type { Lag, Topic } from "./bus.ts";

/**
 * Partitions of each topic when the bus creates it: build events spread over workers, route changes in one order,
 * runtime lines (read by every api process, in order per deployment) spread like build events, functions nodes'
 * heartbeats (read by every proxy and node) in one, analytics records (stored by the workers) spread by project.
 */
const PARTITIONS: Record<Topic, number> = {
  "build-events": 12,
  "route-changes": 1,
  "runtime-logs": 12,
  "function-nodes": 1,
  analytics: 12,
};
/**
 * Topic settings besides the broker's defaults: runtime lines only feed live watchers (the log store keeps them),
 * so the broker keeps them an hour, not its default week of a chatty function's output; a heartbeat is stale
 * within seconds, so those go after ten minutes; analytics records wait for a worker a day at most.
 */
const SETTINGS: Partial<Record<Topic, { name: string; value: string }[]>> = {
  "runtime-logs": [{ name: "retention.ms", value: String(60 * 60 * 1000) }],
  "function-nodes": [{ name: "retention.ms", value: String(10 * 60 * 1000) }],
  analytics: [{ name: "retention.ms", value: String(24 * 60 * 60 * 1000) }],
};
/**
 * Per group: the partitions' high-water marks minus the group's committed offsets (none committed: 0). Asked
 * under the broker's names (`inKafka`), reported under the logical ones.
 */
export async function readLag(
  admin: Admin,
  pairs: { topic: Topic; group: string }[],
  inKafka: (name: string) => string,
): Promise<Lag[]> {
  const topics = [...new Set(pairs.map((p) => p.topic))];
  const ends = new Map(
    await Promise.all(topics.map(async (t) => [t, await admin.fetchTopicOffsets(inKafka(t))] as const)),
  );
  return Promise.all(
    pairs.map(async ({ topic, group }) => {
      const [offsets] = await admin.fetchOffsets({ groupId: inKafka(group), topics: [inKafka(topic)] });
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

/** kafkajs marks errors worth another try (a topic another process is creating or deleting, a leader moving). */
const retriable = (error: unknown): boolean =>
  typeof error === "object" && error !== null && (error as { retriable?: unknown }).retriable === true;

/**
 * Creates the bus's topics that are missing. The broker's metadata is briefly inconsistent while any topic is
 * created or deleted (by this installation or another on the same broker): such retriable errors are tried again.
 */
export async function createTopics(admin: Admin, inKafka: (name: string) => string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await createMissingTopics(admin, inKafka);
    } catch (error) {
      if (!retriable(error) || attempt >= 5) throw error;
      await Bun.sleep(250 * attempt);
    }
  }
}

async function createMissingTopics(admin: Admin, inKafka: (name: string) => string): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = (Object.keys(PARTITIONS) as Topic[])
    .map((topic) => ({
      topic: inKafka(topic),
      numPartitions: PARTITIONS[topic],
      ...(SETTINGS[topic] && { configEntries: SETTINGS[topic] }),
    }))
    .filter(({ topic }) => !existing.has(topic));
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
export async function startOffsets(admin: Admin, topic: string, group: string): Promise<Map<number, bigint>> {
  const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  const unset = new Set(
    (offsets?.partitions ?? []).filter((p) => Number(p.offset) < 0).map((p) => p.partition),
  );
  if (unset.size === 0) return new Map();
  const ends = await admin.fetchTopicOffsets(topic);
  return new Map(ends.filter((p) => unset.has(p.partition)).map((p) => [p.partition, BigInt(p.high)]));
}

/**
 * A transient group (one process's own, see ConsumeOptions) is deleted once its consumer has left, so it does not
 * linger in the broker. Best effort: a failed delete, or a process that crashed and never got here, leaves the
 * group to the broker, which drops it after offsets.retention.minutes (7 days by default).
 */
export async function deleteTransientGroup(admin: Admin, group: string, log: Logger): Promise<void> {
  try {
    await admin.deleteGroups([group]);
  } catch (error) {
    log.info("bus: could not delete this process's consumer group; the broker drops it after retention", {
      error,
    });
  }
}

// Bus port: build events, route changes, runtime log lines, functions nodes' announcements and the proxies'
// analytics between roles.
// In-process by default, Kafka when configured.

import type { KafkaConfig } from "../config/config.ts";
import { createLogger, type Logger } from "../observe/log.ts";

export type Topic = "build-events" | "route-changes" | "runtime-logs" | "function-nodes" | "analytics";

export interface ConsumeOptions {
  /** Messages handled at once across keys; within a key always one at a time, in order. */
  concurrency?: number;
  /**
   * The group is this subscription's alone (a per-process name such as `proxy-<uuid>`) and worthless once it
   * stops: over Kafka it is deleted on a clean stop instead of lingering in the broker. Never for a group other
   * processes share (`workers`): its position would be lost.
   */
  transient?: boolean;
}

export interface BatchConsumeOptions {
  /** Keys handled at once; within a key always one batch at a time, in order. */
  concurrency?: number;
  /** Most messages in one batch (default 500). */
  maxBatch?: number;
  /** As in ConsumeOptions. */
  transient?: boolean;
}

/** The largest batch consumeBatches hands over unless told otherwise. */
export const MAX_BATCH = 500;

export interface Subscription {
  stop(): Promise<void>;
}

/** How far one of this process's consumer groups is behind on a topic (for /metrics). */
export interface Lag {
  topic: Topic;
  group: string;
  /** Messages published and not yet handled (in-process) or not yet committed (Kafka) by the group. */
  messages: number;
}

export interface Bus {
  /** Sends a message; messages with the same key are delivered in the order they were published. */
  publish(topic: Topic, key: string, value: unknown): Promise<void>;
  /**
   * Sends several messages of one key, in order, in as few requests as the transport allows (a build's log
   * lines arrive by the thousand). Ordered with `publish` calls of the same key.
   */
  publishAll(topic: Topic, key: string, values: unknown[]): Promise<void>;
  /**
   * Delivers each message of `topic` to one consumer of `group` (at least once), in order per key.
   * A handler that throws is retried with backoff; after a few failures the message is logged and skipped.
   * A group name unique to a process makes it see every message (how every proxy learns every route change).
   */
  consume(
    topic: Topic,
    group: string,
    handler: (value: unknown, key: string) => Promise<void>,
    options?: ConsumeOptions,
  ): Promise<Subscription>;
  /**
   * As `consume`, but with the messages of one key that are waiting when its turn comes, in order (at most
   * `maxBatch`); the key's next batch starts when this one settles. The batch counts as handled (committed,
   * over Kafka) only once the handler resolves. A throwing handler gets the batch again with backoff, then each
   * message alone, so only a message that keeps failing is logged and skipped. Handlers must be idempotent.
   */
  consumeBatches(
    topic: Topic,
    group: string,
    handler: (values: unknown[], key: string) => Promise<void>,
    options?: BatchConsumeOptions,
  ): Promise<Subscription>;
  /** The lag of every group this process consumes; Kafka's is read from the broker, cached a few seconds. */
  lag(): Promise<Lag[]>;
  close(): Promise<void>;
}

export type BusConfig = { kind: "memory" } | { kind: "kafka"; kafka: KafkaConfig };

/** `log` gets dead letters, consumer trouble and the Kafka client's own warnings; default: text lines on stderr. */
export async function openBus(
  config: BusConfig,
  log: Logger = createLogger({ format: "text", level: "info" }),
): Promise<Bus> {
  switch (config.kind) {
    case "memory": {
      const { memoryBus } = await import("./bus-memory.ts");
      return memoryBus(log);
    }
    case "kafka": {
      const { kafkaBus } = await import("./bus-kafka.ts");
      return kafkaBus(config.kafka, log);
    }
  }
}

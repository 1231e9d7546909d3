// Bus port: build events and route changes between roles. In-process by default, Kafka when configured.

import type { KafkaConfig } from "../config.ts";

export type Topic = "build-events" | "route-changes";

export interface ConsumeOptions {
  /** Messages handled at once across keys; within a key always one at a time, in order. */
  concurrency?: number;
}

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
  /** The lag of every group this process consumes; Kafka's is read from the broker, cached a few seconds. */
  lag(): Promise<Lag[]>;
  close(): Promise<void>;
}

export type BusConfig = { kind: "memory" } | { kind: "kafka"; kafka: KafkaConfig };

export async function openBus(config: BusConfig): Promise<Bus> {
  switch (config.kind) {
    case "memory": {
      const { memoryBus } = await import("./bus-memory.ts");
      return memoryBus();
    }
    case "kafka": {
      const { kafkaBus } = await import("./bus-kafka.ts");
      return kafkaBus(config.kafka);
    }
  }
}

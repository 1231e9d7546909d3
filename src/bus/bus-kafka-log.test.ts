// The Kafka client's own lines through our logger: levels mapped, extra fields kept, Connection noise dropped.
// No broker needed: the adapter is called as kafkajs calls it.

import { expect, test } from "bun:test";
import { logLevel } from "kafkajs";
import { captureLog } from "../testing/metrics.ts";
import { kafkaLogCreator } from "./bus-kafka-log.ts";

const entry = (namespace: string, level: logLevel, extra: Record<string, unknown> = {}) => ({
  namespace,
  level,
  label: logLevel[level],
  log: { timestamp: "2024-01-01T00:00:00.000Z", logger: "kafkajs", message: "Crash: rebalancing", ...extra },
});

test("kafkajs levels map to ours, with the namespace and kafkajs's fields as fields", () => {
  const { log, lines } = captureLog();
  const write = kafkaLogCreator(log)(logLevel.DEBUG);
  write(entry("Consumer", logLevel.ERROR, { groupId: "workers", error: "The group is rebalancing" }));
  write(entry("Producer", logLevel.WARN));
  write(entry("Admin", logLevel.INFO));
  write(entry("Cluster", logLevel.DEBUG, { broker: "kafka:9092" }));
  expect(lines.map((l) => l.level)).toEqual(["error", "warn", "info", "debug"]);
  expect(lines[0]).toEqual({
    time: expect.any(String),
    level: "error",
    msg: "kafka: Crash: rebalancing",
    namespace: "Consumer",
    groupId: "workers",
    error: "The group is rebalancing",
  });
  expect(lines[3]).toMatchObject({ namespace: "Cluster", broker: "kafka:9092" });
  // kafkajs's own time and logger name are not repeated.
  expect(lines[0]).not.toContainKey("timestamp");
  expect(lines[0]).not.toContainKey("logger");
});

test("the Connection namespace and NOTHING are dropped", () => {
  const { log, lines } = captureLog();
  const write = kafkaLogCreator(log)(logLevel.DEBUG);
  write(entry("Connection", logLevel.ERROR, { error: "Response Metadata(key: 3, version: 6)" }));
  write(entry("Consumer", logLevel.NOTHING));
  expect(lines).toEqual([]);
});

// Kafka bus: kafkajs's own log lines through our structured logger.

import type { LogEntry, logCreator } from "kafkajs";
import { logLevel } from "kafkajs";
import type { LogFields, Logger, LogLevel } from "../observe/log.ts";

/** kafkajs's levels as ours; NOTHING is never logged. */
const LEVELS: Record<logLevel, LogLevel | null> = {
  [logLevel.NOTHING]: null,
  [logLevel.ERROR]: "error",
  [logLevel.WARN]: "warn",
  [logLevel.INFO]: "info",
  [logLevel.DEBUG]: "debug",
};

/**
 * kafkajs's own lines through our logger: its message, its namespace and its extra fields (broker, groupId,
 * error, retryCount...) as fields. Its Connection namespace reports every error response, which the layers
 * above retry and report when it matters, so it is left out.
 */
export function kafkaLogCreator(log: Logger): logCreator {
  return () =>
    ({ namespace, level, log: entry }: LogEntry) => {
      const ours = LEVELS[level];
      if (namespace === "Connection" || !ours) return;
      const fields: LogFields = { namespace };
      for (const [key, value] of Object.entries(entry)) {
        // Our logger stamps its own time; `logger` is always "kafkajs".
        if (key !== "message" && key !== "timestamp" && key !== "logger") fields[key] = value;
      }
      log[ours](`kafka: ${entry.message}`, fields);
    };
}

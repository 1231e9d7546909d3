// Runtime lines to live watchers: the runtime (proxy or functions process) publishes each flush on the bus topic
// `runtime-logs`; every api process feeds its own watchers from it (a group of its own sees every message), the
// one that runs the runtime too. The bus is a trust boundary: messages are validated on receipt.

import {
  MAX_RUNTIME_BATCH_LINES,
  parseRuntimeLogBatch,
  type RuntimeLogBatch,
} from "../../schema/runtime-logs.ts";
import type { Logger } from "../observe/log.ts";
import type { RuntimeLogLine } from "../store/runtime-logs.ts";
import type { Bus, Subscription } from "./bus.ts";
import type { Live } from "./live.ts";

/** One deployment's lines of one flush, oldest first. */
export type RuntimeLiveEvent = { kind: "runtime"; lines: RuntimeLogLine[] };
export type RuntimeLive = Live<RuntimeLiveEvent>;

/** Kafka refuses messages past its message.max.bytes (1 MB by default): a flush goes in parts well under it. */
const MAX_MESSAGE_BYTES = 256 * 1024;

/** Splits a deployment's lines into bus messages of at most MAX_RUNTIME_BATCH_LINES lines and ~256 KB. */
export function runtimeBatches(deploymentId: string, lines: RuntimeLogLine[]): RuntimeLogBatch[] {
  const batches: RuntimeLogBatch[] = [];
  let current: RuntimeLogBatch["lines"] = [];
  let bytes = 0;
  for (const { deploymentId: _, ...entry } of lines) {
    const size = Buffer.byteLength(JSON.stringify(entry));
    if (
      current.length > 0 &&
      (current.length >= MAX_RUNTIME_BATCH_LINES || bytes + size > MAX_MESSAGE_BYTES)
    ) {
      batches.push({ type: "runtime-logs", deploymentId, lines: current });
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) batches.push({ type: "runtime-logs", deploymentId, lines: current });
  return batches;
}

/** Publishes one deployment's flushed lines, in order (keyed by the deployment). */
export async function publishRuntimeLines(
  bus: Bus,
  deploymentId: string,
  lines: RuntimeLogLine[],
): Promise<void> {
  for (const batch of runtimeBatches(deploymentId, lines))
    await bus.publish("runtime-logs", deploymentId, batch);
}

/** Feeds this process's runtime watchers from the bus, for as long as the subscription runs. */
export function startRuntimeLogFeed(deps: {
  bus: Bus;
  runtimeLive: RuntimeLive;
  log: Logger;
}): Promise<Subscription> {
  return deps.bus.consume(
    "runtime-logs",
    `runtime-live-${crypto.randomUUID()}`,
    async (value) => {
      const parsed = parseRuntimeLogBatch(value);
      if (!parsed.ok) {
        deps.log.warn("runtime logs: refused a bus message", { problem: parsed.problem });
        return;
      }
      const { deploymentId, lines } = parsed.batch;
      deps.runtimeLive.publish(deploymentId, {
        kind: "runtime",
        lines: lines.map((line) => ({ ...line, deploymentId })),
      });
    },
    { transient: true },
  );
}

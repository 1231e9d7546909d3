// Web analytics, the worker's side: the proxies' records from the bus (topic `analytics`, shared group
// `analytics`: each message is stored by one worker) into the analytics store, a message per insert batch.
// The bus is a trust boundary: messages are validated on receipt; a refused one is logged and skipped.

import { parseAnalyticsBatch } from "../../schema/analytics.ts";
import type { Subscription } from "../bus/bus.ts";
import type { Deps } from "../deps.ts";

export const ANALYTICS_GROUP = "analytics";

export function startAnalyticsConsumer(deps: Pick<Deps, "bus" | "analytics" | "log">): Promise<Subscription> {
  const log = deps.log.child({ part: "analytics" });
  return deps.bus.consumeBatches(
    "analytics",
    ANALYTICS_GROUP,
    async (values) => {
      for (const value of values) {
        const parsed = parseAnalyticsBatch(value);
        if (!parsed.ok) {
          log.warn("analytics: refused a bus message", { problem: parsed.problem });
          continue;
        }
        const { id, projectId, records } = parsed.batch;
        await deps.analytics.append(
          id,
          records.map((r) => ({ ...r, projectId })),
        );
      }
    },
    { concurrency: 4, maxBatch: 50 },
  );
}

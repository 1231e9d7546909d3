// Worker pool: applies build events from the bus to the store, the log store and live watchers.

import { type BuildEvent, parseBuildEvent, unpackEvents } from "../../schema/events.ts";
import type { Bus, Subscription } from "../bus/bus.ts";
import type { Live } from "../bus/live.ts";
import { changeStatus } from "../deploy/state.ts";
import type { Deployment } from "../model/entities.ts";
import type { Logger } from "../observe/log.ts";
import type { Metrics } from "../observe/metrics.ts";
import type { Artifacts } from "../store/artifacts.ts";
import type { Logs } from "../store/logs.ts";
import type { Store } from "../store/store.ts";

export interface ApplyDeps {
  bus: Bus;
  store: Store;
  logs: Logs;
  live: Live;
  artifacts: Artifacts;
  metrics: Metrics;
  log: Logger;
  /** Told of each deployment this worker made READY (preview images); must not throw. */
  onReady?: (deployment: Deployment) => void;
}

/** Why an event was refused; recorded so forged or broken builders are visible to the operator. */
export type Rejection = { reason: string; value: unknown };

/** A builder's status event, through the one owner of status changes (state.ts): duplicates change nothing. */
async function applyStatus(
  deps: ApplyDeps,
  event: Extract<BuildEvent, { type: "status" }>,
): Promise<Deployment | null> {
  const { store, artifacts } = deps;
  if (event.commitSha)
    await store.deployments.recordCommit(event.deploymentId, event.commitSha, {
      message: event.commitMessage ?? null,
      author: event.commitAuthor ?? null,
    });
  switch (event.status) {
    case "READY": {
      // The builder's word is not enough: READY needs every file and the manifest actually stored.
      const manifest = await artifacts.getManifest(event.deploymentId);
      if (!manifest)
        return changeStatus(
          deps,
          event.deploymentId,
          "FAIL",
          "build reported success but its files were not stored",
        );
      const ready = await changeStatus(deps, event.deploymentId, "READY", null);
      if (ready) deps.onReady?.(ready);
      return ready;
    }
    case "IN_PROGRESS":
      return changeStatus(deps, event.deploymentId, "IN_PROGRESS", null);
    case "FAIL":
    case "CANCELED":
      return changeStatus(deps, event.deploymentId, event.status, event.reason ?? null);
  }
}

/** Applies one event; applying the same event twice, or an old one late, changes nothing. */
export function applyBuildEvent(
  deps: ApplyDeps,
  value: unknown,
  reject: (r: Rejection) => void,
): Promise<void> {
  return applyBuildEvents(deps, [value], reject);
}

/**
 * Applies a batch of events in order, as one deployment's builder sent them. Every log line of the batch goes
 * to the log store in one append first, so each line is stored before any status after it applies (a watcher
 * that sees the final status then reads the whole history); live watchers get lines and statuses in the
 * batch's order. Applying a batch again (a retry, a re-delivery) changes nothing: lines are named by
 * (deploymentId, seq) and statuses only move forward.
 */
export async function applyBuildEvents(
  deps: ApplyDeps,
  values: unknown[],
  reject: (r: Rejection) => void,
): Promise<void> {
  const events: BuildEvent[] = [];
  for (const value of unpackEvents(values)) {
    const parsed = parseBuildEvent(value);
    if (parsed.ok) events.push(parsed.event);
    else reject({ reason: `invalid event (${parsed.problem})`, value });
  }
  const lines = events.flatMap((event) =>
    event.type === "log"
      ? [
          {
            deploymentId: event.deploymentId,
            seq: event.seq,
            stream: event.stream,
            text: event.text,
            at: event.at,
          },
        ]
      : [],
  );
  if (lines.length > 0) await deps.logs.append(lines);
  // Only a deployment's last heartbeat of the batch matters: each one just moves its time forward.
  const lastHeartbeat = new Map<string, BuildEvent>();
  for (const event of events) if (event.type === "heartbeat") lastHeartbeat.set(event.deploymentId, event);
  let line = 0;
  for (const event of events) {
    switch (event.type) {
      case "log": {
        const stored = lines[line++];
        if (stored) deps.live.publish(event.deploymentId, { kind: "log", line: stored });
        break;
      }
      case "heartbeat":
        if (lastHeartbeat.get(event.deploymentId) === event)
          await deps.store.deployments.heartbeat(event.deploymentId, event.at);
        break;
      case "status":
        await applyStatus(deps, event);
        break;
    }
  }
}

/** Keeps a refused event for the operator; the claimed deployment id only when it is well-formed. */
export function recordRejection(store: Store, source: string, { reason, value }: Rejection): Promise<void> {
  const claimed =
    typeof value === "object" && value !== null && "deploymentId" in value ? value.deploymentId : null;
  const claimedDeploymentId = typeof claimed === "string" && /^[0-9a-f-]{36}$/.test(claimed) ? claimed : null;
  let excerpt: string;
  try {
    excerpt = JSON.stringify(value)?.slice(0, 1000) ?? String(value);
  } catch {
    excerpt = "(not serializable)";
  }
  return store.audit
    .recordRejected({ source, claimedDeploymentId, reason, excerpt })
    .catch((error: unknown) => console.error("audit: could not record a rejected event:", error));
}

/**
 * Starts consuming `build-events`: concurrent across deployments, in order within each, a deployment's waiting
 * events applied as one batch (one log append for a chatty build's lines instead of one per line).
 */
export function startEventWorkers(deps: ApplyDeps, concurrency = 50): Promise<Subscription> {
  return deps.bus.consumeBatches(
    "build-events",
    "workers",
    (values) =>
      applyBuildEvents(deps, values, (rejection) => {
        deps.log.warn("worker: rejected build event", { reason: rejection.reason });
        void recordRejection(deps.store, "bus", rejection);
      }),
    // One deployment's lines are applied in order, a batch at a time: big batches make a chatty build one
    // log insert per few thousand lines (ClickHouse wants few, large inserts).
    { concurrency, maxBatch: 5_000 },
  );
}

/**
 * For api processes without a worker (scaled roles): feeds this process's live watchers from the bus. The
 * workers store the events; this only forwards lines and, once a worker has applied it, the final status.
 */
export function startLiveFeed(deps: Pick<ApplyDeps, "bus" | "store" | "live">): Promise<Subscription> {
  return deps.bus.consume(
    "build-events",
    `live-${crypto.randomUUID()}`,
    async (value) => {
      for (const one of unpackEvents([value])) {
        const parsed = parseBuildEvent(one);
        if (!parsed.ok) continue;
        const event = parsed.event;
        if (event.type === "log") {
          const { deploymentId, seq, stream, text, at } = event;
          deps.live.publish(deploymentId, { kind: "log", line: { deploymentId, seq, stream, text, at } });
        } else if (event.type === "status") {
          // The worker may not have applied it yet; watchers also re-read the store every few seconds.
          await Bun.sleep(100);
          const deployment = await deps.store.deployments.find(event.deploymentId);
          if (deployment) deps.live.publish(deployment.id, { kind: "status", deployment });
        }
      }
    },
    { transient: true },
  );
}

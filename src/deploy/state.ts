// One owner per state change: every change of a deployment's status goes through changeStatus, which does the
// compare-and-set in the store (only forward: src/model/status.ts), tells this process's live watchers,
// announces the project's routes when what is served may have changed, counts the ended ones and queues the
// outgoing webhook events and commit statuses. A caller
// cannot forget a step; the store's own transition methods are called from nowhere else (state.test.ts checks).

import type { Bus } from "../bus/bus.ts";
import type { Live } from "../bus/live.ts";
import type { Deployment } from "../model/entities.ts";
import { type DeploymentStatus, isTerminal } from "../model/status.ts";
import { type Metrics, recordBuild } from "../observe/metrics.ts";
import type { Store } from "../store/store.ts";
import { announceRoutes } from "./announce.ts";
import { emitDeploymentEvent, statusEvent } from "./events.ts";
import { reportDeployment } from "./git-provider.ts";

export type StateDeps = { store: Store; live: Live; bus: Bus; metrics: Metrics };

/**
 * Moves deployment `id` to `to` if its current status allows it; null when it does not (already there, ended,
 * or never existed): then nothing else happens, so applying the same change twice is harmless. READY also makes
 * a production deployment the project's production deployment, in the same update.
 */
export async function changeStatus(
  deps: StateDeps,
  id: string,
  to: DeploymentStatus,
  reason: string | null,
): Promise<Deployment | null> {
  const changed =
    to === "READY"
      ? await deps.store.deployments.markReady(id)
      : await deps.store.deployments.transition(id, to, reason);
  if (changed) await announceStatus(deps, changed);
  return changed;
}

/**
 * What follows a status change: for changeStatus, and for the changes the store makes inside a larger atomic
 * step (a launcher's claim, superseded waiting deployments).
 */
export async function announceStatus(deps: StateDeps, changed: Deployment): Promise<void> {
  if (isTerminal(changed.status)) recordBuild(deps.metrics, changed);
  deps.live.publish(changed.id, { kind: "status", deployment: changed });
  // A new READY deployment is a new immutable URL, maybe a new preview or production: proxies reload.
  if (changed.status === "READY") await announceRoutes(deps.bus, changed.projectId);
  // Outgoing webhooks: READY and FAIL, queued in the store's outbox (a worker sends them). Queued after the
  // compare-and-set, not in its transaction: the store port offers none across its repositories (bun:sqlite's are
  // synchronous and cannot span its async methods), so a crash between the two loses this event; a commit report
  // is queued again, in its latest state, by the next status change.
  const event = statusEvent(changed.status);
  if (event) await emitDeploymentEvent(deps.store, event, changed);
  // Commit statuses and pull-request comments on the git provider, queued in their outbox (never throws).
  await reportDeployment(deps.store, changed);
}

/** Cancels the waiting deployments of `newer`'s branch that it makes pointless (a newer push wins). */
export async function supersedeOlder(deps: StateDeps, newer: Deployment): Promise<void> {
  for (const id of await deps.store.deployments.supersede(newer)) {
    const canceled = await deps.store.deployments.find(id);
    if (canceled) await announceStatus(deps, canceled);
  }
}

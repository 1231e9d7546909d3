// Deployment events for outgoing webhooks: what changed, queued in the store's outbox for every hook of the
// project that subscribed to it; a worker's dispatcher sends them (src/worker/outgoing.ts).

import type { Deployment } from "../model/entities.ts";
import type { HookEvent } from "../store/outgoing-hooks.ts";
import type { Store } from "../store/store.ts";

/** The event as stored and as sent in the standard format (Standard Webhooks: type, timestamp, data). */
export interface DeploymentEvent {
  type: HookEvent;
  timestamp: string;
  data: {
    project: { id: string; name: string; subDomain: string };
    deployment: {
      id: string;
      status: string;
      target: string;
      branch: string | null;
      commitSha: string | null;
      reason: string | null;
    };
  };
}

/** The event a status change makes, if any: READY and FAIL (QUEUED and the rest are not announced). */
export function statusEvent(status: Deployment["status"]): HookEvent | null {
  if (status === "READY") return "deployment.ready";
  if (status === "FAIL") return "deployment.failed";
  return null;
}

/** Queues `event` about `deployment` for the project's subscribed hooks (nothing to do for a project without). */
export async function emitDeploymentEvent(
  store: Store,
  event: HookEvent,
  deployment: Deployment,
): Promise<void> {
  const hooks = await store.outgoingHooks.list(deployment.projectId);
  if (!hooks.some((h) => h.events.includes(event))) return;
  const project = await store.projects.find(deployment.projectId);
  if (!project) return;
  const timestamp = new Date().toISOString();
  const payload: DeploymentEvent = {
    type: event,
    timestamp,
    data: {
      project: { id: project.id, name: project.name, subDomain: project.subDomain },
      deployment: {
        id: deployment.id,
        status: deployment.status,
        target: deployment.target,
        branch: deployment.branch,
        commitSha: deployment.commitSha,
        reason: deployment.statusReason ?? null,
      },
    },
  };
  await store.outgoingHooks.enqueue(project.id, event, JSON.stringify(payload), timestamp);
}

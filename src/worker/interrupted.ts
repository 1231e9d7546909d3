// Builds nobody finished (a platform restart, a worker lost with its heartbeat): the deployment ends FAIL saying
// why, and the same commit is queued again as a new deployment (statuses only move forward, so the old row cannot
// go back to QUEUED). The FAIL transition is the gate: of several workers ending the same build, one rebuilds it.

import type { BuildConfig } from "../config/config.ts";
import { emitDeploymentEvent } from "../deploy/events.ts";
import { sourceManifestId } from "../deploy/prebuilt.ts";
import { changeStatus, type StateDeps } from "../deploy/state.ts";
import type { Deployment } from "../model/entities.ts";
import type { Artifacts } from "../store/artifacts.ts";

export type InterruptDeps = StateDeps & {
  artifacts: Pick<Artifacts, "getManifest" | "putManifest">;
  config: { build: Pick<BuildConfig, "timeoutSeconds"> };
};

/**
 * Automatic rebuilds of one build in a row: a rebuild lost again is rebuilt again at most this often, so a build
 * that takes its worker down with it (out of memory, say) cannot loop forever.
 */
export const MAX_AUTOMATIC_REBUILDS = 2;

/** How far back (newest first) to look for a newer deployment of the branch and for the build's lineage. */
const LOOKBACK = 100;

/**
 * A builder beats every 5 s until it stops, also when it stops at its time limit: a last sign of life this close
 * to the limit means the build ran out its time.
 */
const TIME_LIMIT_SLACK_MS = 6_000;

/** How an ended build names its rebuild; `minivercel deploy` and `logs --follow` follow it (src/cli/follow.ts). */
const REBUILT_AS = "; rebuilding it as ";

/** The deployment an interrupted build's reason says it was rebuilt as, or null. */
export function rebuiltAs(reason: string | null): string | null {
  const at = reason?.lastIndexOf(REBUILT_AS) ?? -1;
  return reason && at >= 0 ? reason.slice(at + REBUILT_AS.length) : null;
}

/** How many automatic rebuilds in a row led to `d`: its parent's reason names it, and so on up. */
function rebuildsInARow(history: Deployment[], d: Deployment): number {
  const parentOf = new Map<string, Deployment>();
  for (const other of history) {
    const child = rebuiltAs(other.statusReason);
    if (child) parentOf.set(child, other);
  }
  let count = 0;
  for (let at = parentOf.get(d.id); at && count <= MAX_AUTOMATIC_REBUILDS; at = parentOf.get(at.id)) count++;
  return count;
}

/** A newer deployment of the same branch and target that has not failed replaces a rebuild. */
function newerExists(history: Deployment[], d: Deployment): boolean {
  return history.some(
    (other) =>
      other.id !== d.id &&
      other.createdAt > d.createdAt &&
      other.branch === d.branch &&
      other.target === d.target &&
      other.status !== "FAIL" &&
      other.status !== "CANCELED",
  );
}

/** Why `d` must not be rebuilt, or null when it should be. */
async function notRebuilt(deps: InterruptDeps, d: Deployment): Promise<string | null> {
  const project = await deps.store.projects.find(d.projectId);
  if (!project) return "its project was deleted";
  // A build that ran out its time would only run out of it again (and a timeout is the user's to fix).
  const limitMs = (project.buildTimeoutSeconds ?? deps.config.build.timeoutSeconds) * 1000;
  const lastSign = Date.parse(d.heartbeatAt ?? d.startedAt ?? "");
  const started = Date.parse(d.startedAt ?? "");
  if (lastSign - started >= limitMs - Math.min(TIME_LIMIT_SLACK_MS, limitMs / 2))
    return `it had used up its build time limit (${limitMs / 1000} s)`;
  const page = await deps.store.deployments.ofProject(d.projectId, {
    limit: LOOKBACK,
    cursor: null,
  });
  if (rebuildsInARow(page.items, d) >= MAX_AUTOMATIC_REBUILDS)
    return `it was already rebuilt automatically ${MAX_AUTOMATIC_REBUILDS} times in a row; deploy again to retry`;
  if (newerExists(page.items, d)) return "a newer deployment of its branch exists";
  return null;
}

/**
 * Ends an interrupted build: FAIL with `why`, plus a rebuild queued as a new deployment when the build was a
 * launcher's (an upload in progress has nothing to rebuild from), had time left, is not already the last of
 * MAX_AUTOMATIC_REBUILDS rebuilds in a row, and no newer deployment of its branch exists. Returns the ended
 * deployment and the rebuild; `ended` is null when it had already ended another way (a cancel, its own final
 * status, another worker ending it first): then nothing else is done.
 */
export async function endInterrupted(
  deps: InterruptDeps,
  d: Deployment,
  why: string,
): Promise<{ ended: Deployment | null; rebuild: Deployment | null }> {
  const { store } = deps;
  const skip = d.claimedBy === null ? "" : await notRebuilt(deps, d);
  if (skip !== null) {
    const reason = skip === "" ? why : `${why}; not rebuilt: ${skip}`;
    return { ended: await changeStatus(deps, d.id, "FAIL", reason), rebuild: null };
  }
  // The rebuild is named before it exists so that the compare-and-set FAIL can name it: only the caller whose
  // transition applied goes on to create it.
  const id = crypto.randomUUID();
  const ended = await changeStatus(deps, d.id, "FAIL", `${why}${REBUILT_AS}${id}`);
  if (!ended) return { ended: null, rebuild: null };
  // NOT_STARTED until its uploaded source (if any) is in place: no launcher may claim it before.
  const created = await store.deployments.create({
    id,
    projectId: d.projectId,
    userId: d.userId,
    status: "NOT_STARTED",
    target: d.target,
    branch: d.branch,
    commitSha: d.commitSha,
  });
  await emitDeploymentEvent(store, "deployment.created", created);
  const source = await deps.artifacts.getManifest(sourceManifestId(d.id));
  if (source) await deps.artifacts.putManifest({ ...source, deploymentId: sourceManifestId(created.id) });
  return { ended, rebuild: await changeStatus(deps, created.id, "QUEUED", null) };
}

// Builds a platform restart interrupted: the deployment ends FAIL saying why, and the same commit is queued
// again as a new deployment (statuses only move forward, so the old row cannot go back to QUEUED).

import { sourceManifestId } from "../deploy/prebuilt.ts";
import type { Artifacts } from "../store/artifacts.ts";
import type { Deployment, Store } from "../store/store.ts";

export type InterruptDeps = { store: Store; artifacts: Pick<Artifacts, "getManifest" | "putManifest"> };

/** How far back to look for a newer deployment of the same branch (newest first). */
const NEWER_LOOKBACK = 50;

/** A newer deployment of the same project, branch and target that has not failed replaces a rebuild. */
async function newerExists(store: Store, d: Deployment): Promise<boolean> {
  const project = await store.projects.find(d.projectId);
  if (!project) return true; // deleted meanwhile: nothing to rebuild for
  const page = await store.deployments.list(project.userId, d.projectId, {
    limit: NEWER_LOOKBACK,
    cursor: null,
  });
  return page.items.some(
    (other) =>
      other.id !== d.id &&
      other.createdAt > d.createdAt &&
      other.branch === d.branch &&
      other.target === d.target &&
      other.status !== "FAIL" &&
      other.status !== "CANCELED",
  );
}

/**
 * Ends an interrupted build: FAIL with `why`, plus a rebuild queued as a new deployment when the build was a
 * launcher's (an upload in progress has nothing to rebuild from) and no newer deployment of its branch exists.
 * Returns the ended deployment and the rebuild; `ended` is null when it had already ended another way.
 */
export async function endInterrupted(
  deps: InterruptDeps,
  d: Deployment,
  why: string,
): Promise<{ ended: Deployment | null; rebuild: Deployment | null }> {
  const { store } = deps;
  if (d.claimedBy === null || (await newerExists(store, d))) {
    const reason =
      d.claimedBy === null ? why : `${why}; not rebuilt: a newer deployment of its branch exists`;
    return { ended: await store.deployments.transition(d.id, "FAIL", reason), rebuild: null };
  }
  // NOT_STARTED until its uploaded source (if any) is in place: no launcher may claim it before.
  const rebuild = await store.deployments.create({
    projectId: d.projectId,
    userId: d.userId,
    status: "NOT_STARTED",
    target: d.target,
    branch: d.branch,
    commitSha: d.commitSha,
  });
  const source = await deps.artifacts.getManifest(sourceManifestId(d.id));
  if (source) await deps.artifacts.putManifest({ ...source, deploymentId: sourceManifestId(rebuild.id) });
  // `minivercel deploy` and `logs --follow` go on to follow the rebuild named here (src/cli/follow.ts).
  const ended = await store.deployments.transition(d.id, "FAIL", `${why}; rebuilding it as ${rebuild.id}`);
  if (!ended) {
    // It finished after all (a race with its last event): the rebuild is not needed.
    await store.deployments.transition(rebuild.id, "CANCELED", "not needed: the interrupted build had ended");
    return { ended: null, rebuild: null };
  }
  return { ended, rebuild: await store.deployments.transition(rebuild.id, "QUEUED", null) };
}

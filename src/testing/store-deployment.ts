// Test support: a deployment put in a given state through the store alone, as the build pipeline leaves it, for
// tests of what reads deployments (views, proxies, reapers, garbage collection) without running a build.

import type { Deployment, DeploymentTarget } from "../model/entities.ts";
import { type DeploymentStatus, isTerminal } from "../model/status.ts";
import type { CommitDetails, Store } from "../store/store.ts";

export interface StoredDeploymentOptions {
  projectId: string;
  userId: string;
  /** Default production. */
  target?: DeploymentTarget;
  /** Default "main". */
  branch?: string;
  commit?: { sha: string } & CommitDetails;
  /**
   * Where it ends (default READY): QUEUED as created; IN_PROGRESS as a build runner claims it; READY (a
   * production one becomes the project's production deployment); FAIL or CANCELED with `reason`.
   */
  status?: Exclude<DeploymentStatus, "NOT_STARTED">;
  /** The reason a FAIL or CANCELED gives; default "build failed". */
  reason?: string;
  /**
   * A builder's sign of life once IN_PROGRESS, now (true) or at this ISO time, so that a reaper does not take it
   * for lost (or does, with an old one).
   */
  heartbeat?: true | string;
}

/** The deployment as the store has it once in `status`. */
export async function storedDeployment(store: Store, options: StoredDeploymentOptions): Promise<Deployment> {
  const { deployments } = store;
  const created = await deployments.create({
    projectId: options.projectId,
    userId: options.userId,
    status: "QUEUED",
    target: options.target ?? "production",
    branch: options.branch ?? "main",
    commitSha: null,
  });
  const { id } = created;
  if (options.commit) {
    const { sha, ...details } = options.commit;
    await deployments.recordCommit(id, sha, details);
  }
  const status = options.status ?? "READY";
  if (status !== "QUEUED") {
    await deployments.transition(id, "IN_PROGRESS", null);
    const { heartbeat } = options;
    if (heartbeat) await deployments.heartbeat(id, heartbeat === true ? new Date().toISOString() : heartbeat);
    if (status === "READY") await deployments.markReady(id);
    else if (status !== "IN_PROGRESS")
      await deployments.transition(id, status, options.reason ?? "build failed");
  }
  const found = await deployments.find(id);
  if (!found) throw new Error(`deployment ${id} vanished`);
  return found;
}

/** The deployment once it has ended (READY, FAIL or CANCELED), read from the store every 100 ms. */
export async function endedDeployment(store: Store, id: string, timeoutMs = 120_000): Promise<Deployment> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = await store.deployments.find(id);
    if (found && isTerminal(found.status)) return found;
    if (Date.now() > until) throw new Error(`deployment ${id} did not end (${found?.status ?? "gone"})`);
    await Bun.sleep(100);
  }
}

// Push to deploy: the refs a push updated -> one queued deployment per branch, described for the pusher.

import type { Config } from "../config/config.ts";
import { queueDeployment } from "../deploy/deploy.ts";
import type { StateDeps } from "../deploy/state.ts";
import { AppError } from "../errors.ts";
import type { Project } from "../model/entities.ts";
import { branchProblem } from "../model/settings.ts";
import { deploymentUrl } from "../model/urls.ts";
import { pushRepoUrl } from "./repos.ts";

const ZERO = /^0{40}$/;
const SHA = /^[0-9a-f]{40}$/;

export interface RefUpdate {
  oldSha: string;
  newSha: string;
  ref: string;
}

/** Parses the post-receive lines "<old> <new> <ref>"; anything else is skipped. */
export function parseRefUpdates(text: string): RefUpdate[] {
  const updates: RefUpdate[] = [];
  for (const line of text.split("\n")) {
    const [oldSha, newSha, ref, ...rest] = line.trim().split(" ");
    if (rest.length > 0 || !oldSha || !newSha || !ref || !SHA.test(oldSha) || !SHA.test(newSha)) continue;
    updates.push({ oldSha, newSha, ref });
  }
  return updates;
}

/**
 * Queues a deployment of every pushed branch (the production branch to production, others as previews;
 * deletions and tags are ignored) and returns the lines the pusher sees, with what it queued (for the audit log).
 * A project without a git URL gets its push remote as one; a project that builds from another repository is left
 * alone.
 */
export async function deployPush(
  state: StateDeps,
  config: Pick<Config, "dataDir" | "sitesDomain" | "proxyPort">,
  userId: string,
  project: Project,
  updates: RefUpdate[],
): Promise<{ lines: string[]; queued: string[] }> {
  const remote = pushRepoUrl(config.dataDir, project.id);
  const branches = updates.filter((u) => !ZERO.test(u.newSha) && u.ref.startsWith("refs/heads/"));
  if (branches.length === 0) return { lines: [], queued: [] };
  let current = project;
  if (current.gitUrl === null) {
    // Not through normalizeSettings: the user may not set file:// URLs, but this one the platform owns.
    current = (await state.store.projects.update(userId, project.id, { gitUrl: remote })) ?? project;
  }
  if (current.gitUrl !== remote) {
    const lines = [
      `minivercel: not deploying: this project builds from ${current.gitUrl}`,
      "minivercel: clear its git URL to deploy what you push here",
    ];
    return { lines, queued: [] };
  }
  const lines: string[] = [];
  /** "<branch> <short sha> (deployment <id>)" for each deployment queued. */
  const queued: string[] = [];
  for (const update of branches) {
    const branch = update.ref.slice("refs/heads/".length);
    if (branchProblem(branch) !== null) {
      lines.push(`minivercel: not deploying ${update.ref}: not a branch name minivercel builds`);
      continue;
    }
    try {
      const d = await queueDeployment(state, userId, {
        projectId: project.id,
        branch,
        commitSha: update.newSha,
      });
      lines.push(
        `minivercel: ${d.target} deployment of ${branch} (${update.newSha.slice(0, 12)}) ${d.status}`,
        `minivercel:   ${deploymentUrl(current, d.id, config)}`,
      );
      queued.push(`${branch} ${update.newSha.slice(0, 7)} (deployment ${d.id})`);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      lines.push(`minivercel: could not deploy ${branch}: ${error.message}`);
    }
  }
  return { lines, queued };
}

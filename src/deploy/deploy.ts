// Starting a deployment: validate the request, then record it QUEUED (the durable queue is the row itself).

import { badRequest, conflict, invalid } from "../errors.ts";
import type { Deployment } from "../model/entities.ts";
import { branchProblem, commitProblem } from "../model/settings.ts";
import { getDeployment, getProject } from "./access.ts";
import { emitDeploymentEvent } from "./events.ts";
import { reportDeployment } from "./git-provider.ts";
import { changeStatus, type StateDeps, supersedeOlder } from "./state.ts";

export interface DeployInput {
  projectId: string;
  branch?: string | undefined;
  commitSha?: string | undefined;
}

export async function queueDeployment(
  deps: StateDeps,
  userId: string,
  input: DeployInput,
): Promise<Deployment> {
  const { store } = deps;
  const project = await getProject(store, userId, input.projectId, "write");
  if (!project.gitUrl)
    throw badRequest("project has no git URL to build from; set gitUrl first", "projectId");
  const branch = input.branch ?? project.productionBranch;
  const branchError = branchProblem(branch);
  if (branchError) throw invalid(`branch ${branchError}`, "branch");
  if (input.commitSha !== undefined) {
    const commitError = commitProblem(input.commitSha);
    if (commitError) throw invalid(`commitSha ${commitError}`, "commitSha");
  }
  const deployment = await store.deployments.create({
    projectId: project.id,
    userId,
    status: "QUEUED",
    target: branch === project.productionBranch ? "production" : "preview",
    branch,
    commitSha: input.commitSha ?? null,
  });
  await emitDeploymentEvent(store, "deployment.created", deployment);
  await reportDeployment(store, deployment);
  // A newer push wins over one still waiting for the same branch (building ones finish).
  await supersedeOlder(deps, deployment);
  return deployment;
}

/** Cancels a deployment that has not finished; the worker running it notices and stops the build. */
export async function cancelDeployment(deps: StateDeps, userId: string, id: string): Promise<Deployment> {
  const { deployment } = await getDeployment(deps.store, userId, id, "write");
  const canceled = await changeStatus(deps, id, "CANCELED", "canceled by user");
  if (!canceled) throw conflict(`deployment already finished (${deployment.status})`);
  return canceled;
}

// Promote and rollback: production is a pointer; moving it is one atomic update, announced to every proxy.

import type { Bus } from "../bus/bus.ts";
import { conflict } from "../errors.ts";
import type { Project } from "../model/entities.ts";
import type { Store } from "../store/store.ts";
import { getDeployment, getProject } from "./access.ts";
import { announceRoutes } from "./announce.ts";
import { emitDeploymentEvent } from "./events.ts";

/** Makes any READY deployment of the project its production deployment. */
export async function promoteDeployment(
  store: Store,
  bus: Bus,
  userId: string,
  deploymentId: string,
): Promise<Project> {
  const { deployment } = await getDeployment(store, userId, deploymentId, "write");
  if (deployment.status !== "READY")
    throw conflict(`only READY deployments can be promoted (this one is ${deployment.status})`);
  const project = await store.projects.promote(deployment.projectId, deployment.id);
  if (!project) throw conflict("the deployment could not be promoted");
  await announceRoutes(bus, project.id);
  await emitDeploymentEvent(store, "deployment.promoted", deployment);
  return project;
}

/** Puts the previous production deployment back (twice in a row undoes it). */
export async function rollbackProject(
  store: Store,
  bus: Bus,
  userId: string,
  projectId: string,
): Promise<Project> {
  const current = await getProject(store, userId, projectId, "write");
  const project = await store.projects.rollback(current.id);
  if (!project) throw conflict("there is no previous production deployment to roll back to");
  await announceRoutes(bus, project.id);
  const restored = project.productionDeploymentId
    ? await store.deployments.find(project.productionDeploymentId)
    : null;
  if (restored) await emitDeploymentEvent(store, "deployment.rolled_back", restored);
  return project;
}

// Authorization: what the caller may do with a project, by their role in its scope. Every route, page and CLI
// command that names a project or deployment comes through here.

import { AppError, notFound } from "../errors.ts";
import type { Deployment, Project } from "../model/entities.ts";
import type { Store } from "../store/store.ts";
import type { TeamRole } from "../store/teams.ts";

/**
 * What an action needs: `read` (viewer: pages, deployments, logs), `write` (member: deploy, promote, roll back,
 * cancel, env vars, domains) or `admin` (owner: settings, protection, hooks, members, transfer, delete).
 */
export type Right = "read" | "write" | "admin";

const RANK: Record<TeamRole, number> = { viewer: 0, member: 1, owner: 2 };
const NEEDS: Record<Right, TeamRole> = { read: "viewer", write: "member", admin: "owner" };

export const allows = (role: TeamRole, need: Right): boolean => RANK[role] >= RANK[NEEDS[need]];

/** The caller's role on a project: owner of their personal projects, their team role on a team's; else null. */
export async function roleOn(
  store: Pick<Store, "teams">,
  userId: string,
  project: Pick<Project, "userId" | "teamId">,
): Promise<TeamRole | null> {
  if (project.teamId === null) return project.userId === userId ? "owner" : null;
  return store.teams.role(project.teamId, userId);
}

/** A role too weak for the action: 403 (the caller may see the project, so there is nothing to hide). */
export const roleRefused = (role: TeamRole, need: Right, where = "on this project") =>
  new AppError(
    "forbidden",
    `your role ${where} is ${role}; this needs ${NEEDS[need]}${NEEDS[need] === "owner" ? "" : " or above"}`,
  );

/**
 * The project, when the caller may do `need` with it. A project the caller cannot see (another account's, a team
 * they are not in) is 404, exactly like a missing one; one they see with too weak a role is 403.
 */
export async function getProject(store: Store, userId: string, id: string, need: Right): Promise<Project> {
  const project = await store.projects.get(userId, id);
  const role = project ? await roleOn(store, userId, project) : null;
  if (!project || !role) throw notFound("project");
  if (!allows(role, need)) throw roleRefused(role, need);
  return project;
}

/** A deployment with its project, when the caller may do `need` with that project (404 / 403 as getProject). */
export async function getDeployment(
  store: Store,
  userId: string,
  id: string,
  need: Right,
): Promise<{ deployment: Deployment; project: Project }> {
  const deployment = await store.deployments.get(userId, id);
  if (!deployment) throw notFound("deployment");
  const project = await getProject(store, userId, deployment.projectId, need).catch((error: unknown) => {
    throw error instanceof AppError && error.code === "not_found" ? notFound("deployment") : error;
  });
  return { deployment, project };
}

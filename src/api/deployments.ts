// /api/deploy and /api/deployments: start a deployment, read it and page through its build log.

import { Elysia } from "elysia";
import { queueDeployment } from "../deploy/deploy.ts";
import { getProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import { notFound } from "../errors.ts";
import { requireUser } from "./auth.ts";
import { Deployment, DeployRequest, ErrorBody, Id, LogPage, LogQuery } from "./schemas.ts";
import { deploymentView } from "./views.ts";

export function deploymentRoutes({
  config,
  store,
  logs,
  auth,
}: Pick<Deps, "config" | "store" | "logs" | "auth">) {
  const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 422: ErrorBody };

  async function ownDeployment(userId: string, id: string) {
    const deployment = await store.deployments.get(userId, id);
    if (!deployment) throw notFound("deployment");
    return deployment;
  }

  return new Elysia({ tags: ["deployments"] })
    .use(requireUser(auth))
    .post(
      "/deploy",
      async ({ user, body, set }) => {
        const deployment = await queueDeployment(store, user.id, body);
        const project = await getProject(store, user.id, deployment.projectId);
        set.status = 201;
        return deploymentView(deployment, project, config);
      },
      {
        body: DeployRequest,
        response: { 201: Deployment, ...errors },
        detail: { summary: "Queue a deployment of a project's branch or commit" },
      },
    )
    .get(
      "/deployments/:id",
      async ({ user, params }) => {
        const deployment = await ownDeployment(user.id, params.id);
        const project = await getProject(store, user.id, deployment.projectId);
        return deploymentView(deployment, project, config);
      },
      { params: Id, response: { 200: Deployment, ...errors }, detail: { summary: "Get a deployment" } },
    )
    .get(
      "/deployments/:id/logs",
      async ({ user, params, query }) => {
        const deployment = await ownDeployment(user.id, params.id);
        const limit = query.limit ?? 1000;
        const lines = await logs.read(deployment.id, query.after ?? 0, limit);
        const last = lines[lines.length - 1];
        return {
          items: lines.map(({ seq, stream, text, at }) => ({ seq, stream, text, at })),
          nextAfter: lines.length === limit && last ? last.seq : null,
        };
      },
      {
        params: Id,
        query: LogQuery,
        response: { 200: LogPage, ...errors },
        detail: { summary: "Page through a deployment's build log" },
      },
    );
}

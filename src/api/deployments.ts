// /api/deploy and /api/deployments: start a deployment, read it and page through its build log.

import { Elysia } from "elysia";
import { cancelDeployment, queueDeployment } from "../deploy/deploy.ts";
import { getProject } from "../deploy/projects.ts";
import { promoteDeployment, rollbackProject } from "../deploy/promote.ts";
import type { Deps } from "../deps.ts";
import { notFound } from "../errors.ts";
import { requireUser } from "./auth.ts";
import { logStream } from "./log-stream.ts";
import { Deployment, DeployRequest, ErrorBody, Id, LogPage, LogQuery, Project } from "./schemas.ts";
import { deploymentView, projectView } from "./views.ts";

export function deploymentRoutes({
  config,
  store,
  logs,
  live,
  bus,
  auth,
  metrics,
}: Pick<Deps, "config" | "store" | "logs" | "live" | "bus" | "auth" | "metrics">) {
  const state = { store, live, bus, metrics };
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
        const deployment = await queueDeployment(state, user.id, body);
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
    .post(
      "/deployments/:id/promote",
      async ({ user, params }) =>
        projectView(await promoteDeployment(store, bus, user.id, params.id), config),
      {
        params: Id,
        response: { 200: Project, 409: ErrorBody, ...errors },
        detail: {
          summary: "Make a READY deployment the production deployment (a pointer swap: no rebuild, no copy)",
        },
      },
    )
    .post(
      "/projects/:id/rollback",
      async ({ user, params }) => projectView(await rollbackProject(store, bus, user.id, params.id), config),
      {
        params: Id,
        response: { 200: Project, 409: ErrorBody, ...errors },
        detail: { summary: "Point production back at the previous production deployment" },
      },
    )
    .post(
      "/deployments/:id/cancel",
      async ({ user, params }) => {
        const canceled = await cancelDeployment(state, user.id, params.id);
        const project = await getProject(store, user.id, canceled.projectId);
        return deploymentView(canceled, project, config);
      },
      {
        params: Id,
        response: { 200: Deployment, 409: ErrorBody, ...errors },
        detail: { summary: "Cancel a queued or running deployment (its build processes are killed)" },
      },
    )
    .get(
      "/deployments/:id/logs/stream",
      async ({ user, params, query, request }) => {
        const deployment = await ownDeployment(user.id, params.id);
        const project = await getProject(store, user.id, deployment.projectId);
        const resume = Number(request.headers.get("last-event-id") ?? query.after ?? 0);
        const after = Number.isSafeInteger(resume) && resume > 0 ? resume : 0;
        return logStream(
          { store, logs, live },
          deployment,
          after,
          (d) => deploymentView(d, project, config),
          request.signal,
        );
      },
      {
        params: Id,
        query: LogQuery,
        detail: {
          summary: "Stream the build log (Server-Sent Events)",
          description:
            "Sends `status` (the deployment), then `log` events (id = sequence number) from history and live, " +
            "and a final `status` when the deployment ends, or `restarting` when the server shuts down first " +
            "(reconnect: the stream resumes after Last-Event-ID).",
        },
      },
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

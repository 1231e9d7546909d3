// /api/deploy and /api/deployments: start a deployment, read it and page through its build log.

import { Elysia } from "elysia";
import { getDeployment, getProject } from "../deploy/access.ts";
import type { Auditor } from "../deploy/audit.ts";
import { cancelDeployment, queueDeployment } from "../deploy/deploy.ts";
import { promoteDeployment, rollbackProject } from "../deploy/promote.ts";
import type { Deps } from "../deps.ts";
import { requireUser } from "./auth.ts";
import { logStream } from "./log-stream.ts";
import {
  Deployment,
  DeployRequest,
  errorResponse,
  Id,
  LogPage,
  LogQuery,
  LogStreamEvent,
  Project,
} from "./schemas.ts";
import { deploymentView, projectView } from "./views.ts";

export function deploymentRoutes({
  config,
  store,
  logs,
  live,
  bus,
  auth,
  metrics,
  audit,
}: Pick<Deps, "config" | "store" | "logs" | "live" | "bus" | "auth" | "metrics"> & { audit: Auditor }) {
  const state = { store, live, bus, metrics };
  // Statuses of these routes' own; authentication, validation, body and rate limits: docs-responses.ts.
  const missing = { 404: errorResponse("No such deployment, or not yours.") };

  return new Elysia({ tags: ["deployments"] })
    .use(requireUser(auth))
    .post(
      "/deploy",
      async ({ user, body, set, request }) => {
        const deployment = await queueDeployment(state, user.id, body);
        const project = await getProject(store, user.id, deployment.projectId, "read");
        const what = `${deployment.target} ${deployment.id}${deployment.branch ? ` of ${deployment.branch}` : ""}`;
        await audit.project(request, user, project, "deployment.create", what);
        set.status = 201;
        return deploymentView(deployment, project, config);
      },
      {
        body: DeployRequest,
        parse: "json",
        response: {
          201: Deployment,
          400: errorResponse("The project has no git URL to build from (or the body is not JSON)."),
          404: errorResponse("No such project, or not yours."),
        },
        detail: { summary: "Queue a deployment of a project's branch or commit" },
      },
    )
    .get(
      "/deployments/:id",
      async ({ user, params }) => {
        const { deployment, project } = await getDeployment(store, user.id, params.id, "read");
        return deploymentView(deployment, project, config);
      },
      { params: Id, response: { 200: Deployment, ...missing }, detail: { summary: "Get a deployment" } },
    )
    .post(
      "/deployments/:id/promote",
      async ({ user, params, request }) => {
        const project = await promoteDeployment(store, bus, user.id, params.id);
        await audit.project(request, user, project, "deployment.promote", `deployment ${params.id}`);
        return projectView(project, config);
      },
      {
        params: Id,
        response: { 200: Project, ...missing, 409: errorResponse("The deployment is not READY.") },
        detail: {
          summary: "Make a READY deployment the production deployment (a pointer swap: no rebuild, no copy)",
        },
      },
    )
    .post(
      "/projects/:id/rollback",
      async ({ user, params, request }) => {
        const project = await rollbackProject(store, bus, user.id, params.id);
        const to = `to deployment ${project.productionDeploymentId ?? "none"}`;
        await audit.project(request, user, project, "deployment.rollback", to);
        return projectView(project, config);
      },
      {
        params: Id,
        response: {
          200: Project,
          404: errorResponse("No such project, or not yours."),
          409: errorResponse("There is no previous production deployment."),
        },
        detail: { summary: "Point production back at the previous production deployment" },
      },
    )
    .post(
      "/deployments/:id/cancel",
      async ({ user, params, request }) => {
        const canceled = await cancelDeployment(state, user.id, params.id);
        const project = await getProject(store, user.id, canceled.projectId, "read");
        await audit.project(request, user, project, "deployment.cancel", `deployment ${canceled.id}`);
        return deploymentView(canceled, project, config);
      },
      {
        params: Id,
        response: { 200: Deployment, ...missing, 409: errorResponse("The deployment has finished already.") },
        detail: { summary: "Cancel a queued or running deployment (its build processes are killed)" },
      },
    )
    .get(
      "/deployments/:id/logs/stream",
      async ({ user, params, query, request }) => {
        const { deployment, project } = await getDeployment(store, user.id, params.id, "read");
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
        response: { 200: LogStreamEvent, ...missing },
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
        const { deployment } = await getDeployment(store, user.id, params.id, "read");
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
        response: { 200: LogPage, ...missing },
        detail: { summary: "Page through a deployment's build log" },
      },
    );
}

// /api/projects: create, list, read, update and delete a user's projects, and list their deployments.

import { Elysia } from "elysia";
import { verifyDomain } from "../deploy/domains.ts";
import { createProject, deleteProject, getProject, updateProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import { requireUser } from "./auth.ts";
import {
  Deployment,
  ErrorBody,
  Id,
  PageQuery,
  Project,
  ProjectCreate,
  ProjectPatch,
  pageOf,
} from "./schemas.ts";
import { deploymentView, projectView } from "./views.ts";

export function projectRoutes({
  config,
  store,
  logs,
  runtimeLogs,
  auth,
  artifacts,
  gc,
  bus,
}: Pick<Deps, "config" | "store" | "logs" | "runtimeLogs" | "auth" | "artifacts" | "gc" | "bus">) {
  const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 409: ErrorBody, 422: ErrorBody };
  return new Elysia({ tags: ["projects"] })
    .use(requireUser(auth))
    .get(
      "/projects",
      async ({ user, query }) => {
        const page = await store.projects.list(user.id, {
          limit: query.limit ?? 20,
          cursor: query.cursor ?? null,
        });
        return { items: page.items.map((p) => projectView(p, config)), nextCursor: page.nextCursor };
      },
      {
        query: PageQuery,
        response: { 200: pageOf(Project), ...errors },
        detail: { summary: "List your projects" },
      },
    )
    .post(
      "/projects",
      async ({ user, body, set }) => {
        const project = await createProject(store, config, user.id, body);
        set.status = 201;
        return projectView(project, config);
      },
      { body: ProjectCreate, response: { 201: Project, ...errors }, detail: { summary: "Create a project" } },
    )
    .get(
      "/projects/:id",
      async ({ user, params }) => projectView(await getProject(store, user.id, params.id), config),
      {
        params: Id,
        response: { 200: Project, ...errors },
        detail: { summary: "Get a project" },
      },
    )
    .patch(
      "/projects/:id",
      async ({ user, params, body }) =>
        projectView(await updateProject({ store, bus }, config, user.id, params.id, body), config),
      {
        params: Id,
        body: ProjectPatch,
        response: { 200: Project, ...errors },
        detail: { summary: "Change settings" },
      },
    )
    .post(
      "/projects/:id/domain/verify",
      async ({ user, params }) =>
        projectView(await verifyDomain({ store, bus, config }, user.id, params.id), config),
      {
        params: Id,
        response: { 200: Project, ...errors },
        detail: {
          summary: "Verify the custom domain",
          description:
            "Looks up the TXT record in domainVerification; once it matches, the domain is served and can get a certificate, " +
            "and other projects' unverified claims of it are removed. 409 when another project verified it first.",
        },
      },
    )
    .delete(
      "/projects/:id",
      async ({ user, params, set }) => {
        await deleteProject({ store, logs, runtimeLogs, artifacts, gc, bus }, user.id, params.id);
        set.status = 204;
      },
      { params: Id, detail: { summary: "Delete a project with its deployments and logs" } },
    )
    .get(
      "/projects/:id/deployments",
      async ({ user, params, query }) => {
        const project = await getProject(store, user.id, params.id);
        const page = await store.deployments.list(user.id, project.id, {
          limit: query.limit ?? 20,
          cursor: query.cursor ?? null,
        });
        return {
          items: page.items.map((d) => deploymentView(d, project, config)),
          nextCursor: page.nextCursor,
        };
      },
      {
        params: Id,
        query: PageQuery,
        response: { 200: pageOf(Deployment), ...errors },
        detail: { summary: "List a project's deployments, newest first" },
      },
    );
}

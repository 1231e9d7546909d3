// /api/projects: create, list, read, update and delete a user's projects, and list their deployments.

import { Elysia } from "elysia";
import { verifyDomain } from "../deploy/domains.ts";
import { createProject, deleteProject, getProject, updateProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import { requireUser } from "./auth.ts";
import {
  BadCursor,
  Deployment,
  errorResponse,
  Id,
  NoContent,
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
  analytics,
  auth,
  artifacts,
  gc,
  bus,
}: Pick<
  Deps,
  "config" | "store" | "logs" | "runtimeLogs" | "analytics" | "auth" | "artifacts" | "gc" | "bus"
>) {
  // Statuses of these routes' own; authentication, validation, body and rate limits: docs-responses.ts.
  const missing = { 404: errorResponse("No such project, or not yours.") };
  const taken = {
    409: errorResponse(
      "The subdomain is taken, another project verified the custom domain, or MAX_PROJECTS_PER_USER is reached (`project_limit`).",
    ),
  };
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
        response: { 200: pageOf(Project), 400: BadCursor },
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
      {
        body: ProjectCreate,
        parse: "json",
        response: { 201: Project, ...taken },
        detail: { summary: "Create a project" },
      },
    )
    .get(
      "/projects/:id",
      async ({ user, params }) => projectView(await getProject(store, user.id, params.id), config),
      {
        params: Id,
        response: { 200: Project, ...missing },
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
        parse: "json",
        response: { 200: Project, ...missing, ...taken },
        detail: { summary: "Change settings" },
      },
    )
    .post(
      "/projects/:id/domain/verify",
      async ({ user, params }) =>
        projectView(await verifyDomain({ store, bus, config }, user.id, params.id), config),
      {
        params: Id,
        response: {
          200: Project,
          ...missing,
          409: errorResponse("Another project verified this domain first."),
          422: errorResponse(
            "The project has no custom domain, or its TXT record is missing or wrong (or the id is invalid).",
          ),
        },
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
        await deleteProject({ store, logs, runtimeLogs, analytics, artifacts, gc, bus }, user.id, params.id);
        set.status = 204;
      },
      {
        params: Id,
        response: { 204: NoContent, ...missing },
        detail: { summary: "Delete a project with its deployments and logs" },
      },
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
        response: { 200: pageOf(Deployment), 400: BadCursor, ...missing },
        detail: { summary: "List a project's deployments, newest first" },
      },
    );
}

// /api/projects: create, list, read, update and delete a user's projects, and list their deployments.

import { Elysia, t } from "elysia";
import { getProject } from "../deploy/access.ts";
import { announceRoutes } from "../deploy/announce.ts";
import type { Auditor } from "../deploy/audit.ts";
import { verifyDomain } from "../deploy/domains.ts";
import { createProject, deleteProject, updateProject } from "../deploy/projects.ts";
import { transferProject } from "../deploy/teams.ts";
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
import { TeamParam, Transfer } from "./team-schemas.ts";
import { actingTeam } from "./team-scope.ts";
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
  audit,
}: Pick<
  Deps,
  "config" | "store" | "logs" | "runtimeLogs" | "analytics" | "auth" | "artifacts" | "gc" | "bus"
> & {
  audit: Auditor;
}) {
  // Statuses of these routes' own; authentication, validation, body and rate limits: docs-responses.ts.
  const missing = { 404: errorResponse("No such project, or not yours.") };
  const taken = {
    409: errorResponse(
      "The subdomain is taken, another project verified the custom domain, or MAX_PROJECTS_PER_USER is reached (`project_limit`).",
    ),
  };
  const noTeam = { 404: errorResponse("No such team, or you are not a member.") };
  return new Elysia({ tags: ["projects"] })
    .use(requireUser(auth))
    .get(
      "/projects",
      async ({ user, query, request }) => {
        const team = await actingTeam(store, user.id, request, query.team, "read");
        const page = await store.projects.list(
          user.id,
          { limit: query.limit ?? 20, cursor: query.cursor ?? null },
          team?.id ?? null,
        );
        return { items: page.items.map((p) => projectView(p, config)), nextCursor: page.nextCursor };
      },
      {
        query: t.Object({ ...PageQuery.properties, team: TeamParam }),
        response: { 200: pageOf(Project), 400: BadCursor, ...noTeam },
        detail: { summary: "List your personal projects, or a team's (team=<slug>)" },
      },
    )
    .post(
      "/projects",
      async ({ user, body, set, query, request }) => {
        const team = await actingTeam(store, user.id, request, query.team, "write");
        const project = await createProject(store, config, user.id, body, team?.id ?? null);
        await audit.project(request, user, project, "project.create");
        set.status = 201;
        return projectView(project, config);
      },
      {
        body: ProjectCreate,
        query: t.Object({ team: TeamParam }),
        parse: "json",
        response: { 201: Project, ...taken, ...noTeam },
        detail: { summary: "Create a project, in your personal scope or a team's (team=<slug>; members)" },
      },
    )
    .get(
      "/projects/:id",
      async ({ user, params }) => projectView(await getProject(store, user.id, params.id, "read"), config),
      {
        params: Id,
        response: { 200: Project, ...missing },
        detail: { summary: "Get a project" },
      },
    )
    .patch(
      "/projects/:id",
      async ({ user, params, body, request }) => {
        const project = await updateProject({ store, bus }, config, user.id, params.id, body);
        await audit.project(request, user, project, "project.settings", Object.keys(body).sort().join(", "));
        return projectView(project, config);
      },
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
      async ({ user, params, request }) => {
        const project = await verifyDomain({ store, bus, config }, user.id, params.id);
        await audit.project(request, user, project, "domain.verify", project.customDomain);
        return projectView(project, config);
      },
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
      async ({ user, params, set, request }) => {
        const project = await getProject(store, user.id, params.id, "admin");
        await deleteProject({ store, logs, runtimeLogs, analytics, artifacts, gc, bus }, user.id, params.id);
        await audit.project(request, user, project, "project.delete");
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
        const project = await getProject(store, user.id, params.id, "read");
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
    )
    .post(
      "/projects/:id/transfer",
      async ({ user, params, body, request }) => {
        const max = config.limits.maxProjectsPerUser;
        const { from, to, team } = await transferProject(store, user.id, params.id, body.team, max);
        const where = team ? `team ${team.slug}` : `personal scope of ${user.email}`;
        await audit.project(request, user, from, "project.transfer.out", `to ${where}`);
        await audit.project(request, user, to, "project.transfer.in", `to ${where}`);
        await announceRoutes(bus, to.id);
        return projectView(to, config);
      },
      {
        params: Id,
        body: Transfer,
        parse: "json",
        response: {
          200: Project,
          404: errorResponse("No such project or team, or not yours."),
          409: errorResponse(
            "The project is in that scope already, or MAX_PROJECTS_PER_USER is reached there (`project_limit`).",
          ),
        },
        detail: {
          summary: "Move a project to a team or to your personal scope (owner of both)",
          description:
            "Its URLs, deployments, variables and settings move with it; only who may do what changes.",
        },
      },
    );
}

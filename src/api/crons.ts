// /api/projects/:id/crons: the cron jobs of a project's production deployment, when each runs next, and the
// latest runs (src/deploy/crons.ts). Only the project's owner sees them (404 for anyone else).

import { Elysia } from "elysia";
import { projectCrons } from "../deploy/crons.ts";
import type { Deps } from "../deps.ts";
import { requireUser } from "./auth.ts";
import { errorResponse, Id, ProjectCrons } from "./schemas.ts";

export function cronRoutes({ store, artifacts, auth }: Pick<Deps, "store" | "artifacts" | "auth">) {
  return new Elysia({ tags: ["projects"] })
    .use(requireUser(auth))
    .get(
      "/projects/:id/crons",
      async ({ user, params }) => projectCrons({ store, artifacts }, user.id, params.id),
      {
        params: Id,
        response: { 200: ProjectCrons, 404: errorResponse("No such project, or not yours.") },
        detail: { summary: "List the production deployment's cron jobs and their latest runs" },
      },
    );
}

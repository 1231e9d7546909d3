// /api/deployments/:id/app: a deployment's app server (instances, restarts, crash loop, the last exit) where this
// process can see it run: its own proxy's pool, or the functions nodes (PROXY_FUNCTIONS=remote); and a restart.
// Read: viewer and up; restart: member and up; anyone else gets the 404 of a missing one.

import { Elysia, t } from "elysia";
import { getDeployment, type Right } from "../deploy/access.ts";
import type { Auditor } from "../deploy/audit.ts";
import type { Deps } from "../deps.ts";
import { notFound } from "../errors.ts";
import { type AppServers, type AppStatus, unseenAppServers } from "../runtime/app-status.ts";
import { requireUser } from "./auth.ts";
import { errorResponse, Id } from "./schemas.ts";

const Instance = t.Object({
  id: t.String(),
  node: t.Union([t.String(), t.Null()], {
    description: "the functions node it runs on (PROXY_FUNCTIONS=remote); null: in the api's own process",
  }),
  state: t.String({ description: "starting, ready, stopping or stopped" }),
  inFlight: t.Integer({ description: "requests and WebSockets it is serving now" }),
  memoryBytes: t.Union([t.Integer(), t.Null()], {
    description: "its processes' memory now (null without cgroups)",
  }),
  startedAt: t.String({ format: "date-time" }),
  lastRequestAt: t.Union([t.String({ format: "date-time" }), t.Null()]),
});

export const AppServer = t.Object({
  command: t.String(),
  detected: t.String({
    description: "what found the command: the project's setting, Next.js standalone, ...",
  }),
  visible: t.Boolean({
    description:
      "whether this server can see where the app servers run: in its own process (all-in-one), or on the " +
      "functions nodes it asks (PROXY_FUNCTIONS=remote set on the api too); false (an api whose proxies run them): " +
      "the fields below are empty and a restart does nothing",
  }),
  instances: t.Array(Instance),
  restarts: t.Integer(),
  crashes: t.Integer({ description: "failures in a row since it last ran healthy for a minute" }),
  crashLoop: t.Boolean(),
  lastExit: t.Union([t.String(), t.Null()], { description: "why the last instance ended" }),
  unanswered: t.Array(
    t.Object({ id: t.String(), problem: t.String({ description: "no answer within 3 s, refused, ..." }) }),
    {
      description:
        "functions nodes that did not answer in time: their instances are missing from `instances` (and a restart " +
        "may not have reached them)",
    },
  ),
});

export function appRoutes(
  { store, auth, artifacts, audit }: Pick<Deps, "store" | "auth" | "artifacts"> & { audit: Auditor },
  apps: AppServers = unseenAppServers,
) {
  const missing = { 404: errorResponse("No such deployment, not yours, or it has no app server.") };

  async function serverOf(userId: string, id: string, need: Right) {
    const { deployment, project } = await getDeployment(store, userId, id, need);
    const server = (await artifacts.getManifest(deployment.id))?.server;
    if (!server) throw notFound("app server");
    return { server, project };
  }

  const view = ({ command, detected }: { command: string; detected: string }, status: AppStatus) => ({
    command,
    detected,
    ...status,
  });

  return new Elysia({ tags: ["deployments"] })
    .use(requireUser(auth))
    .get(
      "/deployments/:id/app",
      async ({ user, params }) => {
        const { server } = await serverOf(user.id, params.id, "read");
        return view(server, await apps.status(params.id));
      },
      {
        params: Id,
        response: { 200: AppServer, ...missing },
        detail: { summary: "A deployment's app server: its command, instances, restarts and crash loop" },
      },
    )
    .post(
      "/deployments/:id/app/restart",
      async ({ user, params, request }) => {
        const { server, project } = await serverOf(user.id, params.id, "write");
        const status = await apps.restart(params.id);
        await audit.project(request, user, project, "app.restart", `deployment ${params.id}`);
        return view(server, status);
      },
      {
        params: Id,
        response: { 200: AppServer, ...missing },
        detail: { summary: "Stop a deployment's app server instances; the next request starts fresh ones" },
      },
    );
}

// /api/deployments/:id/app: a deployment's app server as this process's proxy runs it (instances, restarts, crash
// loop, the last exit), and a restart. Only the deployment's owner; anyone else gets the 404 of a missing one.

import { Elysia, t } from "elysia";
import { getDeployment, type Right } from "../deploy/access.ts";
import type { Deps } from "../deps.ts";
import { notFound } from "../errors.ts";
import type { AppPool } from "../runtime/apps.ts";
import { requireUser } from "./auth.ts";
import { errorResponse, Id } from "./schemas.ts";

const Instance = t.Object({
  id: t.String(),
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
      "whether this server's process runs the app servers (all-in-one); false: the fields below are empty",
  }),
  instances: t.Array(Instance),
  restarts: t.Integer(),
  crashes: t.Integer({ description: "failures in a row since it last ran healthy for a minute" }),
  crashLoop: t.Boolean(),
  lastExit: t.Union([t.String(), t.Null()], { description: "why the last instance ended" }),
});

export function appRoutes(
  { store, auth, artifacts }: Pick<Deps, "store" | "auth" | "artifacts">,
  apps?: () => AppPool | null,
) {
  const missing = { 404: errorResponse("No such deployment, not yours, or it has no app server.") };

  async function serverOf(userId: string, id: string, need: Right) {
    const { deployment } = await getDeployment(store, userId, id, need);
    const server = (await artifacts.getManifest(deployment.id))?.server;
    if (!server) throw notFound("app server");
    return server;
  }

  function view(id: string, server: { command: string; detected: string }) {
    const running = apps ? (apps()?.view(id)[0] ?? null) : undefined;
    return {
      command: server.command,
      detected: server.detected,
      visible: running !== undefined,
      instances: running?.instances ?? [],
      restarts: running?.restarts ?? 0,
      crashes: running?.crashes ?? 0,
      crashLoop: running?.crashLoop ?? false,
      lastExit: running?.lastExit ?? null,
    };
  }

  return new Elysia({ tags: ["deployments"] })
    .use(requireUser(auth))
    .get(
      "/deployments/:id/app",
      async ({ user, params }) => view(params.id, await serverOf(user.id, params.id, "read")),
      {
        params: Id,
        response: { 200: AppServer, ...missing },
        detail: { summary: "A deployment's app server: its command, instances, restarts and crash loop" },
      },
    )
    .post(
      "/deployments/:id/app/restart",
      async ({ user, params }) => {
        const server = await serverOf(user.id, params.id, "write");
        await apps?.()?.restart(params.id);
        return view(params.id, server);
      },
      {
        params: Id,
        response: { 200: AppServer, ...missing },
        detail: { summary: "Stop a deployment's app server instances; the next request starts fresh ones" },
      },
    );
}

// A functions node's answer to an api process's question about one deployment's app server (POST /v1/apps, signed:
// node-wire.ts): its instances on this node, after stopping them for a restart.

import type { AppsAnswer, AppsCall } from "../../schema/function-nodes.ts";
import type { AppPool } from "./apps.ts";

export async function appsAnswer(apps: AppPool | undefined, call: AppsCall): Promise<AppsAnswer> {
  if (!apps) return { app: null };
  if (call.op === "restart") await apps.restart(call.deploymentId);
  const view = apps.view(call.deploymentId)[0];
  if (!view) return { app: null };
  return {
    app: {
      instances: view.instances.map(({ id, state, inFlight, memoryBytes, startedAt, lastRequestAt }) => ({
        id,
        state,
        inFlight,
        memoryBytes,
        startedAt,
        lastRequestAt,
      })),
      restarts: view.restarts,
      crashes: view.crashes,
      crashLoop: view.crashLoop,
      lastExit: view.lastExit,
    },
  };
}

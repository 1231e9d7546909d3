// Test support for app servers on functions nodes: a deployment whose manifest has an app server (stored as a build
// would leave it, without running one), and a request for it sent straight to a node as a proxy sends it.

import type { FunctionCall } from "../../schema/function-nodes.ts";
import { changeStatus } from "../deploy/state.ts";
import type { Deps } from "../deps.ts";
import { callBody, INVOKE_PATH, SIGNATURE_HEADER, signCall } from "../runtime/node-wire.ts";

/** A Bun app answering "up" on $PORT. */
export const UP_APP = `Bun.serve({ hostname: "127.0.0.1", port: Number(process.env.PORT), fetch: () => new Response("up") });`;

const sha256 = (data: string) => new Bun.CryptoHasher("sha256").update(data).digest("hex");

/** A READY production deployment of `projectId` whose manifest has the app server `bun server.js` (`source`). */
export async function storeAppDeployment(
  deps: Pick<Deps, "store" | "artifacts" | "live" | "bus" | "metrics">,
  projectId: string,
  userId: string,
  source = UP_APP,
): Promise<string> {
  const d = await deps.store.deployments.create({
    projectId,
    userId,
    status: "QUEUED",
    target: "production",
    branch: "main",
    commitSha: null,
  });
  await changeStatus(deps, d.id, "IN_PROGRESS", null);
  await deps.artifacts.putBlob(sha256(source), new TextEncoder().encode(source));
  await deps.artifacts.putManifest({
    version: 2,
    deploymentId: d.id,
    createdAt: new Date().toISOString(),
    files: {},
    server: {
      command: "bun server.js",
      detected: "the project's start command",
      files: { "server.js": { hash: sha256(source), size: Buffer.byteLength(source) } },
    },
  });
  // Only now: a deployment goes READY once its manifest is stored.
  if (!(await changeStatus(deps, d.id, "READY", null)))
    throw new Error("could not mark the deployment READY");
  return d.id;
}

/** A GET / for the deployment's app server sent to `node` as a proxy sends it (its instance starts there): the body. */
export async function wakeApp(
  deps: Pick<Deps, "nodeAuth">,
  node: { id: string; url: string },
  target: { deploymentId: string; projectId: string },
): Promise<string> {
  const call: FunctionCall = {
    v: 1,
    node: node.id,
    at: Date.now(),
    nonce: crypto.randomUUID().replaceAll("-", ""),
    method: "GET",
    headers: [],
    ...target,
    environment: "production",
    deploymentUrl: "http://site--abc.localhost:8001",
    app: { idleMs: 600_000, maxInstances: 1 },
    path: "/",
    search: "",
    host: "site.localhost:8001",
    proto: "http",
    clientIp: null,
    requestId: "req-apps-1",
  };
  const { bytes, signature } = signCall(deps.nodeAuth, call);
  const res = await fetch(`${node.url}${INVOKE_PATH}`, {
    method: "POST",
    headers: { [SIGNATURE_HEADER]: signature },
    body: callBody(bytes, null, { taken: () => {}, touched: () => {} }),
    duplex: "half",
  } as RequestInit);
  return res.text();
}

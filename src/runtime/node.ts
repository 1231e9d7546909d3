// The functions role (`serve --role=functions`): the function runtime on a machine of its own. Proxies find it
// through its signed heartbeats on the bus (src/proxy/function-nodes.ts) and send it calls on FUNCTIONS_PORT
// (node-wire.ts); it checks each one, reads the function's code from the artifact store (S3 in a scaled setup:
// it needs no files of the builder's), runs it in its sandbox and streams the answer back.

import { hostname } from "node:os";
import type { FunctionCall } from "../../schema/function-nodes.ts";
import type { Bus, Subscription } from "../bus/bus.ts";
import type { NodeAuth } from "../identity/node-auth.ts";
import type { Artifacts, Manifest } from "../store/artifacts.ts";
import {
  HEARTBEAT_MS,
  INVOKE_PATH,
  MAX_CALL_BYTES,
  OUTCOME_HEADER,
  PLATFORM_HEADER_PREFIX,
  readCall,
  replayGuard,
  signed,
  verified,
} from "./node-wire.ts";
import { createRuntime, type FunctionRuntime, type Outcome, type RuntimeDeps } from "./runtime.ts";

/** Deployments whose functions this node keeps in memory (manifests never change once stored). */
const MAX_MANIFESTS = 512;
/** Bun.serve's longest idle time: a function's stream may pause this long (its maxDuration still applies). */
const IDLE_SECONDS = 255;

export type NodeDeps = RuntimeDeps & {
  config: RuntimeDeps["config"] & { host: string };
  artifacts: Pick<Artifacts, "getBlob" | "getManifest">;
  bus: Bus;
  nodeAuth: NodeAuth;
};

export interface FunctionsNode {
  id: string;
  /** Where proxies reach it (FUNCTIONS_ADVERTISED_URL, or made from the host and the port it got). */
  url: string;
  /** Its internal endpoint, to drain with the other servers (src/roles.ts). */
  server: ReturnType<typeof Bun.serve>;
  runtime: FunctionRuntime;
  /** Stops announcing itself and tells the proxies, so they send it nothing more; then drain the server. */
  leave(): Promise<void>;
  /** After the drain: stops the instances and what is left. */
  stop(): Promise<void>;
}

/** http://host:port, a wildcard listen address replaced by the machine's name. */
function advertised(host: string, port: number): string {
  const name = host === "0.0.0.0" || host === "::" || host === "" ? hostname() : host;
  return `http://${name.includes(":") ? `[${name}]` : name}:${port}`;
}

function failed(status: number, reason: string): Response {
  return Response.json({ reason }, { status, headers: { [OUTCOME_HEADER]: "failed" } });
}

/** An outcome as the node's answer: the function's own status, headers and body, or the platform's failure. */
function answer(outcome: Outcome): Response {
  if (outcome.kind === "failed") return failed(outcome.status, outcome.reason);
  const { response } = outcome;
  const headers = new Headers();
  for (const [name, value] of response.headers)
    if (!name.startsWith(PLATFORM_HEADER_PREFIX) && name !== "set-cookie") headers.append(name, value);
  for (const cookie of response.headers.getSetCookie()) headers.append("set-cookie", cookie);
  headers.set(OUTCOME_HEADER, "response");
  return new Response(response.body, { status: response.status, headers });
}

export async function startFunctionsNode(deps: NodeDeps): Promise<FunctionsNode> {
  const { config } = deps;
  const id = crypto.randomUUID();
  const log = deps.log.child({ role: "functions", node: id });
  const runtime = createRuntime(deps);
  const guard = replayGuard();
  const manifests = new Map<string, Promise<Manifest["functions"] | null>>();
  let refused = 0;

  /** A deployment's functions, from its manifest in the artifact store. */
  function functionsOf(deploymentId: string): Promise<Manifest["functions"] | null> {
    let found = manifests.get(deploymentId);
    if (!found) {
      found = deps.artifacts.getManifest(deploymentId).then((m) => m?.functions ?? null);
      if (manifests.size >= MAX_MANIFESTS) manifests.clear();
      manifests.set(deploymentId, found);
      // Absent or unreadable now is not absent for good: asked again next time.
      const drop = () => manifests.get(deploymentId) === found && manifests.delete(deploymentId);
      found.then((fns) => fns ?? drop(), drop);
    }
    return found;
  }

  async function invoke(call: FunctionCall, body: ReadableStream<Uint8Array> | null): Promise<Response> {
    const fn = (await functionsOf(call.deploymentId))?.[call.function];
    if (!fn) return failed(502, `the deployment's manifest has no function ${call.function}`);
    let request: Request;
    try {
      // The visitor's headers as the proxy forwards them; Vercel's x-forwarded-* and x-vercel-* come from the
      // signed call alone (the runtime sets them), whatever the visitor sent.
      const headers = new Headers();
      for (const [name, value] of call.headers)
        if (!name.toLowerCase().startsWith(PLATFORM_HEADER_PREFIX)) headers.append(name, value);
      request = new Request("http://function.invalid/", {
        method: call.method,
        headers,
        ...(body && { body, duplex: "half" }),
      } as RequestInit);
    } catch (error) {
      return failed(502, `the request cannot be passed to a function: ${String(error)}`);
    }
    const outcome = await runtime.invoke(
      {
        deploymentId: call.deploymentId,
        projectId: call.projectId,
        environment: call.environment,
        deploymentUrl: call.deploymentUrl,
        path: call.function,
        fn,
      },
      {
        request,
        path: call.path,
        search: call.search,
        host: call.host,
        proto: call.proto,
        clientIp: call.clientIp,
        requestId: call.requestId,
      },
    );
    return answer(outcome);
  }

  async function handle(request: Request): Promise<Response> {
    // Only the one internal route, whatever the Host: this port is never a site.
    if (request.method !== "POST" || new URL(request.url).pathname !== INVOKE_PATH)
      return new Response(null, { status: 404 });
    const read = await readCall(request, deps.nodeAuth, guard, id);
    if (!read.ok) {
      // No detail for the caller; a note for the operator (once per burst).
      if (refused++ % 100 === 0) log.warn(`functions node: refused a call: ${read.problem}`);
      return new Response(null, { status: read.status });
    }
    return invoke(read.call, read.body);
  }

  const server = Bun.serve({
    hostname: config.host,
    port: config.functions.port,
    maxRequestBodySize: config.functions.maxBodyMb * 1024 * 1024 + MAX_CALL_BYTES + 4,
    idleTimeout: IDLE_SECONDS,
    fetch: handle,
    error(error) {
      log.error("functions node: a call failed", { error });
      return failed(502, "the functions node failed");
    },
  });
  const url = config.functions.advertisedUrl ?? advertised(config.host, server.port ?? config.functions.port);

  let leaving = false;
  const announce = async (): Promise<void> => {
    if (leaving) return;
    const message = signed(deps.nodeAuth, {
      type: "node",
      id,
      url,
      capacity: config.functions.capacity,
      load: runtime.instances().length,
      at: Date.now(),
    });
    await deps.bus
      .publish("function-nodes", id, message)
      .catch((error: unknown) => log.warn("functions node: heartbeat not sent", { error }));
  };
  // A new proxy asks every node to announce itself at once (src/proxy/function-nodes.ts).
  const probes: Subscription = await deps.bus.consume(
    "function-nodes",
    `function-node-${id}`,
    async (value) => {
      if (verified(deps.nodeAuth, value)?.type === "probe") await announce();
    },
    { transient: true },
  );
  await announce();
  const heartbeat = setInterval(() => void announce(), HEARTBEAT_MS);
  log.info(`functions node ${id} serving at ${url}`);

  return {
    id,
    url,
    server,
    runtime,
    async leave() {
      leaving = true;
      clearInterval(heartbeat);
      const message = signed(deps.nodeAuth, { type: "leaving", id, at: Date.now() });
      await deps.bus
        .publish("function-nodes", id, message)
        .catch((error: unknown) => log.warn("functions node: could not say it leaves", { error }));
    },
    async stop() {
      leaving = true;
      clearInterval(heartbeat);
      await probes.stop();
      await runtime.stop();
    },
  };
}

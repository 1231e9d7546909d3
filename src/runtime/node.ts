// The functions role (`serve --role=functions`): the function runtime on a machine of its own. Proxies find it
// through its signed heartbeats on the bus (src/proxy/function-nodes.ts) and send it calls on FUNCTIONS_PORT
// (node-wire.ts); it checks each one, reads the function's code from the artifact store (S3 in a scaled setup:
// it needs no files of the builder's), runs it in its sandbox and streams the answer back. Api processes ask it about
// an app server's instances here too (node-apps.ts), signed the same way.

import { hostname } from "node:os";
import type { Server } from "bun";
import type { FunctionCall } from "../../schema/function-nodes.ts";
import type { Bus, Subscription } from "../bus/bus.ts";
import type { NodeAuth } from "../identity/node-auth.ts";
import type { Artifacts, Manifest } from "../store/artifacts.ts";
import type { AppTarget } from "./apps.ts";
import { forwardedHeaders } from "./forward.ts";
import { appsAnswer } from "./node-apps.ts";
import {
  APPS_PATH,
  HEARTBEAT_MS,
  INVOKE_PATH,
  MAX_CALL_BYTES,
  OUTCOME_HEADER,
  PLATFORM_HEADER_PREFIX,
  readAppsCall,
  readCall,
  readSocketCall,
  replayGuard,
  SOCKET_PATH,
  signed,
  verified,
} from "./node-wire.ts";
import {
  createRuntime,
  type FunctionRuntime,
  type Invocation,
  type Outcome,
  type RuntimeDeps,
} from "./runtime.ts";
import { connectUpstream, type RelayData, relayHandlers } from "./websocket.ts";

/** Deployments whose manifests this node keeps in memory (manifests never change once stored). */
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
  const manifests = new Map<string, Promise<Manifest | null>>();
  let refused = 0;

  /** A deployment's manifest (its functions and app server), from the artifact store. */
  function manifestOf(deploymentId: string): Promise<Manifest | null> {
    let found = manifests.get(deploymentId);
    if (!found) {
      found = deps.artifacts.getManifest(deploymentId);
      if (manifests.size >= MAX_MANIFESTS) manifests.clear();
      manifests.set(deploymentId, found);
      // Absent or unreadable now is not absent for good: asked again next time.
      const drop = () => manifests.get(deploymentId) === found && manifests.delete(deploymentId);
      found.then((m) => m ?? drop(), drop);
    }
    return found;
  }

  /** The visitor's request as the call describes it; Vercel's x-forwarded-* and x-vercel-* come from the call. */
  function invocationOf(call: FunctionCall, body: ReadableStream<Uint8Array> | null): Invocation {
    const headers = new Headers();
    for (const [name, value] of call.headers)
      if (!name.toLowerCase().startsWith(PLATFORM_HEADER_PREFIX)) headers.append(name, value);
    const request = new Request("http://function.invalid/", {
      method: call.method,
      headers,
      ...(body && { body, duplex: "half" }),
    } as RequestInit);
    return {
      request,
      path: call.path,
      search: call.search,
      host: call.host,
      proto: call.proto,
      clientIp: call.clientIp,
      requestId: call.requestId,
    };
  }

  /** The app server the call is for, with the project's settings the proxy sent; or why there is none. */
  async function appTargetOf(call: FunctionCall, app: NonNullable<FunctionCall["app"]>) {
    const server = (await manifestOf(call.deploymentId))?.server;
    if (!server) return null;
    const target: AppTarget = {
      deploymentId: call.deploymentId,
      projectId: call.projectId,
      environment: call.environment,
      deploymentUrl: call.deploymentUrl,
      server,
      idleMs: app.idleMs,
      maxInstances: app.maxInstances,
    };
    return target;
  }

  async function invokeApp(
    call: FunctionCall,
    app: NonNullable<FunctionCall["app"]>,
    body: ReadableStream<Uint8Array> | null,
  ): Promise<Response> {
    const target = await appTargetOf(call, app);
    if (!target || !runtime.apps) return failed(502, "the deployment has no app server");
    if (app.start) {
      try {
        await runtime.apps.warm(target);
        return new Response(null, { status: 204, headers: { [OUTCOME_HEADER]: "response" } });
      } catch (error) {
        return failed(502, error instanceof Error ? error.message : String(error));
      }
    }
    let invocation: Invocation;
    try {
      invocation = invocationOf(call, body);
    } catch (error) {
      return failed(502, `the request cannot be passed to the app server: ${String(error)}`);
    }
    return answer(await runtime.apps.invoke(target, invocation));
  }

  async function invoke(call: FunctionCall, body: ReadableStream<Uint8Array> | null): Promise<Response> {
    if (call.app) return invokeApp(call, call.app, body);
    const fn = call.function ? (await manifestOf(call.deploymentId))?.functions?.[call.function] : undefined;
    if (!fn || !call.function)
      return failed(502, `the deployment's manifest has no function ${call.function}`);
    let invocation: Invocation;
    try {
      invocation = invocationOf(call, body);
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
      invocation,
    );
    return answer(outcome);
  }

  /**
   * A proxy's WebSocket to an app server: the node opens the app's side (its answer to the upgrade passed back as
   * it is, but for the platform's headers), then relays frames as the proxy does for its visitors.
   */
  async function socket(request: Request, server: Server<RelayData>): Promise<Response | undefined> {
    const read = readSocketCall(request, deps.nodeAuth, guard, id);
    if (!read.ok) {
      if (refused++ % 100 === 0) log.warn(`functions node: refused a socket call: ${read.problem}`);
      return new Response(null, { status: read.status });
    }
    const { call } = read;
    const target = call.app ? await appTargetOf(call, call.app) : null;
    if (!target || !runtime.apps) return failed(502, "the deployment has no app server");
    const invocation = invocationOf(call, null);
    const acquired = await runtime.apps.acquire(target, invocation);
    if ("failed" in acquired) return failed(502, acquired.failed);
    const opened = await connectUpstream(
      acquired.address,
      `${call.path}${call.search}`,
      forwardedHeaders(invocation, call.deploymentUrl),
    ).catch(() => null);
    if (opened === null || opened.kind === "refused") {
      acquired.release();
      if (!opened) return failed(502, "the app server closed the connection");
      const headers = new Headers();
      for (const [name, value] of opened.response.headers)
        if (!name.startsWith(PLATFORM_HEADER_PREFIX)) headers.append(name, value);
      return new Response(opened.response.body, { status: opened.response.status, headers });
    }
    const data: RelayData = { upstream: opened.socket, release: acquired.release, protocol: opened.protocol };
    const protocol = opened.protocol;
    if (
      server.upgrade(request, { data, ...(protocol && { headers: { "sec-websocket-protocol": protocol } }) })
    )
      return undefined;
    opened.socket.end();
    acquired.release();
    return new Response(null, { status: 400 });
  }

  /** An api process asks about a deployment's app server here (its instances, or a restart). */
  async function apps(request: Request): Promise<Response> {
    const read = await readAppsCall(request, deps.nodeAuth, guard, id);
    if (!read.ok) {
      if (refused++ % 100 === 0) log.warn(`functions node: refused an app server question: ${read.problem}`);
      return new Response(null, { status: read.status });
    }
    return Response.json(await appsAnswer(runtime.apps, read.call));
  }

  async function handle(request: Request, server: Server<RelayData>): Promise<Response | undefined> {
    // Only the internal routes, whatever the Host: this port is never a site.
    const path = new URL(request.url).pathname;
    if (request.method === "GET" && path === SOCKET_PATH) return socket(request, server);
    if (request.method === "POST" && path === APPS_PATH) return apps(request);
    if (request.method !== "POST" || path !== INVOKE_PATH) return new Response(null, { status: 404 });
    const read = await readCall(request, deps.nodeAuth, guard, id);
    if (!read.ok) {
      // No detail for the caller; a note for the operator (once per burst).
      if (refused++ % 100 === 0) log.warn(`functions node: refused a call: ${read.problem}`);
      return new Response(null, { status: read.status });
    }
    return invoke(read.call, read.body);
  }

  const server = Bun.serve<RelayData>({
    hostname: config.host,
    port: config.functions.port,
    maxRequestBodySize: config.functions.maxBodyMb * 1024 * 1024 + MAX_CALL_BYTES + 4,
    idleTimeout: IDLE_SECONDS,
    fetch: handle,
    websocket: relayHandlers,
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

// App servers on functions nodes (PROXY_FUNCTIONS=remote): the app pool as the proxy sees it when the instances run
// on `functions` nodes. Requests travel as functions' calls do (functions-remote.ts), marked as the deployment's
// app server's; every request of one deployment goes to the node rendezvous hashing picks for it, so its instances,
// idle timer and instance limit live on one node while it is up. A WebSocket is opened to the node's socket
// endpoint with the signed call in its headers; the node relays it to the app (src/runtime/node.ts).

import type { NodeAuth } from "../identity/node-auth.ts";
import type { Logger } from "../observe/log.ts";
import type { AppPool, AppTarget } from "../runtime/apps.ts";
import {
  CALL_HEADER,
  MAX_HEADER_CALL_BYTES,
  SIGNATURE_HEADER,
  SOCKET_PATH,
  signCall,
} from "../runtime/node-wire.ts";
import type { Invocation, Outcome } from "../runtime/runtime.ts";
import type { NodeDirectory } from "./function-nodes.ts";
import type { UnsentCall } from "./functions-remote.ts";

/** What the functions' remote runtime lends: making a call and sending it to a node. */
export interface Calls {
  callOf(target: AppTarget, invocation: Invocation, what: Pick<UnsentCall, "function" | "app">): UnsentCall;
  send(
    key: string,
    call: UnsentCall,
    request: Request,
    limitMs: number | null,
    logged: Record<string, string>,
  ): Promise<Outcome>;
}

/** All of one deployment's server on one node (while it is up). */
const keyOf = (target: AppTarget) => `${target.deploymentId}:(app server)`;

const settingsOf = (target: AppTarget) => ({ idleMs: target.idleMs, maxInstances: target.maxInstances });

export function remoteApps(
  deps: { nodeAuth: NodeAuth; config: { functions: { startTimeoutSeconds: number } }; log: Logger },
  directory: NodeDirectory,
  calls: Calls,
): AppPool {
  const logged = (target: AppTarget) => ({ deploymentId: target.deploymentId, function: "(app server)" });
  return {
    invoke(target, invocation) {
      const call = calls.callOf(target, invocation, { app: settingsOf(target) });
      // No deadline of the proxy's: an app's answer may stream for as long as the app keeps it going.
      return calls.send(keyOf(target), call, invocation.request, null, logged(target));
    },

    async warm(target) {
      const request = new Request("http://warm.invalid/");
      const invocation: Invocation = {
        request,
        path: "/",
        search: "",
        host: new URL(target.deploymentUrl).host,
        proto: "http",
        clientIp: null,
        requestId: crypto.randomUUID(),
      };
      const call = calls.callOf(target, invocation, { app: { ...settingsOf(target), start: true } });
      const limitMs = (deps.config.functions.startTimeoutSeconds + 10) * 1000;
      const outcome = await calls.send(keyOf(target), call, request, limitMs, logged(target));
      if (outcome.kind === "failed") throw new Error(outcome.reason);
      await outcome.response.body?.cancel();
    },

    async acquire(target, invocation) {
      await directory.settled();
      const [node] = directory.candidates(keyOf(target));
      if (!node) return { failed: "no functions node is up (PROXY_FUNCTIONS=remote)" };
      const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString("base64url");
      const { bytes, signature } = signCall(deps.nodeAuth, {
        ...calls.callOf(target, invocation, { app: settingsOf(target) }),
        node: node.id,
        at: Date.now(),
        nonce,
      });
      if (bytes.byteLength > MAX_HEADER_CALL_BYTES)
        return { failed: "the request's headers are too large for a WebSocket through a functions node" };
      const url = new URL(node.url);
      return {
        address: {
          hostname: url.hostname,
          port: Number(url.port || (url.protocol === "https:" ? 443 : 80)),
          path: SOCKET_PATH,
          headers: [
            [SIGNATURE_HEADER, signature],
            [CALL_HEADER, Buffer.from(bytes).toString("base64url")],
          ],
        },
        // The node holds its instance for as long as the WebSocket is open.
        release: () => {},
      };
    },

    // The instances are the nodes': an api asks them itself (apps-nodes.ts).
    view: () => [],
    restart: async () => 0,
    async stop() {},
  };
}

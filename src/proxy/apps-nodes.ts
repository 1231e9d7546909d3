// App servers on functions nodes as an api process sees them (PROXY_FUNCTIONS=remote): it asks every live node
// (function-nodes.ts) about a deployment's server with a signed call (POST /v1/apps: src/runtime/node-wire.ts) and
// merges the answers, each instance tagged with its node: after a node joins or leaves, one deployment can have
// instances on two nodes. A restart goes to every node. A node that does not answer in time is named in the
// answer instead of holding it up.

import { parseAppsAnswer } from "../../schema/function-nodes.ts";
import type { Bus } from "../bus/bus.ts";
import type { Config } from "../config/config.ts";
import type { NodeAuth } from "../identity/node-auth.ts";
import type { Logger } from "../observe/log.ts";
import {
  type AppServers,
  localAppServers,
  mergeViews,
  type ServerView,
  type UnansweredNode,
} from "../runtime/app-status.ts";
import type { AppPool } from "../runtime/apps.ts";
import { APPS_PATH, SIGNATURE_HEADER, signAppsCall } from "../runtime/node-wire.ts";
import { type FunctionNode, type NodeDirectory, watchFunctionNodes } from "./function-nodes.ts";

/** How long a node may take to answer (a restart included: stopping an instance kills its tree at once). */
export const APPS_ANSWER_MS = 3_000;

type Asked = { node: string; view: ServerView | null } | { node: string; problem: string };

export function nodeAppServers(
  deps: { nodeAuth: NodeAuth; log: Logger },
  directory: NodeDirectory,
  options: { answerMs?: number } = {},
): AppServers {
  const log = deps.log.child({ part: "apps-nodes" });
  const answerMs = options.answerMs ?? APPS_ANSWER_MS;

  async function ask(node: FunctionNode, op: "view" | "restart", deploymentId: string): Promise<Asked> {
    const { bytes, signature } = signAppsCall(deps.nodeAuth, {
      v: 1,
      node: node.id,
      at: Date.now(),
      nonce: Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString("base64url"),
      op,
      deploymentId,
    });
    try {
      const response = await fetch(`${node.url}${APPS_PATH}`, {
        method: "POST",
        headers: { [SIGNATURE_HEADER]: signature, "content-type": "application/json" },
        body: bytes as Uint8Array<ArrayBuffer>,
        redirect: "manual",
        signal: AbortSignal.timeout(answerMs),
      });
      if (!response.ok) {
        await response.body?.cancel().catch(() => {});
        // 401: another MINIVERCEL_SECRET_KEY or a clock off; 400 or 404: another version of minivercel.
        log.warn(
          `functions node ${node.id} at ${node.url} refused an app server question: HTTP ${response.status}`,
        );
        return { node: node.id, problem: `refused the question (HTTP ${response.status})` };
      }
      const answer = parseAppsAnswer(await response.json().catch(() => null));
      if (!answer) return { node: node.id, problem: "answered something else than an app server's view" };
      return { node: node.id, view: answer.app };
    } catch (error) {
      const late = error instanceof DOMException && error.name === "TimeoutError";
      return {
        node: node.id,
        problem: late ? `no answer within ${answerMs / 1000} s` : "could not be reached",
      };
    }
  }

  async function askAll(op: "view" | "restart", deploymentId: string) {
    await directory.settled();
    const asked = await Promise.all(directory.nodes().map((node) => ask(node, op, deploymentId)));
    const views: { node: string; view: ServerView }[] = [];
    const unanswered: UnansweredNode[] = [];
    for (const one of asked) {
      if ("problem" in one) unanswered.push({ id: one.node, problem: one.problem });
      else if (one.view) views.push({ node: one.node, view: one.view });
    }
    return mergeViews(views, unanswered);
  }

  return {
    status: (deploymentId) => askAll("view", deploymentId),
    restart: (deploymentId) => askAll("restart", deploymentId),
  };
}

/**
 * Where an api process sees app servers run (src/roles.ts): its own proxy's pool (all-in-one, functions local), or
 * the functions nodes (PROXY_FUNCTIONS=remote: the proxy's directory of them, or one of its own, returned to stop
 * with the process); otherwise nowhere (its proxies run them in their processes).
 */
export async function appServersFor(
  deps: { config: Pick<Config, "roles" | "functions">; bus: Bus; nodeAuth: NodeAuth; log: Logger },
  proxyNodes: NodeDirectory | null,
  localPool: () => AppPool | null,
): Promise<{ servers: AppServers | null; directory: NodeDirectory | null }> {
  const { config } = deps;
  if (config.functions.placement === "remote") {
    if (proxyNodes) return { servers: nodeAppServers(deps, proxyNodes), directory: null };
    // No gauge of nodes here: minivercel_function_nodes is the proxies' (what they can send calls to).
    const directory = await watchFunctionNodes({ bus: deps.bus, nodeAuth: deps.nodeAuth, log: deps.log });
    return { servers: nodeAppServers(deps, directory), directory };
  }
  if (config.roles.includes("proxy")) return { servers: localAppServers(localPool), directory: null };
  return { servers: null, directory: null };
}

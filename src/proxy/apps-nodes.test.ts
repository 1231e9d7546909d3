// App servers on functions nodes as an api process sees them, through two real nodes (their app pools and sandboxed
// instances) over the in-process bus: the signed question (POST /v1/apps) and its refusals, instances on two nodes
// merged and tagged with their node, a restart reaching both, a node that answers late or refuses named in the
// answer instead of failing it, and the dashboard's page and Restart button on top of it.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { AppsCall } from "../../schema/function-nodes.ts";
import { createDashboard } from "../dashboard/app.ts";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import { createNodeAuth, type NodeAuth } from "../identity/node-auth.ts";
import type { User } from "../model/entities.ts";
import { type FunctionsNode, startFunctionsNode } from "../runtime/node.ts";
import { APPS_PATH, MAX_SKEW_MS, SIGNATURE_HEADER, signAppsCall, signed } from "../runtime/node-wire.ts";
import { storeAppDeployment, wakeApp } from "../testing/apps.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { signIn, signInAs, Visitor } from "../testing/visitor.ts";
import { nodeAppServers } from "./apps-nodes.ts";
import { type NodeDirectory, watchFunctionNodes } from "./function-nodes.ts";

let deps: Deps;
let nodes: FunctionsNode[] = [];
let directory: NodeDirectory;
let deploymentId = "";
let projectId = "";
let owner: User;
/** Stand-ins for nodes that misbehave: one never answers, one refuses every question. */
let silent: ReturnType<typeof Bun.serve>;
let refusing: ReturnType<typeof Bun.serve>;

beforeAll(async () => {
  deps = await testDeps({
    LISTEN_HOST: "127.0.0.1",
    FUNCTIONS_PORT: "0",
    FUNCTION_START_TIMEOUT_SECONDS: "10",
  });
  nodes = [await startFunctionsNode(deps), await startFunctionsNode(deps)];
  directory = await watchFunctionNodes(deps);
  const { user } = await testUser(deps);
  owner = user;
  projectId = (await createProject(deps.store, deps.config, user.id, { name: "apps-nodes" })).id;
  deploymentId = await storeAppDeployment(deps, projectId, user.id);
  silent = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Promise<Response>(() => {}) });
  refusing = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(null, { status: 401 }) });
}, 30_000);

afterAll(async () => {
  await directory?.stop();
  for (const node of nodes) {
    node.server.stop(true);
    await node.stop();
  }
  silent?.stop(true);
  refusing?.stop(true);
  await deps?.close();
}, 30_000);

const nonce = () => crypto.randomUUID().replaceAll("-", "");

const wake = (node: FunctionsNode) => wakeApp(deps, node, { deploymentId, projectId });

function question(node: FunctionsNode, more: Partial<AppsCall> = {}): AppsCall {
  return { v: 1, node: node.id, at: Date.now(), nonce: nonce(), op: "view", deploymentId, ...more };
}

function ask(
  node: FunctionsNode,
  call: AppsCall,
  options: { auth?: NodeAuth; signature?: string | null; body?: string } = {},
): Promise<Response> {
  const { bytes, signature } = signAppsCall(options.auth ?? deps.nodeAuth, call);
  const sig = options.signature === undefined ? signature : options.signature;
  return fetch(`${node.url}${APPS_PATH}`, {
    method: "POST",
    headers: sig === null ? {} : { [SIGNATURE_HEADER]: sig },
    body: options.body ?? (bytes as Uint8Array<ArrayBuffer>),
  });
}

const instancesOn = (node: FunctionsNode) => node.runtime.apps?.view(deploymentId)[0]?.instances ?? [];

async function refused(response: Promise<Response>, status = 401): Promise<void> {
  const res = await response;
  expect({ status: res.status, body: await res.text() }).toEqual({ status, body: "" });
}

describe("the node's side", () => {
  test("a signed question is answered with the node's view of the server (none yet: null)", async () => {
    const [a] = nodes;
    if (!a) throw new Error("no node");
    const res = await ask(a, question(a));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ app: null });
  });

  test("refused with a bare status, and nothing restarted: unsigned, another key, tampered, stale, another node's, replayed", async () => {
    const [a] = nodes;
    if (!a) throw new Error("no node");
    expect(await wake(a)).toBe("up");
    const [before] = instancesOn(a);
    expect(before?.state).toBe("ready");
    const restart = (more: Partial<AppsCall> = {}) => question(a, { op: "restart", ...more });
    await refused(ask(a, restart(), { signature: null }));
    await refused(ask(a, restart(), { auth: createNodeAuth(crypto.getRandomValues(new Uint8Array(32))) }));
    const { signature } = signAppsCall(deps.nodeAuth, question(a));
    await refused(ask(a, restart(), { signature }));
    await refused(ask(a, restart({ at: Date.now() - MAX_SKEW_MS - 5_000 })));
    await refused(ask(a, restart({ at: Date.now() + MAX_SKEW_MS + 5_000 })));
    await refused(ask(a, restart({ node: crypto.randomUUID() })));
    const once = question(a);
    expect((await ask(a, once)).status).toBe(200);
    await refused(ask(a, once));
    // Signed but not a question this node knows (another version): a bare 400; too large: the same.
    await refused(ask(a, { ...question(a), extra: 1 } as AppsCall), 400);
    await refused(ask(a, question(a), { body: "x".repeat(5000), signature: "A".repeat(43) }), 400);
    expect(instancesOn(a).map((i) => i.id)).toEqual([before?.id ?? ""]);
  }, 30_000);
});

describe("the api's side", () => {
  test("instances on two nodes merged, each with its node; a restart stops them on both", async () => {
    const [a, b] = nodes;
    if (!a || !b) throw new Error("no nodes");
    expect(await wake(a)).toBe("up");
    expect(await wake(b)).toBe("up");
    const servers = nodeAppServers(deps, directory);
    const status = await servers.status(deploymentId);
    expect(status).toMatchObject({ visible: true, crashLoop: false, unanswered: [] });
    const onNode = (node: FunctionsNode) => [node.id, instancesOn(node)[0]?.id ?? "", "ready"];
    expect(status.instances.map((i) => [i.node ?? "", i.id, i.state]).sort()).toEqual(
      [onNode(a), onNode(b)].sort(),
    );
    const first = status.instances.map((i) => i.id);

    const after = await servers.restart(deploymentId);
    expect(after.instances).toEqual([]);
    expect(after.restarts).toBe(2);
    expect([instancesOn(a), instancesOn(b)]).toEqual([[], []]);
    // The next request starts a fresh instance.
    expect(await wake(a)).toBe("up");
    const again = await servers.status(deploymentId);
    expect(again.instances).toHaveLength(1);
    expect(first).not.toContain(again.instances[0]?.id);
    // Another deployment's server never ran anywhere: visible, but nothing.
    expect(await servers.status(crypto.randomUUID())).toMatchObject({ visible: true, instances: [] });
  }, 60_000);

  test("a node that does not answer in time, or refuses, is named in the answer; the others' instances are there", async () => {
    const announce = async (url: string) => {
      const id = crypto.randomUUID();
      const message = signed(deps.nodeAuth, { type: "node", id, url, capacity: 1, load: 0, at: Date.now() });
      await deps.bus.publish("function-nodes", id, message);
      return id;
    };
    const late = await announce(`http://127.0.0.1:${silent.port}`);
    const refuses = await announce(`http://127.0.0.1:${refusing.port}`);
    for (let i = 0; i < 50 && directory.nodes().length < 4; i++) await Bun.sleep(20);
    const servers = nodeAppServers(deps, directory, { answerMs: 500 });
    const started = performance.now();
    const status = await servers.status(deploymentId);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(status.instances).toHaveLength(1);
    expect(status.unanswered.sort((x, y) => x.id.localeCompare(y.id))).toEqual(
      [
        { id: late, problem: "no answer within 0.5 s" },
        { id: refuses, problem: "refused the question (HTTP 401)" },
      ].sort((x, y) => x.id.localeCompare(y.id)),
    );
    // A restart still reaches the nodes that answer.
    const after = await servers.restart(deploymentId);
    expect(after.instances).toEqual([]);
    expect(after.unanswered).toHaveLength(2);
  }, 30_000);

  test("the dashboard's page: each instance with its node, a node without an answer named; Restart for members", async () => {
    const [a] = nodes;
    if (!a) throw new Error("no node");
    expect(await wake(a)).toBe("up");
    const dashboard = createDashboard(deps, { apps: nodeAppServers(deps, directory, { answerMs: 500 }) });
    const visitor = new Visitor(dashboard);
    await signInAs(deps.store, visitor, owner);
    const page = await visitor.get(`/deployments/${deploymentId}`);
    expect(page.status).toBe(200);
    const [instance] = instancesOn(a);
    expect(page.text).toContain(`data-instance="${instance?.id}"`);
    expect(page.text).toContain(`data-node="${a.id}"`);
    expect(page.text.match(/data-unanswered="[^"]+"/g)).toHaveLength(2);
    expect(page.text).toContain("no answer within 0.5 s: its instances are not listed.");
    // A stranger changes nothing (the same 404 as a missing deployment); the owner's Restart stops it.
    const stranger = new Visitor(dashboard);
    await signIn(deps.store, stranger);
    await stranger.get("/");
    expect((await stranger.post(`/deployments/${deploymentId}/restart`)).status).toBe(404);
    expect(instancesOn(a).map((i) => i.id)).toEqual([instance?.id ?? ""]);
    expect((await visitor.post(`/deployments/${deploymentId}/restart`)).status).toBe(303);
    expect(instancesOn(a)).toEqual([]);
    expect((await visitor.get(`/deployments/${deploymentId}`)).text).not.toContain("data-instance=");
  }, 30_000);
});

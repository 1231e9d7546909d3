// Which app servers an api process sees, as the role starter wires it: all-in-one with PROXY_FUNCTIONS=remote and a
// functions node in the same process asks that node (through the proxy's own directory of nodes); an api whose
// proxies run app servers elsewhere sees none (visible: false).

import { afterAll, beforeAll, expect, test } from "bun:test";
import { createProject } from "./deploy/projects.ts";
import type { Deps } from "./deps.ts";
import { type NodeDirectory, watchFunctionNodes } from "./proxy/function-nodes.ts";
import { type Running, startRoles } from "./roles.ts";
import { storeAppDeployment, wakeApp } from "./testing/apps.ts";
import { testDeps, testUser } from "./testing/deps.ts";

let deps: Deps;
let roles: Running;
let directory: NodeDirectory;
let token = "";
let deploymentId = "";
let projectId = "";

beforeAll(async () => {
  deps = await testDeps({
    MINIVERCEL_ROLE: "api,proxy,functions",
    PROXY_FUNCTIONS: "remote",
    PORT: "0",
    PROXY_PORT: "0",
    FUNCTIONS_PORT: "0",
    LISTEN_HOST: "127.0.0.1",
    FUNCTION_START_TIMEOUT_SECONDS: "10",
  });
  roles = await startRoles(deps);
  directory = await watchFunctionNodes(deps);
  const { user, token: t } = await testUser(deps);
  token = t;
  projectId = (await createProject(deps.store, deps.config, user.id, { name: "roles-apps" })).id;
  deploymentId = await storeAppDeployment(deps, projectId, user.id);
}, 30_000);

afterAll(async () => {
  await directory?.stop();
  await roles?.stop(1000);
  await deps?.close();
}, 30_000);

const api = async (method: string, path: string) => {
  const res = await fetch(`${roles.urls.api}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

test("all-in-one with PROXY_FUNCTIONS=remote: the api sees the instance on its node and restarts it", async () => {
  await directory.settled();
  const [node] = directory.nodes();
  if (!node) throw new Error("the functions role did not announce itself");
  expect(node.url).toBe(roles.urls.functions ?? "");
  // (Its proxy may be warming it already: production moved to it.)
  expect((await api("GET", `/api/deployments/${deploymentId}/app`)).body).toMatchObject({
    visible: true,
    unanswered: [],
  });
  expect(await wakeApp(deps, node, { deploymentId, projectId })).toBe("up");
  const seen = await api("GET", `/api/deployments/${deploymentId}/app`);
  expect(seen.status).toBe(200);
  expect(seen.body.instances).toEqual([expect.objectContaining({ node: node.id, state: "ready" })]);
  const restarted = await api("POST", `/api/deployments/${deploymentId}/app/restart`);
  expect(restarted.body).toMatchObject({ visible: true, instances: [], restarts: 1 });
  const owner = (await deps.store.projects.find(projectId))?.userId ?? "";
  const audit = await deps.store.auditLog.list(`user:${owner}`, { limit: 10, cursor: null });
  expect(audit.items.map((e) => e.action)).toContain("app.restart");
}, 30_000);

test("an api alone, its proxies running app servers themselves: nothing visible, a restart does nothing", async () => {
  const alone = await testDeps({ MINIVERCEL_ROLE: "api", PORT: "0", LISTEN_HOST: "127.0.0.1" });
  const running = await startRoles(alone);
  try {
    const { user, token: t } = await testUser(alone);
    const project = await createProject(alone.store, alone.config, user.id, { name: "api-alone" });
    const id = await storeAppDeployment(alone, project.id, user.id);
    const res = await fetch(`${running.urls.api}/api/deployments/${id}/app/restart`, {
      method: "POST",
      headers: { authorization: `Bearer ${t}` },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ visible: false, instances: [], unanswered: [] });
  } finally {
    await running.stop(1000);
    await alone.close();
  }
}, 30_000);

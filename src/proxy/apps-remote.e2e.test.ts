// App servers on functions nodes (PROXY_FUNCTIONS=remote), in one process over the in-process bus: an app built
// by the real builder, the real proxy and two real nodes (their app pools, sandboxed instances, HTTP and WebSocket
// endpoints). Requests and WebSockets reach the app on the one node rendezvous picks for its deployment; it is
// warmed there before a promotion, sleeps when idle, and moves to the other node when its node goes away.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { queueDeployment } from "../deploy/deploy.ts";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import { productionUrl } from "../model/urls.ts";
import { type Running, startRoles } from "../roles.ts";
import type { AppTarget } from "../runtime/apps.ts";
import { type FunctionsNode, startFunctionsNode } from "../runtime/node.ts";
import type { FunctionRuntime } from "../runtime/runtime.ts";
import { type RelayData, withWebSockets } from "../runtime/websocket.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { fixtureRepo } from "../testing/repos.ts";
import { type NodeDirectory, watchFunctionNodes } from "./function-nodes.ts";
import { remoteRuntime } from "./functions-remote.ts";
import { createProxy, type SiteProxy } from "./proxy.ts";

/** An app on Bun's own HTTP and WebSocket server: no dependency, so the build installs nothing. */
const APP = `let n = 0;
Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT),
  fetch(req, server) {
    const url = new URL(req.url);
    if (url.pathname === "/ws" && server.upgrade(req)) return;
    if (url.pathname === "/ws-refused") return new Response("no socket here", { status: 403 });
    if (req.method === "POST") return req.text().then((t) => new Response("posted " + t));
    n++;
    return Response.json({ n, path: url.pathname + url.search, proto: req.headers.get("x-forwarded-proto"),
      xff: req.headers.get("x-forwarded-for"), greeting: process.env.VERCEL_ENV });
  },
  websocket: { message(ws, message) { ws.send("echo: " + message); } },
});
`;

let deps: Deps;
let roles: Running;
let directory: NodeDirectory;
let nodes: FunctionsNode[] = [];
let runtime: FunctionRuntime;
let proxy: SiteProxy;
let listener: ReturnType<typeof Bun.serve<RelayData>>;
let deploymentId = "";
let host = "";

beforeAll(async () => {
  deps = await testDeps({
    MINIVERCEL_ROLE: "api,worker",
    PORT: "0",
    LISTEN_HOST: "127.0.0.1",
    FUNCTIONS_PORT: "0",
    FUNCTION_START_TIMEOUT_SECONDS: "10",
  });
  roles = await startRoles(deps);
  directory = await watchFunctionNodes(deps);
  nodes = [await startFunctionsNode(deps), await startFunctionsNode(deps)];
  // One idle "minute" is a second here.
  proxy = await createProxy(
    deps,
    { reconcileMs: 60_000, appMinuteMs: 1000 },
    {
      runtime: () => {
        runtime = remoteRuntime(deps, directory);
        return runtime;
      },
      peer: () => "198.51.100.7",
    },
  );
  listener = Bun.serve<RelayData>({
    hostname: "127.0.0.1",
    port: 0,
    ...withWebSockets(proxy, (request) => proxy.fetch(request)),
  });
  const { user } = await testUser(deps);
  const repo = fixtureRepo({
    "package.json": JSON.stringify({ name: "remote-app", scripts: { start: "bun server.js" } }),
    "server.js": APP,
  });
  const project = await createProject(deps.store, deps.config, user.id, {
    name: `remote-${crypto.randomUUID().slice(0, 6)}`,
    gitUrl: repo.url,
    idleTimeoutMinutes: 2,
  });
  const d = await queueDeployment(deps, user.id, { projectId: project.id });
  for (let i = 0; ; i++) {
    const now = await deps.store.deployments.find(d.id);
    if (now?.status === "READY") break;
    if (now?.status === "FAIL" || i > 1200) throw new Error(`build did not end READY: ${now?.statusReason}`);
    await Bun.sleep(100);
  }
  deploymentId = d.id;
  await proxy.reconcile();
  host = new URL(productionUrl(project, deps.config)).host;
}, 180_000);

afterAll(async () => {
  listener?.stop(true);
  await proxy?.stop();
  await directory?.stop();
  for (const node of nodes) {
    node.server.stop(true);
    await node.stop();
  }
  await roles?.stop(1000);
  await deps?.close();
}, 60_000);

/** The nodes running an instance of the deployment's app server. */
const runningOn = () =>
  nodes.filter((node) => (node.runtime.apps?.view(deploymentId)[0]?.instances.length ?? 0) > 0);

const get = (path: string, init: RequestInit = {}) =>
  fetch(`http://127.0.0.1:${listener.port}${path}`, { ...init, headers: { host } });

function echo(path: string, message: string): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${listener.port}${path}`, { headers: { host } } as never);
    ws.onopen = () => ws.send(message);
    ws.onmessage = (event) => {
      resolve(String(event.data));
      ws.close();
    };
    ws.onerror = () => resolve("refused");
    setTimeout(() => resolve("timed out"), 15_000);
  });
}

/** The raw answer to a WebSocket upgrade of `path` (a refusal comes with a body; the socket closes after it). */
async function upgradeAnswer(path: string): Promise<string> {
  let text = "";
  const { promise, resolve } = Promise.withResolvers<string>();
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port: listener.port ?? 0,
    socket: {
      data(_s, chunk) {
        text += new TextDecoder().decode(chunk);
        if (/\r\n\r\n[\s\S]*no socket here/.test(text)) resolve(text);
      },
      close: () => resolve(text),
    },
  });
  socket.write(
    `GET ${path} HTTP/1.1\r\nhost: ${host}\r\nconnection: Upgrade\r\nupgrade: websocket\r\n` +
      "sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
  );
  const timer = setTimeout(() => resolve(`timed out with: ${text}`), 15_000);
  const answer = await promise;
  clearTimeout(timer);
  socket.end();
  return answer;
}

test("requests reach the app on one node, with who asked as the proxy says it", async () => {
  const first = await get("/hello?x=1");
  expect(first.status).toBe(200);
  const body = (await first.json()) as {
    n: number;
    path: string;
    proto: string;
    xff: string;
    greeting: string;
  };
  expect(body).toMatchObject({ n: 1, path: "/hello?x=1", proto: "http", xff: "198.51.100.7" });
  expect(body.greeting).toBe("production");
  for (let i = 2; i <= 5; i++) expect(((await (await get("/")).json()) as { n: number }).n).toBe(i);
  // One server for the deployment, on one node: the requests counted up in one process.
  expect(runningOn()).toHaveLength(1);
  const posted = await get("/form", { method: "POST", body: "a=1" });
  expect(await posted.text()).toBe("posted a=1");
}, 60_000);

test("a WebSocket is relayed through the node to the app; the app's refusal reaches the visitor", async () => {
  expect(await echo("/ws", "hello through a node")).toBe("echo: hello through a node");
  const refusal = await upgradeAnswer("/ws-refused");
  expect(refusal.split("\r\n")[0]).toBe("HTTP/1.1 403 Forbidden");
  expect(refusal).toContain("no socket here");
  // Nothing of the platform's wire reaches the visitor.
  expect(refusal.toLowerCase()).not.toContain("x-minivercel-");
}, 60_000);

test("warming starts the server on its node before any request", async () => {
  // The proxy's pool holds no instance: they are the nodes'.
  expect(runtime.apps?.view(deploymentId)).toEqual([]);
  const owner = runningOn()[0];
  if (!owner) throw new Error("no node runs the app");
  await owner.runtime.apps?.restart(deploymentId);
  expect(runningOn()).toHaveLength(0);
  const appTarget: AppTarget = {
    deploymentId,
    projectId: (await deps.store.deployments.find(deploymentId))?.projectId ?? "",
    environment: "production",
    deploymentUrl: `http://${host}`,
    server: (await deps.artifacts.getManifest(deploymentId))?.server ?? {
      command: "",
      detected: "",
      files: {},
    },
    idleMs: 60_000,
    maxInstances: 1,
  };
  await runtime.apps?.warm(appTarget);
  expect(runningOn()).toEqual([owner]);
}, 60_000);

test("idle on its node, it stops; the next request wakes it", async () => {
  // The project's two idle "minutes" are two seconds here (appMinuteMs 1000).
  // The warmed instance's idle time was the test's 60 s; a request re-arms it with the project's 2 "minutes".
  await get("/");
  const woke = runningOn();
  expect(woke).toHaveLength(1);
  const deadline = Date.now() + 8000;
  while (runningOn().length > 0 && Date.now() < deadline) await Bun.sleep(200);
  expect(runningOn()).toHaveLength(0);
  const again = await get("/again");
  expect(again.status).toBe(200);
  expect(((await again.json()) as { n: number }).n).toBe(1);
}, 60_000);

test("its node gone, the app starts on the other node; none left: a 503 page", async () => {
  const owner = runningOn()[0];
  if (!owner) throw new Error("no node runs the app");
  const other = nodes.find((node) => node !== owner);
  if (!other) throw new Error("no second node");
  await owner.stop();
  owner.server.stop(true);
  const moved = await get("/moved");
  expect(moved.status).toBe(200);
  expect(runningOn()).toEqual([other]);
  expect(await echo("/ws", "still here")).toBe("echo: still here");

  await other.stop();
  other.server.stop(true);
  const none = await get("/");
  expect(none.status).toBe(503);
  expect(await none.text()).toContain("App server unavailable");
}, 60_000);

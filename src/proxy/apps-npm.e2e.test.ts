// App servers from the npm registry end to end: an Express API and a Hono app (@hono/node-server, @hono/node-ws),
// installed and built by the real builder in its sandbox, run by the runtime's app pool in the sandbox, reached
// through the real proxy on a real socket: JSON routes and a POST body, a streamed response as it is written, a
// WebSocket echo through the proxy's relay, and each server sleeping when idle and woken by its next request.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { queueDeployment } from "../deploy/deploy.ts";
import { createProject } from "../deploy/projects.ts";
import { createBypassToken, setProtectionMode } from "../deploy/protection.ts";
import type { Deps } from "../deps.ts";
import { type Running, startRoles } from "../roles.ts";
import { createRuntime, type FunctionRuntime } from "../runtime/runtime.ts";
import { type RelayData, withWebSockets } from "../runtime/websocket.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { fixtureRepo } from "../testing/repos.ts";
import { createProxy, type SiteProxy } from "./proxy.ts";

let deps: Deps;
let roles: Running;
let proxy: SiteProxy;
let runtime: FunctionRuntime | null = null;
let listener: ReturnType<typeof Bun.serve<RelayData>>;
let userId: string;

beforeAll(async () => {
  deps = await testDeps({ PORT: "0", PROXY_PORT: "0", MINIVERCEL_ROLE: "api,worker" });
  roles = await startRoles(deps);
  userId = (await testUser(deps)).user.id;
  // The proxy's own listener, as roles.ts makes it; one idle "minute" lasts a second here.
  proxy = await createProxy(
    deps,
    { reconcileMs: 60_000, appMinuteMs: 1000 },
    {
      runtime: () => {
        runtime = createRuntime(deps);
        return runtime;
      },
    },
  );
  listener = Bun.serve<RelayData>({
    hostname: "127.0.0.1",
    port: 0,
    ...withWebSockets(proxy, (request) => proxy.fetch(request)),
  });
});
afterAll(async () => {
  listener.stop(true);
  await proxy.stop();
  await roles.stop(1000);
  await deps.close();
}, 60_000);

const EXPRESS: Record<string, string> = {
  "package.json": JSON.stringify({
    name: "express-api",
    private: true,
    scripts: { start: "node server.js" },
    dependencies: { express: "4.21.2" },
  }),
  "server.js": `const express = require("express");
const app = express();
app.use(express.json());
let started = Date.now();
app.get("/api/items/:id", (req, res) => res.json({ id: req.params.id, q: req.query.q ?? null, started }));
app.post("/api/items", (req, res) => res.status(201).json({ created: req.body }));
app.listen(Number(process.env.PORT), () => console.log("express listening on " + process.env.PORT));
`,
  "public/hello.txt": "static from the proxy",
};

const HONO: Record<string, string> = {
  "package.json": JSON.stringify({
    name: "hono-ws",
    private: true,
    type: "module",
    scripts: { start: "node server.mjs" },
    dependencies: { hono: "4.7.10", "@hono/node-server": "1.14.3", "@hono/node-ws": "1.1.4" },
  }),
  "server.mjs": `import { serve } from "@hono/node-server";
import { createNodeWebSocket } from "@hono/node-ws";
import { Hono } from "hono";
import { streamText } from "hono/streaming";
const app = new Hono();
const { injectWebSocket, upgradeWebSocket } = createNodeWebSocket({ app });
app.get("/", (c) => c.text("hono at " + c.req.header("x-forwarded-host")));
app.get("/ws", upgradeWebSocket(() => ({ onMessage(event, ws) { ws.send("echo: " + event.data); } })));
app.get("/stream", (c) => streamText(c, async (s) => {
  for (let i = 0; i < 3; i++) { await s.writeln("line " + i + " " + Date.now()); await s.sleep(300); }
}));
const server = serve({ fetch: app.fetch, port: Number(process.env.PORT) });
injectWebSocket(server);
`,
};

async function deployed(files: Record<string, string>): Promise<{ host: string; id: string }> {
  const project = await createProject(deps.store, deps.config, userId, {
    name: `npm-${crypto.randomUUID().slice(0, 6)}`,
    gitUrl: fixtureRepo(files).url,
    idleTimeoutMinutes: 3,
  });
  const d = await queueDeployment(deps, userId, { projectId: project.id });
  for (let i = 0; i < 3000; i++) {
    const now = await deps.store.deployments.find(d.id);
    if (now?.status === "READY") {
      await proxy.reconcile();
      return { host: `${project.subDomain}.${deps.config.sitesDomain}`, id: d.id };
    }
    if (now?.status === "FAIL") throw new Error(`build failed: ${now.statusReason}`);
    await Bun.sleep(100);
  }
  throw new Error("the deployment did not end");
}

const base = () => `http://127.0.0.1:${listener.port}`;
const get = (host: string, path: string, init: RequestInit = {}) =>
  fetch(`${base()}${path}`, { ...init, headers: { host, ...(init.headers as Record<string, string>) } });

const instances = (id: string) => runtime?.apps?.view(id)[0]?.instances.length ?? 0;

/** Waits for the idle stop, then times the request that wakes the server. */
async function sleepsAndWakes(id: string, wake: () => Promise<void>): Promise<number> {
  await wake();
  expect(instances(id)).toBe(1);
  for (let i = 0; i < 100 && instances(id) > 0; i++) await Bun.sleep(100);
  expect(instances(id)).toBe(0);
  const started = performance.now();
  await wake();
  expect(instances(id)).toBe(1);
  return performance.now() - started;
}

describe("npm apps through the proxy", () => {
  let express: { host: string; id: string };
  let hono: { host: string; id: string };

  beforeAll(async () => {
    [express, hono] = await Promise.all([deployed(EXPRESS), deployed(HONO)]);
  }, 300_000);

  test("Express: JSON routes with params and query, a JSON POST, public/ from the proxy", async () => {
    const item = await get(express.host, "/api/items/42?q=x");
    expect(item.status).toBe(200);
    expect(await item.json()).toMatchObject({ id: "42", q: "x" });
    const created = await get(express.host, "/api/items", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "ada" }),
    });
    expect(created.status).toBe(201);
    expect(await created.json()).toEqual({ created: { name: "ada" } });
    const file = await get(express.host, "/hello.txt");
    expect(await file.text()).toBe("static from the proxy");
    expect(file.headers.get("x-powered-by")).toBeNull();
    expect((await get(express.host, "/api/items/1")).headers.get("x-powered-by")).toBe("Express");
  }, 30_000);

  test("Hono: a page, and a stream that arrives line by line", async () => {
    expect(await (await get(hono.host, "/")).text()).toBe(`hono at ${hono.host}`);
    const res = await get(hono.host, "/stream");
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const arrivals: number[] = [];
    let text = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      arrivals.push(performance.now());
      text += new TextDecoder().decode(value);
    }
    expect(
      text
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split(" ").slice(0, 2).join(" ")),
    ).toEqual(["line 0", "line 1", "line 2"]);
    // Written 300 ms apart, and so received: not buffered to the end.
    expect((arrivals.at(-1) ?? 0) - (arrivals[0] ?? 0)).toBeGreaterThan(400);
  }, 30_000);

  test("Hono: a WebSocket echo through the proxy", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${listener.port}/ws`, { headers: { host: hono.host } } as never);
    const received: string[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => {
        ws.send("hello");
        ws.send("x".repeat(70_000));
      };
      ws.onmessage = (event) => {
        received.push(String(event.data));
        if (received.length === 2) resolve();
      };
      ws.onerror = () => reject(new Error("websocket error"));
      setTimeout(() => reject(new Error(`timed out with ${received.length} messages`)), 10_000);
    });
    expect(received[0]).toBe("echo: hello");
    expect(received[1]).toBe(`echo: ${"x".repeat(70_000)}`);
    // An open WebSocket keeps its instance busy: it is not stopped as idle (3 s here) under the visitor.
    await Bun.sleep(3500);
    expect(instances(hono.id)).toBe(1);
    ws.send("still there");
    await new Promise<void>((resolve) => {
      ws.onmessage = (event) => {
        if (String(event.data) === "echo: still there") resolve();
      };
    });
    ws.close();
  }, 30_000);

  test("a protected deployment's WebSocket opens only with access", async () => {
    const projectId = (await deps.store.deployments.find(hono.id))?.projectId ?? "";
    await setProtectionMode(deps, userId, projectId, "all");
    const { token } = await createBypassToken(deps, userId, projectId, "ci");
    await proxy.reconcile();
    const knock = (headers: Record<string, string>) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${listener.port}/ws`, {
          headers: { host: hono.host, ...headers },
        } as never);
        ws.onopen = () => ws.send("knock");
        ws.onmessage = (event) => {
          resolve(String(event.data));
          ws.close();
        };
        ws.onerror = () => resolve("refused");
        ws.onclose = () => resolve("closed");
        setTimeout(() => resolve("timed out"), 10_000);
      });
    try {
      expect(await knock({})).toBe("refused");
      expect(await knock({ "x-vercel-protection-bypass": "mvb_wrong" })).toBe("refused");
      expect(await knock({ "x-vercel-protection-bypass": token })).toBe("echo: knock");
    } finally {
      await setProtectionMode(deps, userId, projectId, "none");
      await proxy.reconcile();
    }
  }, 30_000);

  test("each sleeps when idle and wakes on its next request", async () => {
    const expressWake = await sleepsAndWakes(express.id, async () => {
      expect((await get(express.host, "/api/items/7")).status).toBe(200);
    });
    const honoWake = await sleepsAndWakes(hono.id, async () => {
      expect((await get(hono.host, "/")).status).toBe(200);
    });
    console.log(`wake to first answer: express ${expressWake.toFixed(0)} ms, hono ${honoWake.toFixed(0)} ms`);
    expect(expressWake).toBeLessThan(5000);
    expect(honoWake).toBeLessThan(5000);
  }, 60_000);
});

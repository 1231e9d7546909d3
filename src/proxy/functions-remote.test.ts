// Functions on functions nodes (PROXY_FUNCTIONS=remote), in one process over the in-process bus: the real proxy,
// two real nodes (their runtimes, sandboxed instances and HTTP endpoints) and a Build Output deployment stored by
// the builder's uploader. Which node runs a function, streaming both ways, what a function may not see or send,
// a node that goes away, none left; and the same through the roles (serve --role=proxy,functions).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { setEnvVar } from "../deploy/env.ts";
import type { Deps } from "../deps.ts";
import type { Project } from "../model/entities.ts";
import { productionUrl } from "../model/urls.ts";
import { type Running, startRoles } from "../roles.ts";
import { bytesStreamed } from "../runtime/forward.ts";
import { type FunctionsNode, startFunctionsNode } from "../runtime/node.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { deployBuildOutput, vcConfig } from "../testing/functions.ts";
import { request, siteProject } from "../testing/sites.ts";
import { type NodeDirectory, watchFunctionNodes } from "./function-nodes.ts";
import { remoteRuntime } from "./functions-remote.ts";
import { createProxy, type SiteProxy } from "./proxy.ts";

const OUTPUT: Record<string, string> = {
  "config.json": JSON.stringify({ version: 3, routes: [{ handle: "filesystem" }] }),
  "static/index.html": "<h1>home</h1>",
  "functions/api/echo.func/.vc-config.json": vcConfig(),
  "functions/api/echo.func/index.mjs": `export async function handler(request) {
      const h = (name) => request.headers.get(name);
      return new Response(JSON.stringify({
        method: request.method, url: request.url, body: await request.text(), greeting: process.env.GREETING ?? null,
        host: h("host"), xff: h("x-forwarded-for"), realIp: h("x-real-ip"), forwarded: h("forwarded"),
        proto: h("x-forwarded-proto"), id: h("x-vercel-id"), platform: h("x-minivercel-signature"), own: h("x-own"),
      }), { status: 201, headers: [["content-type", "application/json"], ["x-minivercel-outcome", "failed"],
        ["set-cookie", "a=1; Path=/"], ["set-cookie", "b=2; Path=/"]] });
    }
    export { handler as GET, handler as POST };`,
  "functions/api/events.func/.vc-config.json": vcConfig(),
  "functions/api/events.func/index.mjs": `export function GET() {
      let n = 0;
      const body = new ReadableStream({
        async pull(controller) {
          if (n === 3) return controller.close();
          if (n > 0) await new Promise((resolve) => setTimeout(resolve, 400));
          controller.enqueue(new TextEncoder().encode("data: " + ++n + "\\n\\n"));
        },
      });
      return new Response(body, { headers: { "content-type": "text/event-stream" } });
    }`,
  "functions/api/upload.func/.vc-config.json": vcConfig(),
  "functions/api/upload.func/index.mjs": `export async function POST(request) {
      const hash = new Bun.CryptoHasher("sha256");
      let bytes = 0;
      for await (const chunk of request.body) { bytes += chunk.byteLength; hash.update(chunk); }
      return Response.json({ bytes, sha256: hash.digest("hex") });
    }`,
  "functions/api/duplex.func/.vc-config.json": vcConfig(),
  "functions/api/duplex.func/index.mjs": `export async function POST(request) {
      const chunks = [];
      for await (const chunk of request.body) {
        if (chunks.length === 0) console.log("first chunk: " + new TextDecoder().decode(chunk));
        chunks.push(new TextDecoder().decode(chunk));
      }
      return new Response(chunks.join(""));
    }`,
};

/** A POST whose body is a stream (Bun's fetch takes `duplex`). */
type Posted = RequestInit & { headers?: Record<string, string>; duplex: "half" };

let deps: Deps;
let directory: NodeDirectory;
let nodes: FunctionsNode[] = [];
let proxy: SiteProxy;
let project: Project;
let deploymentId: string;
let site: string;

beforeAll(async () => {
  deps = await testDeps({ LISTEN_HOST: "127.0.0.1", FUNCTIONS_PORT: "0", FUNCTION_IDLE_SECONDS: "60" });
  directory = await watchFunctionNodes(deps);
  nodes = [await startFunctionsNode(deps), await startFunctionsNode(deps)];
  proxy = await createProxy(
    deps,
    { reconcileMs: 60_000 },
    { runtime: () => remoteRuntime(deps, directory), peer: () => "198.51.100.9" },
  );
  const { user } = await testUser(deps);
  project = await siteProject(deps, user.id);
  await setEnvVar(deps.store, deps.sealer, user.id, project.id, "GREETING", "hello from the project");
  deploymentId = (await deployBuildOutput(deps, project, OUTPUT)).id;
  await proxy.reconcile();
  site = productionUrl(project, deps.config);
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  await directory?.stop();
  for (const node of nodes) {
    node.server.stop(true);
    await node.stop();
  }
  await deps?.close();
}, 30_000);

/** The nodes running an instance of `fn` of the deployment. */
const runningOn = (fn: string) =>
  nodes.filter((node) => node.runtime.instances().some((i) => i.key === `${deploymentId}:${fn}`));

describe("a proxy with remote functions", () => {
  test("both nodes announced themselves; a function runs on the node rendezvous picks, every time", async () => {
    expect(
      directory
        .nodes()
        .map((n) => n.id)
        .sort(),
    ).toEqual(nodes.map((n) => n.id).sort());
    for (let i = 0; i < 3; i++) {
      const res = await request(proxy, `${site}/api/echo`);
      expect(res.status).toBe(201);
      await res.text();
    }
    const [owner, ...others] = runningOn("/api/echo");
    expect(others).toEqual([]);
    expect(owner?.id).toBe(directory.candidates(`${deploymentId}:/api/echo`)[0]?.id);
    // Static files never leave the proxy.
    expect(await (await request(proxy, `${site}/`)).text()).toBe("<h1>home</h1>");
  }, 30_000);

  test("the function sees the visitor's request, the project's variables and who asked as the proxy says it", async () => {
    const res = await request(proxy, `${site}/api/echo?q=1`, {
      method: "POST",
      body: "a form",
      headers: {
        "x-own": "mine",
        "x-forwarded-for": "203.0.113.66",
        "x-real-ip": "203.0.113.66",
        forwarded: "for=203.0.113.66",
        "x-minivercel-signature": "forged",
      },
    });
    expect(res.status).toBe(201);
    // An answer of known length keeps it through the node and the proxy (analytics counts it, clients see it).
    const length = Number(res.headers.get("content-length"));
    const text = await res.text();
    expect(length).toBe(Buffer.byteLength(text));
    expect(JSON.parse(text)).toEqual({
      method: "POST",
      url: `${site}/api/echo?q=1`,
      body: "a form",
      greeting: "hello from the project",
      host: new URL(site).host,
      xff: "198.51.100.9",
      realIp: "198.51.100.9",
      forwarded: null,
      proto: "http",
      id: expect.any(String),
      platform: null,
      own: "mine",
    });
    // The function's headers come back, repeated ones too, but never one of the platform's own.
    expect(res.headers.get("x-minivercel-outcome")).toBeNull();
    expect(res.headers.getSetCookie()).toEqual(["a=1; Path=/", "b=2; Path=/"]);
  }, 30_000);

  test("a function's stream reaches the visitor event by event, not at its end", async () => {
    const started = performance.now();
    const res = await request(proxy, `${site}/api/events`);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const reader = res.body?.getReader();
    if (!reader) throw new Error("no body");
    const arrivals: [string, number][] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      arrivals.push([new TextDecoder().decode(value), performance.now() - started]);
    }
    expect(arrivals.map(([text]) => text).join("")).toBe("data: 1\n\ndata: 2\n\ndata: 3\n\n");
    const first = arrivals.find(([text]) => text.includes("data: 1"))?.[1] ?? Infinity;
    const last = arrivals.find(([text]) => text.includes("data: 3"))?.[1] ?? 0;
    // Two pauses of 400 ms between the first event and the last.
    expect(last - first).toBeGreaterThan(700);
    // Web analytics counts what the stream relayed (the node's answer carries no length).
    expect(await bytesStreamed(res)).toBe("data: 1\n\ndata: 2\n\ndata: 3\n\n".length);
  }, 30_000);

  test("a request body streams to the function whole", async () => {
    const chunk = new Uint8Array(256 * 1024).map((_, i) => i % 251);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 12) return controller.close();
        sent++;
        controller.enqueue(chunk);
      },
    });
    const res = await request(proxy, `${site}/api/upload`, {
      method: "POST",
      body,
      duplex: "half",
    } as Posted);
    const hash = new Bun.CryptoHasher("sha256");
    for (let i = 0; i < 12; i++) hash.update(chunk);
    expect(await res.json()).toEqual({ bytes: 12 * chunk.byteLength, sha256: hash.digest("hex") });
  }, 30_000);

  test("a request body reaches the function as it is sent, not once it is complete", async () => {
    // The function says (in its runtime log, over the bus) when it has the first part; only then is the rest sent.
    let heard: () => void = () => {};
    const firstHeard = new Promise<void>((resolve) => {
      heard = resolve;
    });
    const logs = await deps.bus.consume("runtime-logs", `test-${crypto.randomUUID()}`, async (value) => {
      if (JSON.stringify(value).includes("first chunk: part one")) heard();
    });
    let step = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        step++;
        if (step === 1) controller.enqueue(new TextEncoder().encode("part one"));
        else if (step === 2) {
          await firstHeard;
          controller.enqueue(new TextEncoder().encode(", part two"));
        } else controller.close();
      },
    });
    const res = await request(proxy, `${site}/api/duplex`, {
      method: "POST",
      body,
      duplex: "half",
    } as Posted);
    expect(await res.text()).toBe("part one, part two");
    await logs.stop();
  }, 30_000);

  test("a node that goes away: the next call goes to the other one; none left: a 503 page", async () => {
    const [owner] = runningOn("/api/echo");
    if (!owner) throw new Error("no node runs the function");
    const other = nodes.find((node) => node !== owner);
    if (!other) throw new Error("no second node");
    // Gone as after a crash: no `leaving` message, its heartbeats still known, its port closed.
    await owner.stop();
    owner.server.stop(true);
    const res = await request(proxy, `${site}/api/echo`);
    expect(res.status).toBe(201);
    await res.text();
    expect(runningOn("/api/echo")).toEqual([other]);
    // The node that failed is tried last from now on.
    expect(directory.candidates(`${deploymentId}:/api/echo`).at(-1)?.id).toBe(owner.id);

    await other.stop();
    other.server.stop(true);
    const none = await request(proxy, `${site}/api/echo`);
    expect(none.status).toBe(503);
    expect(await none.text()).toContain("Functions unavailable");
  }, 30_000);

  test("a node that stops cleanly is forgotten at once", async () => {
    const node = await startFunctionsNode(deps);
    nodes.push(node);
    expect(directory.nodes().map((n) => n.id)).toContain(node.id);
    await node.leave();
    await Bun.sleep(50);
    expect(directory.nodes().map((n) => n.id)).not.toContain(node.id);
  });
});

describe("serve --role=proxy,functions with PROXY_FUNCTIONS=remote", () => {
  let rolesDeps: Deps;
  let roles: Running;

  beforeAll(async () => {
    rolesDeps = await testDeps({
      MINIVERCEL_ROLE: "proxy,functions",
      PROXY_FUNCTIONS: "remote",
      LISTEN_HOST: "127.0.0.1",
      PROXY_PORT: "0",
      FUNCTIONS_PORT: "0",
    });
    roles = await startRoles(rolesDeps);
  });
  afterAll(async () => {
    await roles?.stop(1000);
    await rolesDeps?.close();
  }, 30_000);

  test("the proxy's port sends the function to the node's port; the node's port is no site", async () => {
    const { user } = await testUser(rolesDeps);
    const p = await siteProject(rolesDeps, user.id);
    await deployBuildOutput(rolesDeps, p, OUTPUT);
    const proxyPort = new URL((roles.urls.proxy ?? "").replace("<project>.", "")).port;
    const host = new URL(productionUrl(p, rolesDeps.config)).host;
    let res = await fetch(`http://127.0.0.1:${proxyPort}/api/echo`, { headers: { host } });
    for (let i = 0; i < 50 && res.status === 404; i++) {
      await Bun.sleep(100);
      res = await fetch(`http://127.0.0.1:${proxyPort}/api/echo`, { headers: { host } });
    }
    expect(res.status).toBe(201);
    expect(((await res.json()) as { xff: string }).xff).toBe("127.0.0.1");

    const node = roles.urls.functions ?? "";
    expect(node).toStartWith("http://127.0.0.1:");
    for (const path of ["/", "/api/echo"]) {
      const direct = await fetch(`${node}${path}`, { headers: { host } });
      expect(direct.status).toBe(404);
      expect(await direct.text()).toBe("");
    }
  }, 30_000);
});

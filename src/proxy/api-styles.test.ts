// Zero-config api/ functions in every style Vercel accepts, end to end: built (bundled) by the real builder in its
// sandbox, served by the real proxy, run by the real runtime. Node (req, res) with Vercel's helpers (query,
// cookies, parsed bodies, status/json/send/redirect), Web method exports (GET, POST; others refused with 405), and
// `export default { fetch }`; a helper file under api/ that is imported, not served.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { queueDeployment } from "../deploy/deploy.ts";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import { productionUrl } from "../model/urls.ts";
import { type Running, startRoles } from "../roles.ts";
import { createRuntime } from "../runtime/runtime.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { fixtureRepo } from "../testing/repos.ts";
import { request } from "../testing/sites.ts";
import { createProxy, type SiteProxy } from "./proxy.ts";

let deps: Deps;
let roles: Running;
let proxy: SiteProxy;
let site = "";

const REPOSITORY: Record<string, string> = {
  "index.html": "<h1>api styles</h1>",
  "api/_shared.ts": `export const greet = (name: string): string => "hello " + name;`,
  // Node, with the helpers.
  "api/node.js": `export default function handler(req, res) {
    if (req.method === "POST") {
      return res.status(201).json({ body: req.body, type: typeof req.body });
    }
    res.setHeader("x-style", "node");
    res.status(200).send({ query: req.query, cookies: req.cookies, method: req.method });
  }`,
  "api/go.js": `export default (req, res) => res.redirect(308, "/api/node?from=" + req.query.to);`,
  "api/text.js": `export default (req, res) => res.send("plain " + req.query.n);`,
  // Web, named methods, in TypeScript, importing a helper.
  "api/web.ts": `import { greet } from "./_shared.ts";
    export function GET(request: Request): Response {
      return Response.json({ greeting: greet(new URL(request.url).searchParams.get("name") ?? "nobody") });
    }
    export async function POST(request: Request): Promise<Response> {
      return new Response("posted " + (await request.text()), { status: 202, headers: { "x-style": "web" } });
    }`,
  // Edge, declared in the source as on Vercel: a default function of the request.
  "api/edge.ts": `export const config = { runtime: "edge" };
    export default function (request: Request): Response {
      return new Response("edge " + typeof EdgeRuntime + " " + new URL(request.url).pathname);
    }`,
  // Node, with its own maxDuration (Next's style of export).
  "api/slow.js": `export const maxDuration = 1;
    export default async function (req, res) {
      await new Promise((resolve) => setTimeout(resolve, 5000));
      res.send("too late");
    }`,
  // Web, a default object with fetch: every method.
  "api/fetch.mjs": `export default {
    async fetch(request) {
      const body = request.method === "GET" || request.method === "HEAD" ? "" : await request.text();
      return Response.json({ method: request.method, body, path: new URL(request.url).pathname });
    },
  };`,
};

beforeAll(async () => {
  deps = await testDeps({ PORT: "0", PROXY_PORT: "0", MINIVERCEL_ROLE: "api,worker" });
  roles = await startRoles(deps);
  const userId = (await testUser(deps)).user.id;
  proxy = await createProxy(deps, { reconcileMs: 60_000 }, { runtime: () => createRuntime(deps) });
  const project = await createProject(deps.store, deps.config, userId, {
    name: `styles-${crypto.randomUUID().slice(0, 6)}`,
    gitUrl: fixtureRepo(REPOSITORY).url,
  });
  const { id } = await queueDeployment(deps, userId, { projectId: project.id });
  for (let i = 0; i < 1200; i++) {
    const d = await deps.store.deployments.find(id);
    if (d?.status === "FAIL") throw new Error(`build failed: ${d.statusReason}`);
    if (d?.status === "READY") break;
    await Bun.sleep(100);
  }
  await proxy.reconcile();
  site = productionUrl(project, deps.config);
}, 120_000);

afterAll(async () => {
  await proxy.stop();
  await roles.stop(1000);
  await deps.close();
}, 60_000);

async function ask(path: string, init: RequestInit & { headers?: Record<string, string> } = {}) {
  const res = await request(proxy, `${site}${path}`, { redirect: "manual", ...init });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

describe("Node (req, res) with Vercel's helpers", () => {
  test("query (repeated keys as arrays), cookies, send() of an object as JSON", async () => {
    const res = await ask("/api/node?x=1&x=2&y=z", { headers: { cookie: "a=b; theme=dark%20mode" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("application/json");
    expect(res.headers.get("x-style")).toBe("node");
    expect(JSON.parse(res.body)).toEqual({
      query: { x: ["1", "2"], y: "z" },
      cookies: { a: "b", theme: "dark mode" },
      method: "GET",
    });
  });

  test("bodies parsed by content type; a malformed JSON body is a 400", async () => {
    const json = await ask("/api/node", {
      method: "POST",
      body: JSON.stringify({ n: 1 }),
      headers: { "content-type": "application/json" },
    });
    expect(json.status).toBe(201);
    expect(JSON.parse(json.body)).toEqual({ body: { n: 1 }, type: "object" });
    const form = await ask("/api/node", {
      method: "POST",
      body: "a=1&b=two",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(JSON.parse(form.body)).toEqual({ body: { a: "1", b: "two" }, type: "object" });
    const text = await ask("/api/node", {
      method: "POST",
      body: "hi",
      headers: { "content-type": "text/plain" },
    });
    expect(JSON.parse(text.body)).toEqual({ body: "hi", type: "string" });
    const bad = await ask("/api/node", {
      method: "POST",
      body: "{not json",
      headers: { "content-type": "application/json" },
    });
    expect(bad.status).toBe(400);
  });

  test("redirect() and send() of text", async () => {
    const moved = await ask("/api/go?to=home");
    expect(moved.status).toBe(308);
    expect(moved.headers.get("location")).toBe("/api/node?from=home");
    const text = await ask("/api/text?n=3");
    expect(text).toMatchObject({ status: 200, body: "plain 3" });
    expect(text.headers.get("content-type")).toStartWith("text/html");
  });
});

describe("Web handlers", () => {
  test("named GET and POST, in TypeScript, with an imported helper; other methods get a 405", async () => {
    expect(JSON.parse((await ask("/api/web?name=ada")).body)).toEqual({ greeting: "hello ada" });
    const posted = await ask("/api/web", { method: "POST", body: "a letter" });
    expect(posted).toMatchObject({ status: 202, body: "posted a letter" });
    expect(posted.headers.get("x-style")).toBe("web");
    const put = await ask("/api/web", { method: "PUT", body: "x" });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toContain("POST");
    // The helper is bundled into the function, never served.
    expect((await ask("/api/_shared")).status).toBe(404);
  });

  test("settings from the source: an edge function, and a maxDuration past which the answer is a 504", async () => {
    expect(await ask("/api/edge")).toMatchObject({ status: 200, body: "edge string /api/edge" });
    const started = performance.now();
    expect((await ask("/api/slow")).status).toBe(504);
    expect(performance.now() - started).toBeLessThan(4500);
  }, 30_000);

  test("export default { fetch } answers every method", async () => {
    expect(JSON.parse((await ask("/api/fetch")).body)).toEqual({
      method: "GET",
      body: "",
      path: "/api/fetch",
    });
    const deleted = await ask("/api/fetch", { method: "DELETE", body: "gone" });
    expect(JSON.parse(deleted.body)).toEqual({ method: "DELETE", body: "gone", path: "/api/fetch" });
  });
});

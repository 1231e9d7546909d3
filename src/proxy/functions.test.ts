// Build Output API deployments end to end: a repository holding `.vercel/output` and one with zero-config `api/`
// functions, built by the real builder in its sandbox, served by the real proxy, functions run by the real
// runtime: static files, both handler styles, route rewrites with captures, redirects, route headers, methods,
// ISR with its fallback, a crashing function's 502, zero-config dynamic segments, and every deployment's functions
// its own (older URLs, rollback, promote).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { queueDeployment } from "../deploy/deploy.ts";
import { createProject } from "../deploy/projects.ts";
import { promoteDeployment, rollbackProject } from "../deploy/promote.ts";
import type { Deps } from "../deps.ts";
import type { Project } from "../model/entities.ts";
import { deploymentUrl, productionUrl } from "../model/urls.ts";
import { type Running, startRoles } from "../roles.ts";
import { createRuntime } from "../runtime/runtime.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { fixtureRepo } from "../testing/repos.ts";
import { eventually, request } from "../testing/sites.ts";
import { createProxy, type SiteProxy } from "./proxy.ts";

let deps: Deps;
let roles: Running;
let proxy: SiteProxy;
let userId: string;

beforeAll(async () => {
  deps = await testDeps({
    PORT: "0",
    PROXY_PORT: "0",
    MINIVERCEL_ROLE: "api,worker",
    FUNCTION_IDLE_SECONDS: "5",
  });
  roles = await startRoles(deps);
  userId = (await testUser(deps)).user.id;
  proxy = await createProxy(deps, { reconcileMs: 60_000 }, { runtime: () => createRuntime(deps) });
});
afterAll(async () => {
  await proxy.stop();
  await roles.stop(1000);
  await deps.close();
}, 60_000);

const vc = (helpers = false) =>
  JSON.stringify({
    runtime: "nodejs20.x",
    handler: "index.mjs",
    launcherType: "Nodejs",
    shouldAddHelpers: helpers,
  });

/** A `.vercel/output` as a framework adapter would write it. */
const OUTPUT: Record<string, string> = {
  ".vercel/output/config.json": JSON.stringify({
    version: 3,
    routes: [
      { src: "^/old/(.*)$", status: 308, headers: { location: "/new/$1" } },
      { src: "^/(.*)$", headers: { "x-site": "boa" }, continue: true },
      { handle: "filesystem" },
      { src: "^/users/(?<id>[^/]+)$", dest: "/api/node?id=$id" },
      { src: "^/crash$", dest: "/api/crash" },
      { handle: "error" },
      { src: "^/.*$", dest: "/404.html", status: 404 },
    ],
  }),
  ".vercel/output/static/index.html": "<h1>static home</h1>",
  ".vercel/output/static/404.html": "<h1>custom 404</h1>",
  ".vercel/output/functions/api/web.func/.vc-config.json": vc(),
  ".vercel/output/functions/api/web.func/index.mjs": `export function GET(request) {
      const url = new URL(request.url);
      return Response.json({ path: url.pathname, query: url.search, env: process.env.VERCEL_ENV, time: Date.now() });
    }
    export async function POST(request) { return new Response("got " + await request.text(), { status: 201 }); }`,
  ".vercel/output/functions/api/node.func/.vc-config.json": vc(true),
  ".vercel/output/functions/api/node.func/index.mjs": `export default function (req, res) {
      res.setHeader("x-own", "fn");
      res.status(200).json({ id: req.query.id ?? null, method: req.method });
    }`,
  ".vercel/output/functions/api/crash.func/.vc-config.json": vc(),
  ".vercel/output/functions/api/crash.func/index.mjs": `export function GET() { process.exit(2); }`,
  ".vercel/output/functions/isr.func/.vc-config.json": vc(),
  ".vercel/output/functions/isr.func/index.mjs": `let n = 0; export function GET() { n++; return new Response("rendered " + n + " at " + Date.now()); }`,
  ".vercel/output/functions/isr.prerender-config.json": JSON.stringify({
    expiration: 1,
    bypassToken: "a-bypass-token-of-at-least-32-chars!",
    fallback: "isr.prerender-fallback.html",
  }),
  ".vercel/output/functions/isr.prerender-fallback.html": "built at deploy time",
};

async function deployed(
  files: Record<string, string>,
  settings: Record<string, unknown> = {},
): Promise<{ project: Project; id: string }> {
  const repo = fixtureRepo(files);
  const project = await createProject(deps.store, deps.config, userId, {
    name: `fn-${crypto.randomUUID().slice(0, 6)}`,
    gitUrl: repo.url,
    ...settings,
  });
  const d = await queueDeployment(deps, userId, { projectId: project.id });
  for (let i = 0; i < 1200; i++) {
    const now = await deps.store.deployments.find(d.id);
    if (now?.status === "READY") {
      await proxy.reconcile();
      return { project: (await deps.store.projects.find(project.id)) ?? project, id: d.id };
    }
    if (now?.status === "FAIL") throw new Error(`build failed: ${now.statusReason}`);
    await Bun.sleep(100);
  }
  throw new Error("the deployment did not end");
}

async function get(url: string, init: RequestInit & { headers?: Record<string, string> } = {}) {
  const res = await request(proxy, url, { redirect: "manual", ...init });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

describe("a Build Output API deployment", () => {
  let site = "";
  let immutable = "";

  beforeAll(async () => {
    const { project, id } = await deployed(OUTPUT);
    site = productionUrl(project, deps.config);
    immutable = deploymentUrl(project, id, deps.config);
  }, 120_000);

  test("static files and route headers; the error phase's 404 page", async () => {
    const home = await get(`${site}/`);
    expect(home).toMatchObject({ status: 200, body: "<h1>static home</h1>" });
    expect(home.headers.get("x-site")).toBe("boa");
    // Static files revalidate by date too.
    const lastModified = home.headers.get("last-modified") ?? "";
    expect(Date.parse(lastModified)).toBeGreaterThan(Date.now() - 600_000);
    expect((await get(`${site}/`, { headers: { "if-modified-since": lastModified } })).status).toBe(304);
    const missing = await get(`${site}/nothing/here`);
    expect(missing).toMatchObject({ status: 404, body: "<h1>custom 404</h1>" });
  });

  test("functions in both styles, with the route's rewrite, captures and headers", async () => {
    const web = await get(`${site}/api/web?x=1`);
    expect(web.status).toBe(200);
    expect(JSON.parse(web.body)).toMatchObject({ path: "/api/web", query: "?x=1", env: "production" });
    expect(web.headers.get("x-site")).toBe("boa");
    const node = await get(`${immutable}/users/ada`);
    expect(node.status).toBe(200);
    expect(JSON.parse(node.body)).toEqual({ id: "ada", method: "GET" });
    expect(node.headers.get("x-own")).toBe("fn");
    const posted = await get(`${site}/api/web`, { method: "POST", body: "a form" });
    expect(posted).toMatchObject({ status: 201, body: "got a form" });
  }, 30_000);

  test("redirects keep their captures; static files refuse other methods", async () => {
    const moved = await get(`${site}/old/page?q=1`);
    expect(moved.status).toBe(308);
    expect(moved.headers.get("location")).toBe("/new/page?q=1");
    expect((await get(`${site}/`, { method: "POST", body: "x" })).status).toBe(405);
  });

  test("a crashing function is a 502 page; the site keeps serving", async () => {
    const crashed = await get(`${site}/crash`);
    expect(crashed.status).toBe(502);
    expect(crashed.body).toContain("Function failed");
    expect((await get(`${site}/`)).status).toBe(200);
  }, 30_000);

  test("ISR: the fallback first, then renders, stale ones refreshed in the background, on-demand revalidation", async () => {
    // The fallback dates from the deploy: once its second of freshness is over it is served stale while a render
    // replaces it.
    await Bun.sleep(1100);
    const first = await get(`${site}/isr`);
    expect(first.body).toBe("built at deploy time");
    expect(first.headers.get("x-vercel-cache")).toBe("STALE");
    // The render runs in the background (a function's cold start, slower on a busy machine): one at a time per
    // path, so the first answer that is not the fallback is the first render.
    let rendered = first;
    await eventually(async () => {
      rendered = await get(`${site}/isr`);
      expect(rendered.body).not.toBe("built at deploy time");
    }, 15_000);
    expect(rendered.body).toStartWith("rendered 1 ");
    const forced = await get(`${site}/isr`, {
      headers: { "x-prerender-revalidate": "a-bypass-token-of-at-least-32-chars!" },
    });
    expect(forced.body).toStartWith("rendered 2");
    expect((await get(`${site}/isr`)).body).toBe(forced.body);
  }, 30_000);
});

describe("zero-config api/ functions", () => {
  test("a static page and api/ files in both styles, with a dynamic segment", async () => {
    const { project } = await deployed({
      "index.html": "<h1>plain site</h1>",
      "api/hello.ts": `export function GET(request: Request) { return Response.json({ hello: new URL(request.url).searchParams.get("name") }); }`,
      "api/users/[id].js": `export default function handler(req, res) { res.json({ user: req.query.id }); }`,
    });
    const site = productionUrl(project, deps.config);
    expect(await get(`${site}/`)).toMatchObject({ status: 200, body: "<h1>plain site</h1>" });
    const hello = await get(`${site}/api/hello?name=ada`);
    expect(hello.status).toBe(200);
    expect(JSON.parse(hello.body)).toEqual({ hello: "ada" });
    const user = await get(`${site}/api/users/42`);
    expect(user.status).toBe(200);
    expect(JSON.parse(user.body)).toEqual({ user: "42" });
  }, 120_000);
});

describe("every deployment's functions are its own", () => {
  test("an older deployment's URL runs its own code; rollback and promote switch production's functions", async () => {
    const version = (v: string) => ({
      "index.html": `<h1>${v}</h1>`,
      "api/version.ts": `const loaded = "${v}"; export function GET() { return Response.json({ version: loaded }); }`,
    });
    const repo = fixtureRepo(version("v1"));
    const project = await createProject(deps.store, deps.config, userId, {
      name: `fn-own-${crypto.randomUUID().slice(0, 6)}`,
      gitUrl: repo.url,
    });
    const ready = async (id: string) => {
      for (let i = 0; i < 1200; i++) {
        const now = await deps.store.deployments.find(id);
        if (now?.status === "READY") return;
        if (now?.status === "FAIL") throw new Error(`build failed: ${now.statusReason}`);
        await Bun.sleep(100);
      }
      throw new Error("the deployment did not end");
    };
    const first = await queueDeployment(deps, userId, { projectId: project.id });
    await ready(first.id);
    repo.commit(version("v2"));
    const second = await queueDeployment(deps, userId, { projectId: project.id });
    await ready(second.id);
    await proxy.reconcile();

    const site = productionUrl(project, deps.config);
    const v1 = deploymentUrl(project, first.id, deps.config);
    const v2 = deploymentUrl(project, second.id, deps.config);
    const versionAt = async (url: string) => {
      const res = await get(`${url}/api/version`);
      expect(res.status).toBe(200);
      return (JSON.parse(res.body) as { version: string }).version;
    };
    // Both deployments' functions warm at once: each URL keeps answering with its own code.
    expect(await versionAt(site)).toBe("v2");
    expect(await versionAt(v1)).toBe("v1");
    expect(await versionAt(v2)).toBe("v2");

    await rollbackProject(deps.store, deps.bus, userId, project.id);
    await proxy.reconcile();
    expect(await versionAt(site)).toBe("v1");
    expect((await get(`${site}/`)).body).toBe("<h1>v1</h1>");
    expect(await versionAt(v2)).toBe("v2");

    await promoteDeployment(deps.store, deps.bus, userId, second.id);
    await proxy.reconcile();
    expect(await versionAt(site)).toBe("v2");
    expect(await versionAt(v1)).toBe("v1");
  }, 180_000);
});

// Real framework adapters end to end: the SvelteKit, Astro and Nuxt apps of build-output/fixtures/apps/, with
// their exact versions installed from the npm registry and built by the real builder in its sandbox, served by
// the real proxy on a socket, their functions run by the real runtime. Each has a server-rendered page showing
// per-request data, an API route, a form POST handled on the server and a streamed response; SvelteKit also an
// ISR page. The three builds run at once on one server; each group of tests waits for its own.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { queueDeployment } from "../deploy/deploy.ts";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import { productionUrl } from "../model/urls.ts";
import { type Running, startRoles } from "../roles.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { fixtureRepo } from "../testing/repos.ts";

const APPS = join(import.meta.dir, "build-output", "fixtures", "apps");
const BUILD_MS = 300_000;

let deps: Deps;
let roles: Running;
let port = 0;
const builds = new Map<string, Promise<string>>();

/** The files of one fixture app, as a repository holds them. */
function appFiles(name: string): Record<string, string> {
  const root = join(APPS, name);
  const files: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else files[relative(root, path)] = readFileSync(path, "utf8");
    }
  };
  walk(root);
  return files;
}

/** Deploys a fixture app from its own repository; resolves to the production host once READY. */
async function deploy(userId: string, name: string): Promise<string> {
  const repo = fixtureRepo(appFiles(name));
  const project = await createProject(deps.store, deps.config, userId, {
    name: `${name}-${crypto.randomUUID().slice(0, 6)}`,
    gitUrl: repo.url,
  });
  const started = Date.now();
  const { id } = await queueDeployment(deps, userId, { projectId: project.id });
  for (let d = await deps.store.deployments.find(id); Date.now() - started < BUILD_MS; ) {
    if (d?.status === "READY") {
      const log = (await deps.logs.read(id, 0, 5000)).map((l) => l.text);
      const steps = log.filter((line) => /^(install|build) finished in/.test(line)).join(", ");
      console.log(`${name}: READY in ${((Date.now() - started) / 1000).toFixed(1)} s (${steps})`);
      // Asked right away: the proxy serves a first deployment from the moment the store says READY, before the
      // route change reaches it over the bus (route-table.ts re-reads a project without production).
      return new URL(productionUrl(project, deps.config)).host;
    }
    if (d?.status === "FAIL" || d?.status === "CANCELED") {
      const log = (await deps.logs.read(id, 0, 5000)).map((l) => l.text).join("\n");
      throw new Error(`${name}: ${d.status} (${d.statusReason})\n${log.slice(-6000)}`);
    }
    await Bun.sleep(250);
    d = await deps.store.deployments.find(id);
  }
  throw new Error(`${name}: the deployment did not end within ${BUILD_MS / 1000} s`);
}

function built(name: string): Promise<string> {
  const build = builds.get(name);
  if (!build) throw new Error(`${name} was not deployed`);
  return build;
}

beforeAll(async () => {
  deps = await testDeps({
    MINIVERCEL_ROLE: "api,worker,proxy",
    PORT: "0",
    PROXY_PORT: "0",
    LISTEN_HOST: "127.0.0.1",
    BUILD_CONCURRENCY: "3",
  });
  roles = await startRoles(deps);
  port = Number(/:(\d+)$/.exec(roles.urls.proxy ?? "")?.[1]);
  const userId = (await testUser(deps)).user.id;
  for (const name of ["sveltekit", "astro", "nuxt"]) {
    const build = deploy(userId, name);
    build.catch(() => {}); // awaited by the app's own tests, which report it
    builds.set(name, build);
  }
});

afterAll(async () => {
  await Promise.allSettled(builds.values());
  await roles.stop(1000);
  await deps.close();
}, 60_000);

/** A request through the proxy's socket, as a browser on `host` sends it. */
function get(host: string, path: string, init: RequestInit & { headers?: Record<string, string> } = {}) {
  return fetch(`http://127.0.0.1:${port}${path}`, {
    redirect: "manual",
    ...init,
    headers: { host, ...init.headers },
  });
}

/** The text after `label` in a page ("rendered 1712-0.42" -> "1712-0.42"). */
function field(html: string, label: string): string {
  const found = new RegExp(`${label} ([^<\\s]+)`).exec(html)?.[1];
  if (found === undefined) throw new Error(`no "${label}" in ${html.slice(0, 2000)}`);
  return found;
}

/** Two server renders differ and show the request's header. */
async function expectPerRequest(host: string, path: string): Promise<void> {
  const one = await get(host, path, { headers: { "x-visitor": "ada" } });
  const html = await one.text();
  expect(one.status, html).toBe(200);
  expect(one.headers.get("content-type")).toStartWith("text/html");
  expect(field(html, "for")).toBe("ada");
  const two = await (await get(host, path, { headers: { "x-visitor": "grace" } })).text();
  expect(field(two, "for")).toBe("grace");
  expect(field(two, "rendered")).not.toBe(field(html, "rendered"));
}

/** The page's scripts and styles under `prefix` are served with the adapter's cache header; a missing page is a 404. */
async function expectAssetsAndMissing(host: string, prefix: string, immutable: string): Promise<void> {
  const html = await (await get(host, "/")).text();
  // Named as "/_nuxt/a.js", or relative to the root page as "./_app/immutable/a.js".
  const assets = [...html.matchAll(new RegExp(`"\\.?(${prefix}[^"]+)"`, "g"))].map((m) => m[1] ?? "");
  expect(assets.length, html).toBeGreaterThan(0);
  for (const asset of assets) {
    const res = await get(host, asset);
    expect(res.status, asset).toBe(200);
    expect(res.headers.get("cache-control"), asset).toBe(immutable);
    await res.arrayBuffer();
  }
  const missing = await get(host, "/no/such/page");
  expect(missing.status).toBe(404);
  await missing.arrayBuffer();
}

/** The first chunk arrives before the last one is made (the stream is not buffered anywhere on the way). */
async function expectStreamed(host: string, path: string): Promise<void> {
  const res = await get(host, path);
  expect(res.status).toBe(200);
  const reader = res.body?.getReader();
  if (!reader) throw new Error("no body");
  const decoder = new TextDecoder();
  const first = await reader.read();
  const firstAt = Date.now();
  let text = decoder.decode(first.value, { stream: true });
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    text += decoder.decode(next.value, { stream: true });
  }
  expect(text).toMatch(/^first\nlast \d+\n$/);
  expect(firstAt).toBeLessThan(Number(field(text, "last")));
}

/** A urlencoded form POST, as a browser on `host` sends it. */
function postForm(host: string, path: string, fields: Record<string, string>, headers = {}) {
  return get(host, path, {
    method: "POST",
    body: new URLSearchParams(fields).toString(),
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      accept: "text/html,application/xhtml+xml",
      origin: `http://${host}`,
      ...headers,
    },
  });
}

describe("SvelteKit (@sveltejs/kit 2.70.4, @sveltejs/adapter-vercel 6.3.4)", () => {
  let host = "";
  beforeAll(async () => {
    host = await built("sveltekit");
  }, BUILD_MS);

  test("a server-rendered page with per-request data", () => expectPerRequest(host, "/"), 30_000);

  test("an API route", async () => {
    const res = await get(host, "/api/hello?name=ada");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ hello: "ada", framework: "sveltekit" });
  });

  test("its assets, and its own 404 page", () =>
    expectAssetsAndMissing(host, "/_app/immutable/", "public, immutable, max-age=31536000"));

  test("a form POST runs the page's action", async () => {
    const res = await postForm(host, "/", { message: "hello from a form" });
    const html = await res.text();
    expect(res.status, html).toBe(200);
    expect(html).toContain("posted hello from a form");
  });

  test("a streamed response", () => expectStreamed(host, "/stream"), 30_000);

  test("an ISR page: cached, then revalidated on demand with the bypass token", async () => {
    const first = field(await (await get(host, "/isr")).text(), "rendered");
    const again = await get(host, "/isr");
    expect(field(await again.text(), "rendered")).toBe(first);
    const token = "minivercel-fixture-bypass-token-0123456789";
    const forced = field(
      await (await get(host, "/isr", { headers: { "x-prerender-revalidate": token } })).text(),
      "rendered",
    );
    expect(forced).not.toBe(first);
    expect(field(await (await get(host, "/isr")).text(), "rendered")).toBe(forced);
  });
});

describe("Astro (astro 5.18.2, @astrojs/vercel 9.0.5)", () => {
  let host = "";
  beforeAll(async () => {
    host = await built("astro");
  }, BUILD_MS);

  test("a server-rendered page with per-request data", () => expectPerRequest(host, "/"), 30_000);

  test("an API route", async () => {
    const res = await get(host, "/api/hello?name=ada");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ hello: "ada", framework: "astro" });
  });

  test("a missing page is a 404", async () => {
    expect((await get(host, "/no/such/page")).status).toBe(404);
  });

  test("a form POST is read by the page", async () => {
    const res = await postForm(host, "/", { message: "hello from a form" });
    const html = await res.text();
    expect(res.status, html).toBe(200);
    expect(html).toContain("posted hello from a form");
  });

  test("a streamed response", () => expectStreamed(host, "/stream"), 30_000);
});

describe("Nuxt (nuxt 4.2.2, nitropack 2.13.6, preset vercel)", () => {
  let host = "";
  beforeAll(async () => {
    host = await built("nuxt");
  }, BUILD_MS);

  test("a server-rendered page with per-request data", () => expectPerRequest(host, "/"), 30_000);

  test("an API route", async () => {
    const res = await get(host, "/api/hello?name=ada");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ hello: "ada", framework: "nuxt" });
  });

  test("its assets, and its own 404 page", () =>
    expectAssetsAndMissing(host, "/_nuxt/", "public,max-age=31536000,immutable"));

  test("a form POST reaches its server route", async () => {
    const res = await postForm(host, "/submit", { message: "hello from a form" });
    const html = await res.text();
    expect(res.status, html).toBe(200);
    expect(html).toContain("posted hello from a form");
  });

  test("a streamed response", () => expectStreamed(host, "/stream"), 30_000);
});

// Environment variables per target, end to end over real sockets: one project's DATABASE_URL has one value for
// production and another for previews, set through the API; a production and a preview deployment of the same
// repository are built by the real builder in its sandbox and served by the proxy, and each deployment's build
// and function see their own target's value (and VERCEL_ENV), never the other's.

import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Deps } from "../deps.ts";
import { type Running, startRoles } from "../roles.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { fixtureRepo } from "../testing/repos.ts";

let deps: Deps;
let roles: Running;
let api: string;
let proxy: string;
let token: string;

beforeAll(async () => {
  deps = await testDeps({
    PORT: "0",
    PROXY_PORT: "0",
    LISTEN_HOST: "127.0.0.1",
    MINIVERCEL_ROLE: "api,worker,proxy",
    BUILD_CONCURRENCY: "2",
  });
  roles = await startRoles(deps);
  api = (roles.urls.api ?? "").replace("localhost", "127.0.0.1");
  proxy = `http://127.0.0.1:${new URL((roles.urls.proxy ?? "").replace("<project>", "x")).port}`;
  token = (await testUser(deps)).token;
});
afterAll(async () => {
  await roles.stop(1000);
  await deps.close();
}, 60_000);

async function call(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${api}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

type Deployment = { id: string; status: string; statusReason: string | null; target: string; url: string };

async function deployed(projectId: string, branch: string): Promise<Deployment> {
  const queued = await call("POST", "/api/deploy", { projectId, branch });
  expect(queued.status).toBe(201);
  const id = (queued.body as Deployment).id;
  const until = Date.now() + 150_000;
  for (;;) {
    const d = (await call("GET", `/api/deployments/${id}`)).body as Deployment;
    if (d.status === "READY") return d;
    if (d.status === "FAIL" || d.status === "CANCELED" || Date.now() > until)
      throw new Error(`deployment of ${branch} ended ${d.status}: ${d.statusReason}`);
    await Bun.sleep(200);
  }
}

/** A GET through the proxy's socket for a site's host. */
async function site(host: string, path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${proxy}${path}`, { headers: { host } });
  return { status: res.status, text: await res.text() };
}

test("a preview and a production deployment each see their own value of the same key", async () => {
  const repo = fixtureRepo({
    "package.json": JSON.stringify({
      name: "env-targets",
      private: true,
      scripts: {
        build: `mkdir -p public && printf '%s|%s|%s' "$DATABASE_URL" "$VERCEL_ENV" "\${ONLY_PRODUCTION:-unset}" > public/build.txt`,
      },
    }),
    "api/env.js": `export function GET() {
      return Response.json({
        databaseUrl: process.env.DATABASE_URL,
        vercelEnv: process.env.VERCEL_ENV,
        onlyProduction: process.env.ONLY_PRODUCTION ?? null,
        shared: process.env.SHARED,
      });
    }\n`,
  });
  repo.commit({ "feature.txt": "a preview branch\n" }, "feature");
  const created = await call("POST", "/api/projects", {
    name: "Env targets",
    gitUrl: repo.url,
    installCommand: "true",
    outputDirectory: "public",
  });
  expect(created.status).toBe(201);
  const project = created.body as { id: string; subDomain: string };
  const set = async (key: string, value: string, target?: string[]) =>
    expect((await call("PUT", `/api/projects/${project.id}/env/${key}`, { value, target })).status).toBe(204);
  await set("DATABASE_URL", "postgres://production-db.internal/app", ["production"]);
  await set("DATABASE_URL", "postgres://preview-db.internal/app", ["preview"]);
  await set("ONLY_PRODUCTION", "live-key", ["production"]);
  await set("SHARED", "for-everyone");

  const [production, preview] = await Promise.all([
    deployed(project.id, "main"),
    deployed(project.id, "feature"),
  ]);
  expect([production.target, preview.target]).toEqual(["production", "preview"]);

  const productionHost = `${project.subDomain}.localhost`;
  const previewHost = new URL(preview.url).host;
  const fn = async (host: string) => {
    const res = await site(host, "/api/env");
    expect(res.status).toBe(200);
    return JSON.parse(res.text);
  };
  expect(await fn(productionHost)).toEqual({
    databaseUrl: "postgres://production-db.internal/app",
    vercelEnv: "production",
    onlyProduction: "live-key",
    shared: "for-everyone",
  });
  expect(await fn(previewHost)).toEqual({
    databaseUrl: "postgres://preview-db.internal/app",
    vercelEnv: "preview",
    onlyProduction: null,
    shared: "for-everyone",
  });
  // The production deployment's own URL runs the same production function.
  expect((await fn(new URL(production.url).host)).databaseUrl).toBe("postgres://production-db.internal/app");

  // The builds saw their target's values too.
  expect(await site(productionHost, "/build.txt")).toEqual({
    status: 200,
    text: "postgres://production-db.internal/app|production|live-key",
  });
  expect(await site(previewHost, "/build.txt")).toEqual({
    status: 200,
    text: "postgres://preview-db.internal/app|preview|unset",
  });
}, 240_000);

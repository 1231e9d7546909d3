// Proxy processes: an extra process's requests for a deployment with functions reach the first process over the
// forwarding socket and are answered by its runtime (the extra process has none); the visitor's address and
// headers arrive as the visitor sent them, and a visitor cannot forge the socket's own headers.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { queueDeployment } from "../deploy/deploy.ts";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import { productionUrl } from "../model/urls.ts";
import { type Running, startRoles } from "../roles.ts";
import { createRuntime, type FunctionRuntime } from "../runtime/runtime.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { fixtureRepo } from "../testing/repos.ts";
import { request } from "../testing/sites.ts";
import { forwardedRequests, serveForwarded, socketForwarder } from "./forward.ts";
import { createProxy, type SiteProxy } from "./proxy.ts";

const VISITOR = "203.0.113.9";

let deps: Deps;
let roles: Running;
let first: SiteProxy;
let extra: SiteProxy;
let runtime: FunctionRuntime | null = null;
let internal: ReturnType<typeof Bun.serve>;
let dir: string;
let site: string;
let staticOnly: string;

const OUTPUT: Record<string, string> = {
  ".vercel/output/config.json": JSON.stringify({ version: 3, routes: [{ handle: "filesystem" }] }),
  ".vercel/output/static/index.html": "<h1>home</h1>",
  ".vercel/output/functions/api/echo.func/.vc-config.json": JSON.stringify({
    runtime: "nodejs20.x",
    handler: "index.mjs",
    launcherType: "Nodejs",
  }),
  ".vercel/output/functions/api/echo.func/index.mjs": `export async function GET(request) {
      const h = request.headers;
      return Response.json({
        forwardedFor: h.get("x-forwarded-for"),
        userAgent: h.get("user-agent"),
        acceptEncoding: h.get("accept-encoding"),
        custom: h.get("x-custom"),
        ours: [...h.keys()].filter((k) => k.startsWith("x-minivercel")),
      });
    }
    export async function POST(request) { return new Response("got " + await request.text(), { status: 201 }); }`,
};

async function deployed(files: Record<string, string>): Promise<string> {
  const userId = (await testUser(deps)).user.id;
  const project = await createProject(deps.store, deps.config, userId, {
    name: `fw-${crypto.randomUUID().slice(0, 6)}`,
    gitUrl: fixtureRepo(files).url,
  });
  const d = await queueDeployment(deps, userId, { projectId: project.id });
  for (let i = 0; i < 1200; i++) {
    const now = await deps.store.deployments.find(d.id);
    if (now?.status === "READY") {
      await Promise.all([first.reconcile(), extra.reconcile()]);
      return productionUrl((await deps.store.projects.find(project.id)) ?? project, deps.config);
    }
    if (now?.status === "FAIL") throw new Error(`build failed: ${now.statusReason}`);
    await Bun.sleep(100);
  }
  throw new Error("the deployment did not end");
}

beforeAll(async () => {
  deps = await testDeps({ PORT: "0", PROXY_PORT: "0", MINIVERCEL_ROLE: "api,worker" });
  roles = await startRoles(deps);
  dir = mkdtempSync(join(tmpdir(), "minivercel-forward-test-"));
  const socketPath = join(dir, "forward.sock");
  const forwarded = forwardedRequests();
  first = await createProxy(
    deps,
    { reconcileMs: 60_000 },
    {
      runtime: () => {
        runtime = createRuntime(deps);
        return runtime;
      },
      peer: (r) => (forwarded.has(r) ? (forwarded.peer(r) ?? null) : null),
      secure: (r) => forwarded.secure(r),
    },
  );
  internal = serveForwarded(socketPath, first, forwarded, 1024 * 1024);
  extra = await createProxy(
    deps,
    { reconcileMs: 60_000 },
    {
      runtime: () => {
        throw new Error("an extra process must not make a runtime");
      },
      peer: () => VISITOR,
      secure: () => false,
      forward: socketForwarder(socketPath, { peer: () => VISITOR, secure: () => false }),
    },
  );
  site = await deployed(OUTPUT);
  staticOnly = await deployed({ "index.html": "<h1>plain</h1>" });
}, 180_000);

afterAll(async () => {
  await extra.stop();
  await first.stop();
  await internal.stop(true);
  await roles.stop(1000);
  await deps.close();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe("forwarding from an extra proxy process", () => {
  test("a function is answered by the first process's runtime, with the visitor's address and headers", async () => {
    const res = await request(extra, `${site}/api/echo`, {
      headers: { "x-custom": "kept", "x-minivercel-forwarded-peer": "198.51.100.1" },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ custom: "kept", ours: [] });
    // The visitor sent no User-Agent or Accept-Encoding: the function sees what it sees without the extra hop.
    const direct = (await (await request(first, `${site}/api/echo`)).json()) as Record<string, unknown>;
    expect({ userAgent: body.userAgent, acceptEncoding: body.acceptEncoding }).toEqual({
      userAgent: direct.userAgent,
      acceptEncoding: direct.acceptEncoding,
    });
    // The socket's address as the extra process saw it; the visitor's forged header is dropped.
    expect(String(body.forwardedFor)).toContain(VISITOR);
    expect(String(body.forwardedFor)).not.toContain("198.51.100.1");
    expect(runtime).not.toBeNull();
  });

  test("a request body goes through, and the function's status comes back", async () => {
    const res = await request(extra, `${site}/api/echo`, { method: "POST", body: "a form" });
    expect(res.status).toBe(201);
    expect(await res.text()).toBe("got a form");
  });

  test("a static deployment is served by the extra process itself", async () => {
    const before = runtime;
    const res = await request(extra, `${staticOnly}/`);
    expect(await res.text()).toBe("<h1>plain</h1>");
    expect(runtime).toBe(before);
  });

  test("the first process down: an error page, not a hang", async () => {
    const gone = socketForwarder(join(dir, "nobody.sock"), { peer: () => null, secure: () => false });
    const res = await gone.fetch(new Request(`${site}/api/echo`, { headers: { host: new URL(site).host } }));
    expect(res.status).toBe(500);
  });
});

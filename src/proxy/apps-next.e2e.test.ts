// Next.js standalone end to end (slow tier: a large install): an App Router app with `output: "standalone"` (next
// 15.3.3, react 19.1.0 from the npm registry) built by the real builder in its sandbox, detected as an app server
// (.next/standalone/server.js), run in the sandbox and served through the proxy: a server component rendering
// per-request data, a route handler, its .next/static assets and public/ files from the proxy, and sleeping when
// idle then waking on the next request.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { queueDeployment } from "../deploy/deploy.ts";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import { type Running, startRoles } from "../roles.ts";
import { createRuntime, type FunctionRuntime } from "../runtime/runtime.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { fixtureRepo } from "../testing/repos.ts";
import { request } from "../testing/sites.ts";
import { createProxy, type SiteProxy } from "./proxy.ts";

let deps: Deps;
let roles: Running;
let proxy: SiteProxy;
let runtime: FunctionRuntime | null = null;
let userId: string;

beforeAll(async () => {
  deps = await testDeps({
    PORT: "0",
    PROXY_PORT: "0",
    MINIVERCEL_ROLE: "api,worker",
    FUNCTION_START_TIMEOUT_SECONDS: "30",
  });
  roles = await startRoles(deps);
  userId = (await testUser(deps)).user.id;
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
});
afterAll(async () => {
  await proxy.stop();
  await roles.stop(1000);
  await deps.close();
}, 60_000);

const NEXT_APP: Record<string, string> = {
  "package.json": JSON.stringify({
    name: "next-standalone",
    private: true,
    scripts: { build: "next build", start: "next start" },
    dependencies: { next: "15.3.3", react: "19.1.0", "react-dom": "19.1.0" },
  }),
  "next.config.mjs": `export default { output: "standalone", poweredByHeader: true };\n`,
  "app/layout.js": `export const metadata = { title: "minivercel next" };
export default function RootLayout({ children }) {
  return <html lang="en"><body>{children}</body></html>;
}
`,
  "app/page.js": `import { headers } from "next/headers";
export const dynamic = "force-dynamic";
export default async function Page() {
  const h = await headers();
  return <main><h1>Rendered per request</h1><p id="at">{String(Date.now()) + "-" + Math.random()}</p><p id="host">{h.get("x-forwarded-host")}</p></main>;
}
`,
  "app/api/hello/route.js": `export const dynamic = "force-dynamic";
export function GET(request) {
  const url = new URL(request.url);
  return Response.json({ hello: "route handler", q: url.searchParams.get("q"), at: Date.now() });
}
`,
  "public/logo.txt": "a public file",
};

describe("Next.js standalone", () => {
  let host = "";
  let id = "";
  const get = (path: string) => request(proxy, `http://${host}${path}`);

  beforeAll(async () => {
    const project = await createProject(deps.store, deps.config, userId, {
      name: `next-${crypto.randomUUID().slice(0, 6)}`,
      gitUrl: fixtureRepo(NEXT_APP).url,
      idleTimeoutMinutes: 3,
    });
    const d = await queueDeployment(deps, userId, { projectId: project.id });
    for (let i = 0; ; i++) {
      const now = await deps.store.deployments.find(d.id);
      if (now?.status === "READY") break;
      if (now?.status === "FAIL") {
        const log = (await deps.logs.read(d.id, 0, 1000)).map((l) => l.text).join("\n");
        throw new Error(`build failed: ${now.statusReason}\n${log.slice(-3000)}`);
      }
      if (i > 6000) throw new Error("the build did not end");
      await Bun.sleep(100);
    }
    await proxy.reconcile();
    host = `${project.subDomain}.${deps.config.sitesDomain}`;
    id = d.id;
  }, 900_000);

  test("detected as a standalone server; the build log says so", async () => {
    const log = (await deps.logs.read(id, 0, 5000)).map((l) => l.text).join("\n");
    expect(log).toContain(
      "next.config.mjs sets output: 'standalone': .next/standalone runs as an app server",
    );
    expect(log).toContain("App server: Next.js standalone output (node .next/standalone/server.js)");
    const manifest = await deps.artifacts.getManifest(id);
    expect(manifest?.server?.command).toBe("node server.js");
  });

  test("a server component renders per request", async () => {
    const first = await (await get("/")).text();
    const second = await (await get("/")).text();
    const at = (html: string) => /<p id="at">([^<]+)<\/p>/.exec(html)?.[1];
    expect(first).toContain("Rendered per request");
    expect(at(first)).toBeDefined();
    expect(at(first)).not.toBe(at(second));
    expect(/<p id="host">([^<]+)<\/p>/.exec(first)?.[1]).toBe(host);
  }, 60_000);

  test("a route handler", async () => {
    const res = await get("/api/hello?q=1");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ hello: "route handler", q: "1" });
  });

  test("its static assets and public files come from the proxy, without waking the server", async () => {
    const html = await (await get("/")).text();
    const asset = /(\/_next\/static\/[^"]+\.js)/.exec(html)?.[1];
    expect(asset).toBeDefined();
    await runtime?.apps?.restart(id);
    const count = () => runtime?.apps?.view(id)[0]?.instances.length ?? 0;
    expect(count()).toBe(0);
    const chunk = await get(asset ?? "/missing");
    expect(chunk.status).toBe(200);
    expect((await chunk.text()).length).toBeGreaterThan(100);
    expect(await (await get("/logo.txt")).text()).toBe("a public file");
    expect(count()).toBe(0);
    expect((await (await get("/api/hello")).json()).hello).toBe("route handler");
    expect(count()).toBe(1);
  }, 30_000);

  test("sleeps when idle and wakes on the next request", async () => {
    const count = () => runtime?.apps?.view(id)[0]?.instances.length ?? 0;
    expect(count()).toBe(1);
    for (let i = 0; i < 100 && count() > 0; i++) await Bun.sleep(100);
    expect(count()).toBe(0);
    const started = performance.now();
    const res = await get("/api/hello");
    expect(res.status).toBe(200);
    console.log(`next standalone wake: ${(performance.now() - started).toFixed(0)} ms`);
    expect(count()).toBe(1);
  }, 30_000);
});

// What a function is told about the request's scheme: X-Forwarded-Proto comes from the platform. A visitor's
// own header counts only behind a reverse proxy the operator trusts (TRUST_PROXY), which sets it.

import { afterAll, expect, test } from "bun:test";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import { createRuntime } from "../runtime/runtime.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { deployBuildOutput, vcConfig } from "../testing/functions.ts";
import { createProxy, type SiteProxy } from "./proxy.ts";

const open: { deps: Deps; proxy: SiteProxy }[] = [];
afterAll(async () => {
  for (const { deps, proxy } of open) {
    await proxy.stop();
    await deps.close();
  }
});

async function schemeSeen(env: Record<string, string>, headers: Record<string, string>): Promise<string> {
  const deps = await testDeps(env);
  const proxy = await createProxy(deps, { reconcileMs: 60_000 }, { runtime: () => createRuntime(deps) });
  open.push({ deps, proxy });
  const { user } = await testUser(deps);
  const project = await createProject(deps.store, deps.config, user.id, { name: "scheme" });
  await deployBuildOutput(deps, project, {
    "config.json": JSON.stringify({ version: 3, routes: [{ handle: "filesystem" }] }),
    "functions/api/scheme.func/.vc-config.json": vcConfig(),
    "functions/api/scheme.func/index.mjs": `export function GET(request) {
      return new Response(request.headers.get("x-forwarded-proto") + " " + new URL(request.url).protocol);
    }`,
  });
  await proxy.reconcile();
  const res = await proxy.fetch(
    new Request("http://scheme.localhost/api/scheme", { headers: { host: "scheme.localhost", ...headers } }),
  );
  return res.text();
}

test("a visitor's X-Forwarded-Proto is ignored on the plain port, and honoured behind TRUST_PROXY", async () => {
  expect(await schemeSeen({}, { "x-forwarded-proto": "https" })).toBe("http http:");
  expect(await schemeSeen({ TRUST_PROXY: "1" }, { "x-forwarded-proto": "https" })).toBe("https https:");
  expect(await schemeSeen({ TRUST_PROXY: "1" }, {})).toBe("http http:");
}, 60_000);

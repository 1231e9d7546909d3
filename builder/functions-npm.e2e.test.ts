// A zero-config TypeScript function importing an npm package: the build's install step fetches it from the npm
// registry, the sandboxed bundler puts it inside the function's one module, and the bundle runs without it.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { queueDeployment } from "../src/deploy/deploy.ts";
import { createProject } from "../src/deploy/projects.ts";
import type { Deps } from "../src/deps.ts";
import { type Running, startRoles } from "../src/roles.ts";
import { tempDir, testDeps, testUser } from "../src/testing/deps.ts";
import { fixtureRepo } from "../src/testing/repos.ts";

let deps: Deps;
let roles: Running;
let userId: string;

beforeAll(async () => {
  deps = await testDeps({
    PORT: "0",
    PROXY_PORT: "0",
    MINIVERCEL_ROLE: "api,worker",
    LISTEN_HOST: "127.0.0.1",
  });
  roles = await startRoles(deps);
  userId = (await testUser(deps)).user.id;
});
afterAll(async () => {
  await roles.stop();
  await deps.close();
}, 60_000);

test("an api/ function importing an npm package is bundled with it", async () => {
  const repo = fixtureRepo({
    "package.json": JSON.stringify({ name: "fn-npm", private: true, dependencies: { ms: "2.1.3" } }),
    "index.html": "<h1>home</h1>",
    "api/ago.ts":
      'import ms from "ms";\n\nexport function GET(): Response {\n  return Response.json({ twoDays: ms("2 days") });\n}\n',
  });
  const project = await createProject(deps.store, deps.config, userId, { name: "fn-npm", gitUrl: repo.url });
  const { id } = await queueDeployment(deps, userId, { projectId: project.id });
  let d = await deps.store.deployments.find(id);
  for (let i = 0; i < 1800 && !["READY", "FAIL", "CANCELED"].includes(d?.status ?? ""); i++) {
    await Bun.sleep(100);
    d = await deps.store.deployments.find(id);
  }
  const log = (await deps.logs.read(id, 0, 5000)).map((l) => l.text).join("\n");
  expect({ status: d?.status, reason: d?.statusReason }, log).toEqual({ status: "READY", reason: null });
  expect(log).toContain('Running "npm install"');

  const manifest = await deps.artifacts.getManifest(id);
  // node_modules and package.json are never served.
  expect(Object.keys(manifest?.files ?? {})).toEqual(["/index.html"]);
  const fn = manifest?.functions?.["/api/ago"];
  const bundle = (await (await deps.artifacts.getBlob(fn?.files["index.mjs"]?.hash ?? ""))?.text()) ?? "";
  expect(bundle).toContain("node_modules/ms/index.js");
  expect(bundle).not.toMatch(/from\s+["']ms["']/);
  const dir = tempDir("minivercel-fn-");
  writeFileSync(join(dir, "index.mjs"), bundle);
  const mod = await import(join(dir, "index.mjs"));
  expect(await (mod.GET() as Response).json()).toEqual({ twoDays: 172_800_000 });
}, 240_000);

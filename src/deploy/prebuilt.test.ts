// Uploaded deployments meeting the build machinery: a launcher that claims a prebuilt upload finishes it
// without a build, and a remote builder (ECS, HTTP only) builds an uploaded source with its token alone.

import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Deps } from "../deps.ts";
import { type Running, startRoles } from "../roles.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { httpBuildJob, runBuilder } from "../testing/remote-builder.ts";
import { storedDeployment } from "../testing/store-deployment.ts";
import { deployFileSet, sourceManifestId } from "./prebuilt.ts";
import { createProject } from "./projects.ts";
import { putScopedBlob } from "./scoped-blobs.ts";

let deps: Deps;
let roles: Running;
let base: string;
let userId: string;

beforeAll(async () => {
  deps = await testDeps({
    PORT: "0",
    PROXY_PORT: "0",
    MINIVERCEL_ROLE: "api,worker",
    LISTEN_HOST: "127.0.0.1",
    BUILD_SANDBOX: "none",
  });
  roles = await startRoles(deps);
  base = roles.urls.api ?? "";
  userId = (await testUser(deps)).user.id;
});
afterAll(async () => {
  await roles.stop();
  await deps.close();
});

const sha256 = (data: string) => new Bun.CryptoHasher("sha256").update(data).digest("hex");

async function stored(files: Record<string, string>) {
  const out: Record<string, { hash: string; size: number; type: string }> = {};
  for (const [path, content] of Object.entries(files)) {
    // Uploaded as the user (the API's PUT /api/files/:hash): the deployment may then name it.
    await putScopedBlob(
      deps.store,
      deps.artifacts,
      userId,
      sha256(content),
      new TextEncoder().encode(content),
    );
    out[path] = { hash: sha256(content), size: Buffer.byteLength(content), type: "text/html;charset=utf-8" };
  }
  return out;
}

async function until(check: () => Promise<boolean>, ms: number) {
  const end = Date.now() + ms;
  while (!(await check()) && Date.now() < end) await Bun.sleep(25);
}

test("a prebuilt deployment goes straight to IN_PROGRESS and READY, never through the build queue", async () => {
  const project = await createProject(deps.store, deps.config, userId, { name: "prebuilt" });
  const files = await stored({ "/index.html": "<p>prebuilt</p>" });
  const { deployment } = await deployFileSet(deps, userId, {
    projectId: project.id,
    files,
    target: "production",
  });
  expect(deployment.status).toBe("READY");
  expect(deployment.startedAt).not.toBeNull();
  expect((await deps.store.projects.find(project.id))?.productionDeploymentId).toBe(deployment.id);
});

test("a remote builder builds an uploaded source through the build API, and reads nothing else", async () => {
  const project = await createProject(deps.store, deps.config, userId, { name: "remote source" });
  // Claimed as a remote runner would, so the local launcher leaves it alone.
  const d = await storedDeployment(deps.store, { projectId: project.id, userId, status: "IN_PROGRESS" });
  const files = await stored({ "/index.html": "<h1>uploaded source</h1>", "/docs/a.html": "a" });
  await deps.artifacts.putManifest({
    version: 1,
    deploymentId: sourceManifestId(d.id),
    createdAt: new Date().toISOString(),
    files,
  });
  const token = deps.buildTokens.issue(d.id);

  const get = (path: string) =>
    fetch(`${base}/api/builds/${d.id}${path}`, { headers: { authorization: `Bearer ${token}` } });
  expect((await get(`/source/${sha256("a")}`)).status).toBe(200);
  const elsewhere = "not in this source";
  await deps.artifacts.putBlob(sha256(elsewhere), new TextEncoder().encode(elsewhere));
  expect((await get(`/source/${sha256(elsewhere)}`)).status).toBe(404);

  const job = httpBuildJob(deps, d.id, base, {
    source: { kind: "manifest", manifestId: sourceManifestId(d.id) },
    allowLocalGit: false,
    output: { kind: "http", apiUrl: base, token },
  });
  expect((await runBuilder(job)).code).toBe(0);
  // The builder's last report reaches the store through the build API and the bus: a moment after it exits, longer
  // on a busy machine, where this test failed once with a 5 s wait.
  await until(async () => (await deps.store.deployments.find(d.id))?.status === "READY", 20_000);
  const done = await deps.store.deployments.find(d.id);
  expect({ status: done?.status, reason: done?.statusReason }).toEqual({ status: "READY", reason: null });
  const manifest = await deps.artifacts.getManifest(d.id);
  expect(Object.keys(manifest?.files ?? {}).sort()).toEqual(["/docs/a.html", "/index.html"]);
  const log = (await deps.logs.read(d.id, 0, 100)).map((l) => l.text).join("\n");
  expect(log).toContain("Unpacked 2 files");
  expect(log).not.toContain("Cloning");
}, 60_000);

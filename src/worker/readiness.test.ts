// /api/health's `builds` through the API's handler, for each way a process runs (or does not run) builds; a host
// without the sandbox's programs, end to end, is in unavailable.test.ts.

import { afterEach, expect, test } from "bun:test";
import type { Deps } from "../deps.ts";
import { apiClient, obj, tempDir, testDeps } from "../testing/deps.ts";

const opened: Deps[] = [];
afterEach(async () => {
  for (const deps of opened.splice(0)) await deps.close();
});

async function buildsOf(env: Record<string, string>): Promise<Record<string, unknown>> {
  const deps = await testDeps(env);
  opened.push(deps);
  const res = await apiClient(deps, null)("GET", "/api/health");
  expect(res.status).toBe(200);
  expect(obj(res.body).status).toBe("ok");
  return obj(obj(res.body).builds);
}

test("a process without the worker role cannot tell: ready is null and it says where to look", async () => {
  // Its own host lacks every program: an api process must not judge the workers' hosts by its own.
  const builds = await buildsOf({ MINIVERCEL_ROLE: "api", BUILD_SANDBOX_PATH: tempDir() });
  expect(builds).toMatchObject({ ready: null, runner: null, sandbox: null, problem: null, fix: null });
  expect(String(builds.message)).toContain("minivercel doctor");
});

test("a worker whose sandbox programs are missing says which, and the install command", async () => {
  const builds = await buildsOf({ MINIVERCEL_ROLE: "api,worker", BUILD_SANDBOX_PATH: tempDir() });
  expect(builds).toMatchObject({ ready: false, runner: "local", sandbox: "bwrap" });
  expect(String(builds.problem)).toContain("missing programs: bwrap, setpriv, unshare");
  expect(String(builds.fix)).toContain("bubblewrap");
  expect(String(builds.message)).toStartWith("builds cannot run on this server: ");
});

test("BUILD_SANDBOX=none needs no sandbox: ready, and says there is no isolation", async () => {
  const builds = await buildsOf({ BUILD_SANDBOX: "none", BUILD_SANDBOX_PATH: tempDir() });
  expect(builds).toMatchObject({ ready: true, runner: "local", sandbox: "none", problem: null, fix: null });
  expect(String(builds.message)).toContain("WITHOUT isolation");
});

test("ECS builds need nothing of this host's sandbox", async () => {
  const builds = await buildsOf({
    BUILD_SANDBOX_PATH: tempDir(),
    ECS_CLUSTER_NAME: "builds",
    ECS_TASK_DEFINITION: "builder",
    AWS_REGION: "us-east-1",
    PUBLIC_API_URL: "https://deploy.example.com",
  });
  expect(builds).toMatchObject({ ready: true, runner: "ecs", sandbox: null, problem: null });
  expect(String(builds.message)).toContain("cluster builds");
});

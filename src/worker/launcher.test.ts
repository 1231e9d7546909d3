// The launcher's guarantees: orphans and silent builds end FAIL with a reason; BUILD_SANDBOX=none is loud.

import { afterEach, expect, test } from "bun:test";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import { startRoles } from "../roles.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { fixtureRepo } from "../testing/repos.ts";
import { storedDeployment } from "../testing/store-deployment.ts";
import { startEventWorkers } from "./apply-events.ts";
import { startLauncher } from "./launcher.ts";
import { localRunner } from "./runner-local.ts";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function inProgress(deps: Deps, heartbeatAt: string) {
  const { user } = await testUser(deps);
  const project = await createProject(deps.store, deps.config, user.id, {
    name: "x",
    gitUrl: "https://example.com/x.git",
  });
  return storedDeployment(deps.store, {
    projectId: project.id,
    userId: user.id,
    status: "IN_PROGRESS",
    heartbeat: heartbeatAt,
  });
}

async function until(check: () => Promise<boolean>, ms: number) {
  const end = Date.now() + ms;
  while (!(await check()) && Date.now() < end) await Bun.sleep(50);
}

test("a build with no sign of life past the timeout is failed by the reaper", async () => {
  const deps = await testDeps({ BUILD_HEARTBEAT_TIMEOUT_SECONDS: "5" });
  cleanup.push(() => deps.close());
  const silent = await inProgress(deps, new Date(Date.now() - 60_000).toISOString());
  const fresh = await inProgress(deps, new Date(Date.now() + 60_000).toISOString());
  const events = await startEventWorkers(deps);
  const launcher = startLauncher({ ...deps, exclusive: false, runner: localRunner(), pollMs: 100 });
  cleanup.push(
    () => events.stop(),
    () => launcher.stop(),
  );
  await until(async () => (await deps.store.deployments.find(silent.id))?.status === "FAIL", 8000);
  const failed = await deps.store.deployments.find(silent.id);
  expect(failed?.status).toBe("FAIL");
  expect(failed?.statusReason).toContain("lost contact with the builder");
  expect((await deps.store.deployments.find(fresh.id))?.status).toBe("IN_PROGRESS");
}, 15_000);

test("a deployment left NOT_STARTED (its creator stopped) is ended FAIL with the reason", async () => {
  const deps = await testDeps();
  cleanup.push(() => deps.close());
  const { user } = await testUser(deps);
  const project = await createProject(deps.store, deps.config, user.id, { name: "left" });
  // Only age tells it from one being set up right now (the store contract checks `abandoned` by time).
  const left = await deps.store.deployments.create({
    projectId: project.id,
    userId: user.id,
    status: "NOT_STARTED",
    target: "preview",
    branch: "main",
    commitSha: null,
  });
  const events = await startEventWorkers(deps);
  const launcher = startLauncher({
    ...deps,
    exclusive: false,
    runner: localRunner(),
    pollMs: 100,
    abandonedAfterMs: 1_000,
  });
  cleanup.push(
    () => events.stop(),
    () => launcher.stop(),
  );
  await until(async () => (await deps.store.deployments.find(left.id))?.status === "FAIL", 12_000);
  const ended = await deps.store.deployments.find(left.id);
  expect(ended?.status).toBe("FAIL");
  expect(ended?.statusReason).toContain("it was never queued");
}, 20_000);

test("with the embedded store, builds left running before a restart fail at once", async () => {
  const deps = await testDeps();
  cleanup.push(() => deps.close());
  const orphan = await inProgress(deps, new Date().toISOString());
  const events = await startEventWorkers(deps);
  const launcher = startLauncher({ ...deps, runner: localRunner(), pollMs: 100 });
  cleanup.push(
    () => events.stop(),
    () => launcher.stop(),
  );
  await until(async () => (await deps.store.deployments.find(orphan.id))?.status === "FAIL", 3000);
  expect((await deps.store.deployments.find(orphan.id))?.statusReason).toContain("restarted");
});

test("BUILD_SANDBOX=none builds, with a warning at the top of the build log", async () => {
  const deps = await testDeps({ BUILD_SANDBOX: "none", MINIVERCEL_ROLE: "worker" });
  cleanup.push(() => deps.close());
  const roles = await startRoles(deps);
  cleanup.push(() => roles.stop());
  const { user } = await testUser(deps);
  const repo = fixtureRepo({ "index.html": "<p>trusted</p>" });
  const project = await createProject(deps.store, deps.config, user.id, {
    name: "trusted",
    gitUrl: repo.url,
  });
  const d = await deps.store.deployments.create({
    projectId: project.id,
    userId: user.id,
    status: "QUEUED",
    target: "production",
    branch: "main",
    commitSha: null,
  });
  await until(async () => (await deps.store.deployments.find(d.id))?.status === "READY", 20_000);
  expect((await deps.store.deployments.find(d.id))?.status).toBe("READY");
  const first = (await deps.logs.read(d.id, 0, 1))[0];
  expect(first?.text).toContain("WARNING: BUILD_SANDBOX=none");
}, 30_000);

test("a deployment that cannot build here fails at once with the reason, clipped to what a status may carry", async () => {
  // Programs looked for where there are none, under a path long enough to push the reason past 1000 characters.
  const deps = await testDeps({
    MINIVERCEL_ROLE: "worker",
    BUILD_SANDBOX_PATH: `/nonexistent/${"x".repeat(1500)}`,
  });
  cleanup.push(() => deps.close());
  const roles = await startRoles(deps);
  cleanup.push(() => roles.stop());
  const { user } = await testUser(deps);
  const project = await createProject(deps.store, deps.config, user.id, {
    name: "cannot-build",
    gitUrl: fixtureRepo({ "index.html": "<p>x</p>" }).url,
  });
  const d = await deps.store.deployments.create({
    projectId: project.id,
    userId: user.id,
    status: "QUEUED",
    target: "production",
    branch: "main",
    commitSha: null,
  });
  await until(async () => (await deps.store.deployments.find(d.id))?.status === "FAIL", 5_000);
  const failed = await deps.store.deployments.find(d.id);
  expect(failed?.status).toBe("FAIL");
  expect(failed?.statusReason).toStartWith(
    "builds cannot run on this server: missing programs: bwrap, setpriv",
  );
  expect(failed?.statusReason?.length).toBe(1000);
  expect((await deps.logs.read(d.id, 0, 1))[0]?.text).toStartWith("Error: builds cannot run on this server");
});

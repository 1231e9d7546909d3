// Build reuse: a redeploy of the same commit, settings and variables takes the earlier output without building;
// a new commit, a changed variable or setting, another project, or BUILD_REUSE=0 builds again.

import { afterEach, expect, test } from "bun:test";
import type { Env } from "../config/config.ts";
import { queueDeployment } from "../deploy/deploy.ts";
import { setEnvVar } from "../deploy/env.ts";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import type { Deployment } from "../model/entities.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { fixtureRepo } from "../testing/repos.ts";
import { startEventWorkers } from "./apply-events.ts";
import { startLauncher } from "./launcher.ts";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function worker(env: Env = {}): Promise<Deps> {
  const deps = await testDeps(env);
  const events = await startEventWorkers(deps);
  const launcher = startLauncher({ ...deps, pollMs: 50 });
  cleanup.push(async () => {
    await launcher.stop();
    await events.stop();
    await deps.close();
  });
  return deps;
}

async function finished(deps: Deps, id: string): Promise<{ d: Deployment; log: string[] }> {
  const end = Date.now() + 60_000;
  for (;;) {
    const d = await deps.store.deployments.find(id);
    if (d && ["READY", "FAIL", "CANCELED"].includes(d.status)) {
      const log = (await deps.logs.read(id, 0, 1000)).map((l) => l.text);
      return { d, log };
    }
    if (Date.now() > end) throw new Error(`deployment ${id} did not finish`);
    await Bun.sleep(50);
  }
}

const SITE = {
  "build.sh": 'mkdir -p dist && echo "<p>$GREETING</p>" > dist/index.html && echo built\n',
};

test("a redeploy of the same commit reuses the output; a new commit or a changed variable builds", async () => {
  const deps = await worker();
  const { user } = await testUser(deps);
  const repo = fixtureRepo(SITE);
  const settings = {
    gitUrl: repo.url,
    installCommand: "true",
    buildCommand: "sh build.sh",
    outputDirectory: "dist",
  };
  const project = await createProject(deps.store, deps.config, user.id, { name: "reuse", ...settings });
  const deploy = async () => (await queueDeployment(deps, user.id, { projectId: project.id })).id;

  const first = await finished(deps, await deploy());
  expect(first.d.status).toBe("READY");
  expect(first.log).toContain("built");

  // Same branch head, settings and variables: no build, the same files.
  const second = await finished(deps, await deploy());
  expect(second.d.status).toBe("READY");
  expect(second.d.commitSha).toBe(first.d.commitSha);
  expect(second.log[0]).toStartWith(
    `Reused build output of ${first.d.id}: same commit ${first.d.commitSha?.slice(0, 12)}`,
  );
  expect(second.log).not.toContain("built");
  const [a, b] = await Promise.all([
    deps.artifacts.getManifest(first.d.id),
    deps.artifacts.getManifest(second.d.id),
  ]);
  expect(b?.deploymentId).toBe(second.d.id);
  expect(b?.files).toEqual(a?.files ?? {});
  // Production moved to the reused deployment, as for any READY one.
  expect((await deps.store.projects.find(project.id))?.productionDeploymentId).toBe(second.d.id);

  // A changed variable: built again, with it.
  await setEnvVar(deps.store, deps.sealer, user.id, project.id, "GREETING", "hello");
  const third = await finished(deps, await deploy());
  expect(third.log).toContain("built");
  expect(third.log.some((l) => l.startsWith("Reused"))).toBe(false);

  // A new commit: built again.
  repo.commit({ "extra.txt": "x" });
  const fourth = await finished(deps, await deploy());
  expect(fourth.log).toContain("built");
  expect(fourth.d.commitSha).not.toBe(third.d.commitSha);

  // A changed build setting: built again.
  await deps.store.projects.update(user.id, project.id, { buildCommand: "sh build.sh && true" });
  const fifth = await finished(deps, await deploy());
  expect(fifth.log).toContain("built");

  // Another project with the same repository and settings never takes this one's output.
  const other = await createProject(deps.store, deps.config, user.id, { name: "reuse-other", ...settings });
  const elsewhere = await finished(deps, (await queueDeployment(deps, user.id, { projectId: other.id })).id);
  expect(elsewhere.log).toContain("built");
}, 120_000);

test("BUILD_REUSE=0 builds every time", async () => {
  const deps = await worker({ BUILD_REUSE: "0" });
  const { user } = await testUser(deps);
  const repo = fixtureRepo(SITE);
  const project = await createProject(deps.store, deps.config, user.id, {
    name: "no-reuse",
    gitUrl: repo.url,
    installCommand: "true",
    buildCommand: "sh build.sh",
    outputDirectory: "dist",
  });
  for (let i = 0; i < 2; i++) {
    const run = await finished(deps, (await queueDeployment(deps, user.id, { projectId: project.id })).id);
    expect(run.d.status).toBe("READY");
    expect(run.log).toContain("built");
  }
}, 120_000);

test("a failed build is never reused", async () => {
  const deps = await worker();
  const { user } = await testUser(deps);
  const failing = fixtureRepo({ "build.sh": "echo built; exit 3\n" });
  const broken = await createProject(deps.store, deps.config, user.id, {
    name: "broken",
    gitUrl: failing.url,
    installCommand: "true",
    buildCommand: "sh build.sh",
    outputDirectory: "dist",
  });
  for (let i = 0; i < 2; i++) {
    const run = await finished(deps, (await queueDeployment(deps, user.id, { projectId: broken.id })).id);
    expect(run.d.status).toBe("FAIL");
    expect(run.log).toContain("built");
  }
}, 120_000);

// One owner per state change: a live watcher sees every transition a deployment goes through, whichever part of
// the platform made it (the API, the launcher's claim, the builder's events, a cancel, a newer push, the reaper),
// and no production code changes a status except through src/deploy/state.ts.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import type { LiveEvent } from "../bus/live.ts";
import type { Deps } from "../deps.ts";
import type { Deployment } from "../model/entities.ts";
import { type Running, startRoles } from "../roles.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { fixtureRepo } from "../testing/repos.ts";
import { endInterrupted } from "../worker/interrupted.ts";
import { cancelDeployment, queueDeployment } from "./deploy.ts";
import { createProject } from "./projects.ts";

let deps: Deps;
let roles: Running;
let userId: string;

beforeAll(async () => {
  deps = await testDeps({ PORT: "0", PROXY_PORT: "0", MINIVERCEL_ROLE: "api,worker" });
  roles = await startRoles(deps);
  userId = (await testUser(deps)).user.id;
});
afterAll(async () => {
  await roles.stop(1000);
  await deps.close();
}, 60_000);

/** Every status a watcher of `id` is told, in order. */
function watch(id: string): { statuses: string[]; reasons: (string | null)[]; stop(): void } {
  const statuses: string[] = [];
  const reasons: (string | null)[] = [];
  const stop = deps.live.subscribe(id, (event: LiveEvent) => {
    if (event.kind !== "status") return;
    statuses.push(event.deployment.status);
    reasons.push(event.deployment.statusReason);
  });
  return { statuses, reasons, stop };
}

async function until(id: string, done: (d: Deployment) => boolean, ms = 60_000): Promise<Deployment> {
  const end = Date.now() + ms;
  for (;;) {
    const d = await deps.store.deployments.find(id);
    if (d && done(d)) return d;
    if (Date.now() > end) throw new Error(`deployment ${id} stuck in ${d?.status}`);
    await Bun.sleep(25);
  }
}

describe("a live watcher sees every transition", () => {
  test("a build: claimed, building, READY", async () => {
    const repo = fixtureRepo({ "index.html": "<h1>hi</h1>" });
    const project = await createProject(deps.store, deps.config, userId, {
      name: "watched",
      gitUrl: repo.url,
    });
    // Subscribed before anything can happen: queued here, the launcher is woken only by its poll.
    const id = crypto.randomUUID();
    const seen = watch(id);
    await deps.store.deployments.create({
      id,
      projectId: project.id,
      userId,
      status: "QUEUED",
      target: "production",
      branch: "main",
      commitSha: null,
    });
    await until(id, (d) => d.status === "READY");
    await Bun.sleep(50);
    expect(seen.statuses).toEqual(["IN_PROGRESS", "READY"]);
    seen.stop();
  }, 60_000);

  test("a cancel, and a waiting deployment superseded by a newer push", async () => {
    const repo = fixtureRepo({ "index.html": "<h1>hi</h1>" });
    // A build that waits, so that the deployments queued after it wait too (one build per project at a time).
    repo.commit({
      "package.json": JSON.stringify({
        scripts: { build: "sleep 3 && mkdir -p dist && cp index.html dist/" },
      }),
    });
    const project = await createProject(deps.store, deps.config, userId, {
      name: "cancels",
      gitUrl: repo.url,
    });
    const first = await queueDeployment(deps, userId, { projectId: project.id });
    await until(first.id, (d) => d.status === "IN_PROGRESS");
    const second = await queueDeployment(deps, userId, { projectId: project.id });
    const superseded = watch(second.id);
    const third = await queueDeployment(deps, userId, { projectId: project.id });
    expect(superseded.statuses).toEqual(["CANCELED"]);
    expect(superseded.reasons[0]).toBe(`superseded by newer deployment ${third.id}`);
    const canceled = watch(third.id);
    await cancelDeployment(deps, userId, third.id);
    expect(canceled.statuses).toEqual(["CANCELED"]);
    const building = watch(first.id);
    await cancelDeployment(deps, userId, first.id);
    expect(building.statuses).toEqual(["CANCELED"]);
    // The builder's own CANCELED arrives later and changes nothing: told once.
    await Bun.sleep(1500);
    expect(building.statuses).toEqual(["CANCELED"]);
    for (const w of [superseded, canceled, building]) w.stop();
  }, 60_000);

  test("a lost build ended by the reaper, and the rebuild it queues", async () => {
    const project = await createProject(deps.store, deps.config, userId, {
      name: "reaped",
      gitUrl: fixtureRepo({ "index.html": "x" }).url,
    });
    // As a worker that then vanished left it: claimed, IN_PROGRESS, no heartbeat since.
    const d = await deps.store.deployments.create({
      projectId: project.id,
      userId,
      status: "QUEUED",
      target: "production",
      branch: "main",
      commitSha: null,
    });
    const claimed = await deps.store.deployments.claimNext("worker-gone", new Date().toISOString());
    expect(claimed?.deployment.id).toBe(d.id);
    const seen = watch(d.id);
    const { ended, rebuild } = await endInterrupted(
      deps,
      claimed?.deployment ?? d,
      "lost contact with the builder",
    );
    expect(ended?.status).toBe("FAIL");
    expect(seen.statuses).toEqual(["FAIL"]);
    expect(rebuild?.status).toBe("QUEUED");
    seen.stop();
  });
});

test("no production code changes a deployment's status except through src/deploy/state.ts", () => {
  const root = join(import.meta.dir, "../..");
  const offenders: string[] = [];
  const visit = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) visit(path);
      else if (/\.tsx?$/.test(name) && !/\.test\.tsx?$|\.contract\.ts$/.test(name)) {
        const rel = relative(root, path);
        // The store itself, and test support that puts deployments in a state without running a build.
        if (rel.startsWith("src/store/") || rel.startsWith("src/testing/") || rel === "src/deploy/state.ts")
          continue;
        if (/deployments\.(transition|markReady|supersede)\(/.test(readFileSync(path, "utf8")))
          offenders.push(rel);
      }
    }
  };
  for (const dir of ["src", "builder"]) visit(join(root, dir));
  expect(offenders).toEqual([]);
});

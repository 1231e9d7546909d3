// A worker lost with its build (kill -9) on a shared Postgres: another worker's heartbeat reaper fails the build
// naming its rebuild, which goes READY; with two reapers racing there is still one rebuild; a build already
// rebuilt twice in a row, one that ran out its time and one that was canceled are not rebuilt.

import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cancelDeployment } from "../deploy/deploy.ts";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import type { Deployment } from "../model/entities.ts";
import { tempDir, testDeps, testUser } from "../testing/deps.ts";
import { call, killLeftovers, lifecycleEnv, startServe, tokenFor } from "../testing/lifecycle.ts";
import { parseExposition, sampleValue } from "../testing/metrics.ts";
import { type TestDatabase, testDatabase } from "../testing/postgres.ts";
import { fixtureRepo } from "../testing/repos.ts";
import { startEventWorkers } from "./apply-events.ts";
import { endInterrupted, MAX_AUTOMATIC_REBUILDS } from "./interrupted.ts";
import { startLauncher } from "./launcher.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await testDatabase();
}, 120_000);
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  killLeftovers();
  for (const fn of cleanup.splice(0).reverse()) await fn();
});
afterAll(() => db.drop());

const WORKER_ENV = { BUILD_HEARTBEAT_TIMEOUT_SECONDS: "5", BUILD_SANDBOX: "none" };

/** A worker in this process, as `serve --role=worker` runs one: its own connection, bus, event workers, runner. */
async function worker(): Promise<Deps> {
  const deps = await testDeps({ DATABASE_URL: db.url, ...WORKER_ENV });
  expect(deps.exclusive).toBe(false);
  const events = await startEventWorkers(deps);
  const launcher = startLauncher({ ...deps, pollMs: 100 });
  cleanup.push(async () => {
    await launcher.stop();
    await events.stop();
    await deps.close();
  });
  return deps;
}

/** Polls until `done` holds for the deployment; returns it as it last was. */
async function until(deps: Deps, id: string, done: (d: Deployment) => boolean, ms = 40_000) {
  const end = Date.now() + ms;
  for (;;) {
    const d = await deps.store.deployments.find(id);
    if (!d) throw new Error(`deployment ${id} vanished`);
    if (done(d) || Date.now() > end) return d;
    await Bun.sleep(100);
  }
}
const terminal = (d: Deployment) => ["READY", "FAIL", "CANCELED"].includes(d.status);
const REBUILT = /^lost contact with the builder \(no sign of life for 5 s\); rebuilding it as (\S+)$/;

test("kill -9 of the worker running a build: another worker fails it naming its rebuild, which goes READY", async () => {
  const gate = join(tempDir(), "gate");
  writeFileSync(gate, "");
  const env = lifecycleEnv({ DATABASE_URL: db.url, BUILD_SANDBOX: "none", MINIVERCEL_ROLE: "api,worker" });
  const token = await tokenFor(env);
  const lost = await startServe(env);
  // Slow only while the gate file exists: the rebuild on another worker goes straight through.
  const repo = fixtureRepo({
    "build.sh": `echo building; while [ -e '${gate}' ]; do sleep 0.1; done\nmkdir -p dist && echo '<p>ok</p>' > dist/index.html\n`,
  });
  const project = await call(lost.api, token, "POST", "/api/projects", {
    name: "lost",
    gitUrl: repo.url,
    installCommand: "true",
    buildCommand: "sh build.sh",
    outputDirectory: "dist",
  });
  const first = await call(lost.api, token, "POST", "/api/deploy", { projectId: project.id });
  const started = Date.now() + 60_000;
  for (;;) {
    const page = await call(lost.api, token, "GET", `/api/deployments/${first.id}/logs`);
    if (JSON.stringify(page.items).includes("building")) break;
    if (Date.now() > started) throw new Error(`the build never started:\n${lost.output()}`);
    await Bun.sleep(100);
  }
  lost.proc.kill("SIGKILL");
  await lost.proc.exited;
  rmSync(gate);

  // Two workers whose reapers race for it.
  const b = await worker();
  const c = await worker();
  const ended = await until(b, String(first.id), terminal);
  expect(ended.status).toBe("FAIL");
  const rebuildId = REBUILT.exec(ended.statusReason ?? "")?.[1];
  if (!rebuildId) throw new Error(`unexpected reason: ${ended.statusReason}`);
  const rebuild = await until(b, rebuildId, terminal);
  expect({ status: rebuild.status, reason: rebuild.statusReason }).toEqual({ status: "READY", reason: null });
  expect({ branch: rebuild.branch, target: rebuild.target, commitSha: rebuild.commitSha }).toEqual({
    branch: ended.branch,
    target: ended.target,
    commitSha: ended.commitSha,
  });
  expect(rebuild.commitSha).toMatch(/^[0-9a-f]{40}$/);
  const rows = await b.store.deployments.list(ended.userId, ended.projectId, { limit: 10, cursor: null });
  expect(rows.items.map((d) => d.id).sort()).toEqual([ended.id, rebuildId].sort());
  // Counted once, by the worker whose reaper ended it.
  const fails = async (deps: Deps) =>
    sampleValue(parseExposition(await deps.metrics.registry.expose()), "minivercel_builds_total", {
      outcome: "FAIL",
    }) ?? 0;
  expect((await fails(b)) + (await fails(c))).toBe(1);
}, 120_000);

test("racing reapers queue one rebuild; a third loss in a row, a timed-out and a canceled build are not rebuilt", async () => {
  const setup = await testDeps({ DATABASE_URL: db.url, ...WORKER_ENV });
  cleanup.push(() => setup.close());
  const { store } = setup;
  const { user } = await testUser(setup);
  const repo = fixtureRepo({ "index.html": "<p>static</p>" });
  const project = async (name: string) =>
    createProject(store, setup.config, user.id, { name, gitUrl: repo.url });
  /** Queues a deployment and claims it for a worker that is gone: started `agoMs` ago, never heard of since. */
  const lostBuild = async (projectId: string, agoMs = 30_000) => {
    const d = await store.deployments.create({
      projectId,
      userId: user.id,
      status: "QUEUED",
      target: "production",
      branch: "main",
      commitSha: null,
    });
    const claimed = await store.deployments.claimNext(
      "worker-gone",
      new Date(Date.now() - agoMs).toISOString(),
    );
    expect(claimed?.deployment.id).toBe(d.id);
    return (await store.deployments.find(d.id)) ?? d;
  };
  const rows = async (projectId: string) =>
    (await store.deployments.list(user.id, projectId, { limit: 20, cursor: null })).items;

  const plain = await lostBuild((await project("plain")).id);
  // Lost, rebuilt, lost, rebuilt, and now lost again.
  const looping = await project("looping");
  let last = await lostBuild(looping.id);
  for (let i = 0; i < MAX_AUTOMATIC_REBUILDS; i++) {
    const { rebuild } = await endInterrupted(setup, last, "lost contact with the builder");
    if (!rebuild) throw new Error("not rebuilt");
    const claimed = await store.deployments.claimNext(
      "worker-gone",
      new Date(Date.now() - 30_000).toISOString(),
    );
    expect(claimed?.deployment.id).toBe(rebuild.id);
    last = claimed?.deployment ?? rebuild;
  }
  // Started 10 minutes ago with a 60 s limit, alive until 20 s ago: its builder stopped it at the limit.
  const slow = await project("slow");
  await store.projects.update(user.id, slow.id, { buildTimeoutSeconds: 60 });
  const timedOut = await lostBuild(slow.id, 600_000);
  await store.deployments.heartbeat(timedOut.id, new Date(Date.now() - 20_000).toISOString());
  const canceled = await lostBuild((await project("canceled")).id);
  await cancelDeployment(setup, user.id, canceled.id);

  await worker();
  await worker();
  const ended = await until(setup, plain.id, terminal);
  const rebuildId = REBUILT.exec(ended.statusReason ?? "")?.[1] ?? "";
  expect((await until(setup, rebuildId, terminal)).status).toBe("READY");
  expect((await rows(plain.projectId)).map((d) => d.id).sort()).toEqual([plain.id, rebuildId].sort());

  const capped = await until(setup, last.id, terminal);
  expect(capped.statusReason).toBe(
    `lost contact with the builder (no sign of life for 5 s); not rebuilt: it was already rebuilt automatically ${MAX_AUTOMATIC_REBUILDS} times in a row; deploy again to retry`,
  );
  expect(await rows(looping.id)).toHaveLength(MAX_AUTOMATIC_REBUILDS + 1);
  const timeout = await until(setup, timedOut.id, terminal);
  expect(timeout.statusReason).toBe(
    "lost contact with the builder (no sign of life for 5 s); not rebuilt: it had used up its build time limit (60 s)",
  );
  expect(await rows(slow.id)).toHaveLength(1);
  // Give the reapers another round: the canceled build stays as the user left it, with nothing queued for it.
  await Bun.sleep(5_500);
  expect((await rows(canceled.projectId)).map((d) => [d.status, d.statusReason])).toEqual([
    ["CANCELED", "canceled by user"],
  ]);
}, 120_000);

test("a worker vouches for the builds it runs: builder heartbeats held up on the bus do not get a build reaped", async () => {
  const gate = join(tempDir(), "gate");
  writeFileSync(gate, "");
  // Worker A runs the build but applies no events: the builder's heartbeats go nowhere, as during a broker outage.
  const a = await testDeps({ DATABASE_URL: db.url, ...WORKER_ENV });
  const launcher = startLauncher({ ...a, pollMs: 100 });
  cleanup.push(async () => {
    await launcher.stop();
    await a.close();
  });
  const { user } = await testUser(a);
  const repo = fixtureRepo({
    "build.sh": `echo building; while [ -e '${gate}' ]; do sleep 0.1; done\nmkdir -p dist && echo ok > dist/index.html\n`,
  });
  const project = await createProject(a.store, a.config, user.id, {
    name: "vouched",
    gitUrl: repo.url,
    installCommand: "true",
    buildCommand: "sh build.sh",
    outputDirectory: "dist",
  });
  const d = await a.store.deployments.create({
    projectId: project.id,
    userId: user.id,
    status: "QUEUED",
    target: "production",
    branch: "main",
    commitSha: null,
  });
  launcher.wake();
  expect((await until(a, d.id, (x) => x.status === "IN_PROGRESS")).status).toBe("IN_PROGRESS");
  // Worker B's reaper (5 s timeout, a pass every 5 s) gets two chances to take it for lost.
  await worker();
  const after = await until(a, d.id, terminal, 12_000);
  expect({ status: after.status, reason: after.statusReason }).toEqual({
    status: "IN_PROGRESS",
    reason: null,
  });
  expect(Date.now() - Date.parse(after.heartbeatAt ?? "1970-01-01")).toBeLessThan(5_000);
  // The builder ends; its READY waits on a bus nobody reads here (as after a broker restart, before the workers'
  // group has rejoined): A still vouches for it, so B's reaper does not fail a build that succeeded.
  rmSync(gate);
  const end = Date.now() + 30_000;
  while (launcher.active().includes(d.id) && Date.now() < end) await Bun.sleep(100);
  expect(launcher.active()).not.toContain(d.id);
  const finished = await until(a, d.id, terminal, 12_000);
  expect({ status: finished.status, reason: finished.statusReason }).toEqual({
    status: "IN_PROGRESS",
    reason: null,
  });
}, 90_000);

// Applying build events: validation at the boundary, idempotence, forward-only status, READY only with files.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { packEvents, unpackEvents } from "../../schema/events.ts";
import type { LiveEvent } from "../bus/live.ts";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import type { LogLine } from "../store/logs.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { storedDeployment } from "../testing/store-deployment.ts";
import {
  type ApplyDeps,
  applyBuildEvent,
  applyBuildEvents,
  type Rejection,
  startEventWorkers,
} from "./apply-events.ts";

let deps: Deps;
let userId: string;
beforeAll(async () => {
  deps = await testDeps();
  userId = (await testUser(deps)).user.id;
});
afterAll(() => deps.close());

async function building() {
  const project = await createProject(deps.store, deps.config, userId, {
    name: "x",
    subDomain: `x-${crypto.randomUUID().slice(0, 8)}`,
  });
  const d = await storedDeployment(deps.store, { projectId: project.id, userId, status: "IN_PROGRESS" });
  return d;
}

const at = () => new Date().toISOString();

async function apply(value: unknown): Promise<Rejection[]> {
  const rejected: Rejection[] = [];
  await applyBuildEvent(deps as ApplyDeps, value, (r) => rejected.push(r));
  return rejected;
}

test("log lines are stored once, in order, and reach live watchers", async () => {
  const d = await building();
  const seen: number[] = [];
  const off = deps.live.subscribe(d.id, (e) => {
    if (e.kind === "log") seen.push(e.line.seq);
  });
  for (const seq of [1, 2, 2, 3, 1]) {
    expect(
      await apply({ type: "log", deploymentId: d.id, seq, stream: "stdout", text: `line ${seq}`, at: at() }),
    ).toEqual([]);
  }
  off();
  expect((await deps.logs.read(d.id, 0, 10)).map((l) => l.text)).toEqual(["line 1", "line 2", "line 3"]);
  expect(seen).toContain(3);
});

test("invalid and oversized events are rejected with a reason and change nothing", async () => {
  const d = await building();
  const bad = [
    null,
    "text",
    { type: "log", deploymentId: d.id, seq: 0, stream: "stdout", text: "x", at: at() },
    { type: "log", deploymentId: "../../etc", seq: 1, stream: "stdout", text: "x", at: at() },
    { type: "log", deploymentId: d.id, seq: 1, stream: "stdout", text: "x".repeat(10_000), at: at() },
    { type: "status", deploymentId: d.id, status: "QUEUED", at: at() },
    { type: "status", deploymentId: d.id, status: "READY", at: at(), extra: 1 },
    { type: "nope", deploymentId: d.id },
  ];
  for (const value of bad) expect((await apply(value)).length).toBe(1);
  expect(await deps.logs.read(d.id, 0, 10)).toEqual([]);
  expect((await deps.store.deployments.find(d.id))?.status).toBe("IN_PROGRESS");
});

test("READY without stored files fails the deployment instead", async () => {
  const d = await building();
  await apply({ type: "status", deploymentId: d.id, status: "READY", at: at() });
  const after = await deps.store.deployments.find(d.id);
  expect(after?.status).toBe("FAIL");
  expect(after?.statusReason).toContain("files were not stored");
});

test("READY with a manifest moves production; a late FAIL or a replay changes nothing", async () => {
  const d = await building();
  const body = new TextEncoder().encode("<h1>ok</h1>");
  const hash = new Bun.CryptoHasher("sha256").update(body).digest("hex");
  await deps.artifacts.putBlob(hash, body);
  await deps.artifacts.putManifest({
    version: 1,
    deploymentId: d.id,
    createdAt: at(),
    files: { "/index.html": { hash, size: body.length, type: "text/html;charset=utf-8" } },
  });
  const sha = "a".repeat(40);
  const ready = {
    type: "status",
    deploymentId: d.id,
    status: "READY",
    commitSha: sha,
    commitMessage: "Add <the> page",
    commitAuthor: "Ada",
    at: at(),
  };
  await apply(ready);
  await apply({ type: "status", deploymentId: d.id, status: "FAIL", reason: "late", at: at() });
  await apply(ready);
  const after = await deps.store.deployments.find(d.id);
  expect(after?.status).toBe("READY");
  expect(after?.commitSha).toBe(sha);
  expect([after?.commitMessage, after?.commitAuthor]).toEqual(["Add <the> page", "Ada"]);
  expect((await deps.store.projects.find(d.projectId))?.productionDeploymentId).toBe(d.id);
});

/** Stores the files of a deployment, so its READY holds. */
async function storeFiles(deploymentId: string) {
  const body = new TextEncoder().encode(`<h1>${deploymentId}</h1>`);
  const hash = new Bun.CryptoHasher("sha256").update(body).digest("hex");
  await deps.artifacts.putBlob(hash, body);
  await deps.artifacts.putManifest({
    version: 1,
    deploymentId,
    createdAt: at(),
    files: { "/index.html": { hash, size: body.length, type: "text/html;charset=utf-8" } },
  });
}

const log = (deploymentId: string, seq: number, stream = "stdout") => ({
  type: "log",
  deploymentId,
  seq,
  stream,
  text: `line ${seq}`,
  at: at(),
});

/** The real log store, with every append's size noted on the way through. */
function countingDeps(appends: number[]): ApplyDeps {
  const logs = deps.logs;
  return {
    ...deps,
    logs: {
      ...logs,
      append: (lines: LogLine[]) => {
        appends.push(lines.length);
        return logs.append(lines);
      },
    },
  };
}

async function applyBatch(values: unknown[], applyDeps: ApplyDeps = deps): Promise<Rejection[]> {
  const rejected: Rejection[] = [];
  await applyBuildEvents(applyDeps, values, (r) => rejected.push(r));
  return rejected;
}

test("a batch: its lines in one append, then lines and status changes in the order sent, live too", async () => {
  const d = await building();
  await storeFiles(d.id);
  const live: string[] = [];
  const storedWhenReady: number[] = [];
  const off = deps.live.subscribe(d.id, (e: LiveEvent) => {
    if (e.kind === "log") live.push(`log ${e.line.seq}`);
    if (e.kind === "status") {
      live.push(e.deployment.status);
      void deps.logs.read(d.id, 0, 100).then((ls) => storedWhenReady.push(ls.length));
    }
  });
  const appends: number[] = [];
  const batch = [
    { type: "status", deploymentId: d.id, status: "IN_PROGRESS", at: at() },
    log(d.id, 1),
    log(d.id, 2, "stderr"),
    { type: "heartbeat", deploymentId: d.id, at: at() },
    log(d.id, 3),
    { type: "status", deploymentId: d.id, status: "READY", at: at() },
    log(d.id, 4, "system"),
    { type: "status", deploymentId: d.id, status: "FAIL", reason: "late", at: at() },
  ];
  expect(await applyBatch(batch, countingDeps(appends))).toEqual([]);
  await Bun.sleep(10);
  off();
  expect(appends).toEqual([4]);
  // IN_PROGRESS was already the status (no change, nothing published); the late FAIL moves nothing back.
  expect(live).toEqual(["log 1", "log 2", "log 3", "READY", "log 4"]);
  expect(storedWhenReady).toEqual([4]);
  const stored = await deps.logs.read(d.id, 0, 100);
  expect(stored.map((l) => [l.seq, l.stream, l.text])).toEqual([
    [1, "stdout", "line 1"],
    [2, "stderr", "line 2"],
    [3, "stdout", "line 3"],
    [4, "system", "line 4"],
  ]);
  const after = await deps.store.deployments.find(d.id);
  expect(after?.status).toBe("READY");
  expect((await deps.store.projects.find(d.projectId))?.productionDeploymentId).toBe(d.id);
});

test("a re-delivered or overlapping batch stores no line twice and moves no status", async () => {
  const d = await building();
  const batch = [log(d.id, 1), log(d.id, 2), log(d.id, 2), log(d.id, 3)];
  await applyBatch(batch);
  await applyBatch(batch);
  await applyBatch([
    log(d.id, 3),
    log(d.id, 4),
    { type: "status", deploymentId: d.id, status: "FAIL", at: at() },
  ]);
  await applyBatch([log(d.id, 4), { type: "status", deploymentId: d.id, status: "CANCELED", at: at() }]);
  expect((await deps.logs.read(d.id, 0, 100)).map((l) => l.seq)).toEqual([1, 2, 3, 4]);
  expect((await deps.store.deployments.find(d.id))?.status).toBe("FAIL");
});

test("a batch with invalid events: each is rejected, the rest is applied", async () => {
  const d = await building();
  const appends: number[] = [];
  const rejected = await applyBatch(
    [
      log(d.id, 1),
      { type: "log", deploymentId: d.id, seq: 0, stream: "stdout", text: "x", at: at() },
      "text",
      log(d.id, 2),
      { type: "status", deploymentId: d.id, status: "QUEUED", at: at() },
    ],
    countingDeps(appends),
  );
  expect(rejected.map((r) => r.value)).toEqual([
    { type: "log", deploymentId: d.id, seq: 0, stream: "stdout", text: "x", at: expect.any(String) },
    "text",
    { type: "status", deploymentId: d.id, status: "QUEUED", at: expect.any(String) },
  ]);
  expect(appends).toEqual([2]);
  expect((await deps.logs.read(d.id, 0, 100)).map((l) => l.seq)).toEqual([1, 2]);
  expect((await deps.store.deployments.find(d.id))?.status).toBe("IN_PROGRESS");
});

test("the worker over the bus: a chatty build's lines go to the log store in batches, none lost", async () => {
  const d = await building();
  const appends: number[] = [];
  const sub = await startEventWorkers(countingDeps(appends));
  const total = 300;
  await Promise.all(
    Array.from({ length: total }, (_, i) => deps.bus.publish("build-events", d.id, log(d.id, i + 1))),
  );
  const deadline = Date.now() + 10_000;
  while ((await deps.logs.read(d.id, 0, 1000)).length < total && Date.now() < deadline) await Bun.sleep(10);
  await sub.stop();
  expect((await deps.logs.read(d.id, 0, 1000)).map((l) => l.seq)).toEqual(
    Array.from({ length: total }, (_, i) => i + 1),
  );
  expect(appends.reduce((a, b) => a + b, 0)).toBe(total);
  expect(appends.length).toBeLessThan(total);
  expect(Math.max(...appends)).toBeLessThanOrEqual(5000);
});

test("envelopes: a build's events packed thousands to a bus message arrive whole, in order, checked one by one", async () => {
  const d = await building();
  const rejected: Rejection[] = [];
  const sub = await deps.bus.consumeBatches("build-events", `t-${d.id}`, (values) =>
    applyBuildEvents(deps, values, (r) => rejected.push(r)),
  );
  const live: number[] = [];
  const off = deps.live.subscribe(d.id, (e: LiveEvent) => {
    if (e.kind === "log") live.push(e.line.seq);
  });
  const total = 20_000;
  const events: unknown[] = Array.from({ length: total }, (_, i) => log(d.id, i + 1));
  // A forged line inside an envelope is refused like a loose one; the envelope's others still apply.
  events.splice(5000, 0, { type: "log", deploymentId: d.id, seq: -1, stream: "stdout", text: "x", at: at() });
  const messages = packEvents(events);
  expect(messages.length).toBeGreaterThan(1);
  expect(messages.length).toBeLessThan(total / 100);
  await deps.bus.publishAll("build-events", d.id, messages);
  const deadline = Date.now() + 20_000;
  while (live.length < total && Date.now() < deadline) await Bun.sleep(20);
  await sub.stop();
  off();
  const stored = (await deps.logs.read(d.id, 0, total + 10)).map((l) => l.seq);
  expect(stored).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  expect(live).toEqual(stored);
  expect(rejected.map((r) => (r.value as { seq: number }).seq)).toEqual([-1]);
});

test("packEvents: envelopes up to a size; a lone event travels as itself; unpackEvents restores the order", () => {
  const id = crypto.randomUUID();
  const lines = Array.from({ length: 10 }, (_, i) => ({ ...log(id, i + 1), text: "y".repeat(1000) }));
  const packed = packEvents(lines, 8 * 1024);
  expect(packed.length).toBeGreaterThan(1);
  for (const message of packed) expect(JSON.stringify(message).length).toBeLessThanOrEqual(8 * 1024);
  expect(unpackEvents(packed)).toEqual(lines);
  expect(packEvents([lines[0]])).toEqual([lines[0]]);
  expect(packEvents([])).toEqual([]);
  // Only a well-formed envelope is opened: anything else passes on to be checked (and refused) as an event.
  expect(unpackEvents([{ type: "batch", events: "nope" }, null])).toEqual([
    { type: "batch", events: "nope" },
    null,
  ]);
});

// Applying build events: validation at the boundary, idempotence, forward-only status, READY only with files.

import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Deps } from "../deps.ts";
import { testDeps, testUser } from "../testing.ts";
import { type ApplyDeps, applyBuildEvent, type Rejection } from "./apply-events.ts";
import { createProject } from "./projects.ts";

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
  const d = await deps.store.deployments.create({
    projectId: project.id,
    userId,
    status: "QUEUED",
    target: "production",
    branch: "main",
    commitSha: null,
  });
  await deps.store.deployments.transition(d.id, "IN_PROGRESS", null);
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
  const ready = { type: "status", deploymentId: d.id, status: "READY", commitSha: sha, at: at() };
  await apply(ready);
  await apply({ type: "status", deploymentId: d.id, status: "FAIL", reason: "late", at: at() });
  await apply(ready);
  const after = await deps.store.deployments.find(d.id);
  expect(after?.status).toBe("READY");
  expect(after?.commitSha).toBe(sha);
  expect((await deps.store.projects.find(d.projectId))?.productionDeploymentId).toBe(d.id);
});

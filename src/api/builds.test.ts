// The remote builders' channel: a per-deployment token, forged events refused and recorded, and a real
// builder process delivering a whole deployment over HTTP with no platform credential.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import { type Running, startRoles } from "../roles.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { httpBuildJob, runBuilder } from "../testing/remote-builder.ts";
import { fixtureRepo } from "../testing/repos.ts";
import { storedDeployment } from "../testing/store-deployment.ts";

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
  });
  roles = await startRoles(deps);
  base = roles.urls.api ?? "";
  userId = (await testUser(deps)).user.id;
});
afterAll(async () => {
  await roles.stop();
  await deps.close();
});

async function building(gitUrl = "https://example.com/x.git") {
  const project = await createProject(deps.store, deps.config, userId, { name: "b", gitUrl });
  // Claimed as a remote runner would, so the local launcher leaves it alone; with a sign of life,
  // or its reaper (every 5 s) may take it for lost before the builder's first heartbeat.
  return storedDeployment(deps.store, {
    projectId: project.id,
    userId,
    status: "IN_PROGRESS",
    heartbeat: true,
  });
}

const call = (path: string, token: string | null, init: RequestInit = {}) =>
  fetch(`${base}${path}`, {
    ...init,
    headers: { ...(token && { authorization: `Bearer ${token}` }), ...init.headers },
  });
const json = (body: unknown): RequestInit => ({
  method: "POST",
  body: JSON.stringify(body),
  headers: { "content-type": "application/json" },
});
const line = (deploymentId: string, seq: number, text: string) => ({
  type: "log",
  deploymentId,
  seq,
  stream: "stdout",
  text,
  at: new Date().toISOString(),
});

test("no token, a made-up token, or another deployment's token is refused; misuse is recorded", async () => {
  const mine = await building();
  const other = await building();
  const token = deps.buildTokens.issue(mine.id);
  expect((await call(`/api/builds/${mine.id}/events`, null, json([]))).status).toBe(401);
  expect(
    (await call(`/api/builds/${mine.id}/events`, `bt_${mine.id}.${"A".repeat(43)}`, json([]))).status,
  ).toBe(401);
  const crossed = await call(`/api/builds/${other.id}/events`, token, json([line(other.id, 1, "forged")]));
  expect(crossed.status).toBe(403);
  expect(await deps.logs.read(other.id, 0, 10)).toEqual([]);
  const recorded = await deps.store.audit.recentRejected(10);
  expect(
    recorded.some((r) => r.claimedDeploymentId === other.id && r.reason.includes("another deployment")),
  ).toBe(true);
});

test("events naming another deployment inside a valid batch are rejected and recorded; the rest applies", async () => {
  const mine = await building();
  const victim = await building();
  const token = deps.buildTokens.issue(mine.id);
  const res = await call(
    `/api/builds/${mine.id}/events`,
    token,
    json([
      line(mine.id, 1, "ok"),
      line(victim.id, 1, "forged"),
      { type: "status", deploymentId: victim.id, status: "READY", at: new Date().toISOString() },
      "junk",
    ]),
  );
  expect(await res.json()).toEqual({ accepted: 1, rejected: 3 });
  await Bun.sleep(100);
  expect((await deps.logs.read(mine.id, 0, 10)).map((l) => l.text)).toEqual(["ok"]);
  expect(await deps.logs.read(victim.id, 0, 10)).toEqual([]);
  expect((await deps.store.deployments.find(victim.id))?.status).toBe("IN_PROGRESS");
  const reasons = (await deps.store.audit.recentRejected(20)).filter(
    (r) => r.claimedDeploymentId === victim.id,
  );
  expect(reasons.length).toBe(2);
});

test("files: hash verified on receipt, manifest only for its own deployment, nothing after the build ended", async () => {
  const mine = await building();
  const token = deps.buildTokens.issue(mine.id);
  const body = new TextEncoder().encode("<h1>remote</h1>");
  const hash = new Bun.CryptoHasher("sha256").update(body).digest("hex");
  expect(
    (await call(`/api/builds/${mine.id}/blobs/${"0".repeat(64)}`, token, { method: "PUT", body })).status,
  ).toBe(400);
  expect(
    await (await call(`/api/builds/${mine.id}/missing`, token, json({ hashes: [hash] }))).json(),
  ).toEqual({ missing: [hash] });
  expect((await call(`/api/builds/${mine.id}/blobs/${hash}`, token, { method: "PUT", body })).status).toBe(
    204,
  );
  expect(
    await (await call(`/api/builds/${mine.id}/missing`, token, json({ hashes: [hash] }))).json(),
  ).toEqual({ missing: [] });
  const manifest = (deploymentId: string) => ({
    version: 1,
    deploymentId,
    createdAt: new Date().toISOString(),
    files: { "/index.html": { hash, size: body.length, type: "text/html;charset=utf-8" } },
  });
  const other = await building();
  expect(
    (await call(`/api/builds/${mine.id}/manifest`, token, { ...json(manifest(other.id)), method: "PUT" }))
      .status,
  ).toBe(400);
  expect(
    (await call(`/api/builds/${mine.id}/manifest`, token, { ...json(manifest(mine.id)), method: "PUT" }))
      .status,
  ).toBe(204);
  await call(
    `/api/builds/${mine.id}/events`,
    token,
    json([{ type: "status", deploymentId: mine.id, status: "READY", at: new Date().toISOString() }]),
  );
  for (let i = 0; i < 50 && (await deps.store.deployments.find(mine.id))?.status !== "READY"; i++)
    await Bun.sleep(20);
  expect((await deps.store.deployments.find(mine.id))?.status).toBe("READY");
  expect((await call(`/api/builds/${mine.id}/events`, token, json([line(mine.id, 9, "late")]))).status).toBe(
    409,
  );
});

test("a real builder process in http mode (as in an ECS task) delivers a deployment with only its token", async () => {
  const repo = fixtureRepo({ "index.html": "<h1>built remotely</h1>", "app.js": "console.log(1)" });
  const d = await building(repo.url);
  const job = httpBuildJob(deps, d.id, base, {
    gitUrl: repo.url,
    env: { SITE_NAME: "remote" },
    sandbox: "bwrap",
  });
  expect(await runBuilder(job)).toEqual({ code: 0, stdout: "" });
  for (let i = 0; i < 100 && (await deps.store.deployments.find(d.id))?.status !== "READY"; i++)
    await Bun.sleep(50);
  expect((await deps.store.deployments.find(d.id))?.status).toBe("READY");
  const manifest = await deps.artifacts.getManifest(d.id);
  expect(Object.keys(manifest?.files ?? {}).sort()).toEqual(["/app.js", "/index.html"]);
  expect((await deps.logs.read(d.id, 0, 100)).map((l) => l.text).join("\n")).toContain("Deployed 2 files");
}, 60_000);

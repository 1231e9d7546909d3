// A build a restart interrupted: FAIL with the reason, and the same commit (or uploaded source) queued again.

import { afterEach, beforeEach, expect, test } from "bun:test";
import { sourceManifestId } from "../deploy/prebuilt.ts";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import type { Deployment } from "../store/store.ts";
import { testDeps, testUser } from "../testing.ts";
import { endInterrupted } from "./interrupted.ts";

let deps: Deps;
let userId: string;
// A store per test: a rebuild left QUEUED by one must not be the next one's claim.
beforeEach(async () => {
  deps = await testDeps();
  userId = (await testUser(deps)).user.id;
});
afterEach(() => deps.close());

const WHY = "the platform restarted during this build";
const SHA = "a".repeat(40);

/** A project with one deployment a launcher claimed (IN_PROGRESS, claimed_by set), on `branch`. */
async function claimedBuild(branch = "main"): Promise<Deployment> {
  const project = await createProject(deps.store, deps.config, userId, {
    name: `p-${crypto.randomUUID().slice(0, 8)}`,
    gitUrl: "https://example.com/site.git",
  });
  const queued = await deps.store.deployments.create({
    projectId: project.id,
    userId,
    status: "QUEUED",
    target: branch === "main" ? "production" : "preview",
    branch,
    commitSha: null,
  });
  const claimed = await deps.store.deployments.claimNext("worker-test", new Date().toISOString());
  expect(claimed?.deployment.id).toBe(queued.id);
  await deps.store.deployments.recordCommit(queued.id, SHA);
  const found = await deps.store.deployments.find(queued.id);
  if (!found) throw new Error("deployment vanished");
  return found;
}

test("a claimed build ends FAIL naming its rebuild, which is QUEUED with the same branch, target and commit", async () => {
  const d = await claimedBuild("feature/x");
  const { ended, rebuild } = await endInterrupted(deps, d, WHY);
  expect(ended?.status).toBe("FAIL");
  expect(ended?.statusReason).toBe(`${WHY}; rebuilding it as ${rebuild?.id}`);
  expect(rebuild).toMatchObject({
    status: "QUEUED",
    projectId: d.projectId,
    branch: "feature/x",
    target: "preview",
    commitSha: SHA,
    claimedBy: null,
  });
  // And a launcher can take it.
  const next = await deps.store.deployments.claimNext("worker-test", new Date().toISOString());
  expect(next?.deployment.id).toBe(rebuild?.id ?? "");
});

test("an uploaded source tree goes with the rebuild", async () => {
  const d = await claimedBuild();
  const content = new TextEncoder().encode("<p>source</p>");
  const hash = new Bun.CryptoHasher("sha256").update(content).digest("hex");
  await deps.artifacts.putBlob(hash, content);
  const files = { "/index.html": { hash, size: content.length, type: "text/html; charset=utf-8" } };
  await deps.artifacts.putManifest({
    version: 1,
    deploymentId: sourceManifestId(d.id),
    createdAt: new Date().toISOString(),
    files,
  });
  const { rebuild } = await endInterrupted(deps, d, WHY);
  const copied = await deps.artifacts.getManifest(sourceManifestId(rebuild?.id ?? ""));
  expect(copied?.files).toEqual(files);
});

test("a deployment no launcher claimed (an upload in progress) only fails: nothing to rebuild from", async () => {
  const d = await claimedBuild();
  const upload = { ...d, claimedBy: null };
  const before = await deps.store.deployments.list(userId, d.projectId, { limit: 10, cursor: null });
  const { ended, rebuild } = await endInterrupted(deps, upload, WHY);
  expect({ status: ended?.status, reason: ended?.statusReason, rebuild }).toEqual({
    status: "FAIL",
    reason: WHY,
    rebuild: null,
  });
  const after = await deps.store.deployments.list(userId, d.projectId, { limit: 10, cursor: null });
  expect(after.items).toHaveLength(before.items.length);
});

test("a newer deployment of the same branch replaces the rebuild", async () => {
  const d = await claimedBuild();
  await Bun.sleep(5); // a later created_at
  await deps.store.deployments.create({
    projectId: d.projectId,
    userId,
    status: "QUEUED",
    target: "production",
    branch: "main",
    commitSha: null,
  });
  const { ended, rebuild } = await endInterrupted(deps, d, WHY);
  expect(rebuild).toBeNull();
  expect(ended?.statusReason).toBe(`${WHY}; not rebuilt: a newer deployment of its branch exists`);
});

test("a build that ended meanwhile is left alone, and the rebuild started for it is canceled", async () => {
  const d = await claimedBuild();
  await deps.store.deployments.transition(d.id, "CANCELED", "canceled by user");
  const { ended, rebuild } = await endInterrupted(deps, d, WHY);
  expect({ ended, rebuild }).toEqual({ ended: null, rebuild: null });
  expect((await deps.store.deployments.find(d.id))?.status).toBe("CANCELED");
  const rows = await deps.store.deployments.list(userId, d.projectId, { limit: 10, cursor: null });
  const extra = rows.items.filter((r) => r.id !== d.id);
  expect(extra.map((r) => [r.status, r.statusReason])).toEqual([
    ["CANCELED", "not needed: the interrupted build had ended"],
  ]);
});

// A build nobody finished (restart, lost worker): FAIL with the reason, and the same commit (or uploaded source)
// queued again; exactly once when several workers end it at once, never for a timeout or a cancel, never forever.
// On both stores.

import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { cancelDeployment } from "../deploy/deploy.ts";
import { sourceManifestId } from "../deploy/prebuilt.ts";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import type { Deployment } from "../model/entities.ts";
import { openStore, type Store } from "../store/store.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { testDatabase } from "../testing/postgres.ts";
import { endInterrupted, MAX_AUTOMATIC_REBUILDS, rebuiltAs } from "./interrupted.ts";

const WHY = "the platform restarted during this build";
const SHA = "a".repeat(40);

/** A fresh store of each kind per test: a rebuild left QUEUED by one must not be the next one's claim. */
const STORES: Record<string, () => Promise<{ env: Record<string, string>; drop: () => Promise<void> }>> = {
  sqlite: async () => ({ env: {}, drop: async () => {} }),
  postgres: async () => {
    const db = await testDatabase();
    return { env: { DATABASE_URL: db.url }, drop: db.drop };
  },
};

for (const [kind, open] of Object.entries(STORES)) {
  describe(kind, () => {
    let deps: Deps;
    let userId: string;
    let drop: () => Promise<void>;
    const extra: Store[] = [];
    beforeEach(async () => {
      const db = await open();
      drop = db.drop;
      deps = await testDeps(db.env);
      userId = (await testUser(deps)).user.id;
    });
    afterEach(async () => {
      for (const store of extra.splice(0)) await store.close();
      await deps.close();
      await drop();
    });

    async function project(buildTimeoutSeconds: number | null = null) {
      const created = await createProject(deps.store, deps.config, userId, {
        name: `p-${crypto.randomUUID().slice(0, 8)}`,
        gitUrl: "https://example.com/site.git",
      });
      if (buildTimeoutSeconds === null) return created;
      const updated = await deps.store.projects.update(userId, created.id, { buildTimeoutSeconds });
      if (!updated) throw new Error("project vanished");
      return updated;
    }

    /** Claims the oldest QUEUED deployment as a launcher would (started `startedAgoMs` ago) and re-reads it. */
    async function claim(id: string, startedAgoMs = 0): Promise<Deployment> {
      const at = new Date(Date.now() - startedAgoMs).toISOString();
      const claimed = await deps.store.deployments.claimNext("worker-test", at);
      expect(claimed?.deployment.id).toBe(id);
      const found = await deps.store.deployments.find(id);
      if (!found) throw new Error("deployment vanished");
      return found;
    }

    /** A project with one deployment a launcher claimed (IN_PROGRESS, claimed_by set), on `branch`. */
    async function claimedBuild(branch = "main", projectId?: string, startedAgoMs = 0): Promise<Deployment> {
      const queued = await deps.store.deployments.create({
        projectId: projectId ?? (await project()).id,
        userId,
        status: "QUEUED",
        target: branch === "main" ? "production" : "preview",
        branch,
        commitSha: null,
      });
      await claim(queued.id, startedAgoMs);
      await deps.store.deployments.recordCommit(queued.id, SHA);
      const found = await deps.store.deployments.find(queued.id);
      if (!found) throw new Error("deployment vanished");
      return found;
    }

    const rows = async (projectId: string) =>
      (await deps.store.deployments.list(userId, projectId, { limit: 100, cursor: null })).items;

    test("a claimed build ends FAIL naming its rebuild, which is QUEUED with the same branch, target and commit", async () => {
      const d = await claimedBuild("feature/x");
      const { ended, rebuild } = await endInterrupted(deps, d, WHY);
      expect(ended?.status).toBe("FAIL");
      expect(ended?.statusReason).toBe(`${WHY}; rebuilding it as ${rebuild?.id}`);
      expect(rebuiltAs(ended?.statusReason ?? null)).toBe(rebuild?.id ?? "");
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
      const before = await rows(d.projectId);
      const { ended, rebuild } = await endInterrupted(deps, { ...d, claimedBy: null }, WHY);
      expect({ status: ended?.status, reason: ended?.statusReason, rebuild }).toEqual({
        status: "FAIL",
        reason: WHY,
        rebuild: null,
      });
      expect(await rows(d.projectId)).toHaveLength(before.length);
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

    test("a canceled build is left alone and nothing is queued for it", async () => {
      const d = await claimedBuild();
      await cancelDeployment(deps, userId, d.id);
      const { ended, rebuild } = await endInterrupted(deps, d, WHY);
      expect({ ended, rebuild }).toEqual({ ended: null, rebuild: null });
      const after = await rows(d.projectId);
      expect(after.map((r) => [r.id, r.status, r.statusReason])).toEqual([
        [d.id, "CANCELED", "canceled by user"],
      ]);
    });

    test("workers ending the same build at once (each on its own connection) queue exactly one rebuild", async () => {
      const d = await claimedBuild();
      for (let i = 0; i < 3; i++) extra.push(await openStore(deps.config.store));
      const racers = [deps.store, ...extra];
      // All of them decide to rebuild before any of them ends it: they meet at the FAIL transition.
      let arrived = 0;
      let release = () => {};
      const met = new Promise<void>((resolve) => {
        release = resolve;
      });
      const atGate = (store: Store): Store => ({
        ...store,
        deployments: {
          ...store.deployments,
          async transition(id, to, reason) {
            if (to === "FAIL" && ++arrived === racers.length) release();
            if (to === "FAIL") await met;
            return store.deployments.transition(id, to, reason);
          },
        },
      });
      const results = await Promise.all(
        racers.map((store) => endInterrupted({ ...deps, store: atGate(store) }, d, WHY)),
      );
      const applied = results.filter((r) => r.ended !== null);
      expect(applied).toHaveLength(1);
      expect(results.filter((r) => r.rebuild !== null)).toHaveLength(1);
      const rebuildId = applied[0]?.rebuild?.id ?? "";
      const after = await rows(d.projectId);
      expect(after.map((r) => [r.id, r.status]).sort()).toEqual(
        [
          [d.id, "FAIL"],
          [rebuildId, "QUEUED"],
        ].sort(),
      );
      expect(after.find((r) => r.id === d.id)?.statusReason).toBe(`${WHY}; rebuilding it as ${rebuildId}`);
    });

    test(`a rebuild lost again is rebuilt at most ${MAX_AUTOMATIC_REBUILDS} times in a row; a new deploy starts over`, async () => {
      const first = await claimedBuild();
      let lost = first;
      const chain = [first.id];
      for (let i = 0; i < MAX_AUTOMATIC_REBUILDS; i++) {
        const { rebuild } = await endInterrupted(deps, lost, WHY);
        if (!rebuild) throw new Error(`rebuild ${i + 1} was not queued`);
        chain.push(rebuild.id);
        lost = await claim(rebuild.id);
        expect(lost.commitSha).toBe(SHA);
      }
      const { ended, rebuild } = await endInterrupted(deps, lost, WHY);
      expect(rebuild).toBeNull();
      expect(ended?.statusReason).toBe(
        `${WHY}; not rebuilt: it was already rebuilt automatically ${MAX_AUTOMATIC_REBUILDS} times in a row; deploy again to retry`,
      );
      const after = await rows(first.projectId);
      expect(after.map((r) => r.id).sort()).toEqual([...chain].sort());
      expect(after.every((r) => r.status === "FAIL")).toBe(true);

      // The user deploys the branch again: a new lineage, rebuilt when it is lost.
      const again = await claimedBuild("main", first.projectId);
      expect((await endInterrupted(deps, again, WHY)).rebuild?.status).toBe("QUEUED");
    });

    test("a build whose last sign of life came at its time limit timed out: it is not rebuilt", async () => {
      // Started two hours ago, alive until a minute ago: past the default 900 s.
      const d = await claimedBuild("main", undefined, 2 * 3600_000);
      await deps.store.deployments.heartbeat(d.id, new Date(Date.now() - 60_000).toISOString());
      const stale = (await deps.store.deployments.find(d.id)) ?? d;
      const { ended, rebuild } = await endInterrupted(deps, stale, WHY);
      expect(rebuild).toBeNull();
      expect(ended?.statusReason).toBe(`${WHY}; not rebuilt: it had used up its build time limit (900 s)`);
      expect(await rows(d.projectId)).toHaveLength(1);
    });

    test("the project's own build time limit counts; a build lost well before its limit is rebuilt", async () => {
      // Started 120 s ago, last heard of 50 s ago: 70 s of a 60 s limit, but far from a 300 s one.
      const short = await project(60);
      const long = await project(300);
      const timedOut = await claimedBuild("main", short.id, 120_000);
      await deps.store.deployments.heartbeat(timedOut.id, new Date(Date.now() - 50_000).toISOString());
      const a = await endInterrupted(deps, (await deps.store.deployments.find(timedOut.id)) ?? timedOut, WHY);
      expect(a.ended?.statusReason).toBe(`${WHY}; not rebuilt: it had used up its build time limit (60 s)`);
      expect(a.rebuild).toBeNull();
      const lost = await claimedBuild("main", long.id, 120_000);
      await deps.store.deployments.heartbeat(lost.id, new Date(Date.now() - 50_000).toISOString());
      const b = await endInterrupted(deps, (await deps.store.deployments.find(lost.id)) ?? lost, WHY);
      expect(b.rebuild?.status).toBe("QUEUED");
    });
  });
}

// Deployments, store contract: scoping and lists, forward-only transitions, the build queue (exclusive claims,
// supersession), the production pointer on READY, build keys and liveness; run against every Store implementation
// like store.contract.ts.

import { describe, expect, test } from "bun:test";
import { settings } from "./store.contract.ts";
import type { Store } from "./store.ts";

const email = () => `u-${crypto.randomUUID().slice(0, 8)}@example.com`;

/** `open` returns a freshly migrated store; each case uses its own users so stores can be shared. */
export function deploymentsContract(name: string, open: () => Promise<Store>): void {
  describe(`deployments contract: ${name}`, () => {
    test("deployments: scoped by project owner, listed newest first, cascade on project delete", async () => {
      const store = await open();
      const owner = await store.users.create({ email: email(), passwordHash: null });
      const stranger = await store.users.create({ email: email(), passwordHash: null });
      const project = await store.projects.create({ userId: owner.id, ...settings() });
      const base = {
        projectId: project.id,
        userId: owner.id,
        target: "production",
        branch: "main",
        commitSha: null,
      };
      const first = await store.deployments.create({ ...base, status: "QUEUED", target: "production" });
      const second = await store.deployments.create({ ...base, status: "QUEUED", target: "preview" });
      expect((await store.deployments.get(owner.id, first.id))?.status).toBe("QUEUED");
      expect(await store.deployments.get(stranger.id, first.id)).toBeNull();
      const page = await store.deployments.list(owner.id, project.id, { limit: 10, cursor: null });
      expect(new Set(page.items.map((d) => d.id))).toEqual(new Set([first.id, second.id]));
      expect(
        (await store.deployments.list(stranger.id, project.id, { limit: 10, cursor: null })).items,
      ).toEqual([]);
      await store.projects.delete(owner.id, project.id);
      expect(await store.deployments.get(owner.id, first.id)).toBeNull();
    });

    test("deployments: lists narrow to a branch, target and status; commit details are kept once", async () => {
      const store = await open();
      const user = await store.users.create({ email: email(), passwordHash: null });
      const project = await store.projects.create({ userId: user.id, ...settings() });
      const make = (target: "production" | "preview", branch: string) =>
        store.deployments.create({
          projectId: project.id,
          userId: user.id,
          status: "QUEUED",
          target,
          branch,
          commitSha: null,
        });
      const main = await make("production", "main");
      const feature = await make("preview", "feature");
      const older = await make("preview", "feature");
      await store.deployments.transition(feature.id, "IN_PROGRESS", null);
      const ids = async (filter: Parameters<typeof store.deployments.list>[3]) =>
        new Set(
          (await store.deployments.list(user.id, project.id, { limit: 10, cursor: null }, filter)).items.map(
            (d) => d.id,
          ),
        );
      expect(await ids({})).toEqual(new Set([main.id, feature.id, older.id]));
      expect(await ids({ branch: "feature" })).toEqual(new Set([feature.id, older.id]));
      expect(await ids({ target: "production" })).toEqual(new Set([main.id]));
      expect(await ids({ branch: "feature", status: "QUEUED" })).toEqual(new Set([older.id]));
      expect(await ids({ branch: "nope" })).toEqual(new Set());
      // Paging keeps the filter.
      const first = await store.deployments.list(
        user.id,
        project.id,
        { limit: 1, cursor: null },
        { branch: "feature" },
      );
      expect(first.nextCursor).not.toBeNull();
      const second = await store.deployments.list(
        user.id,
        project.id,
        { limit: 1, cursor: first.nextCursor },
        { branch: "feature" },
      );
      expect(new Set([...first.items, ...second.items].map((d) => d.id))).toEqual(
        new Set([feature.id, older.id]),
      );
      expect(second.nextCursor).toBeNull();

      const sha = "a".repeat(40);
      await store.deployments.recordCommit(main.id, sha, { message: "Fix <the> header", author: "Ada" });
      await store.deployments.recordCommit(main.id, "b".repeat(40), { message: "other", author: "Eve" });
      const recorded = await store.deployments.find(main.id);
      expect([recorded?.commitSha, recorded?.commitMessage, recorded?.commitAuthor]).toEqual([
        sha,
        "Fix <the> header",
        "Ada",
      ]);
      // A deployment created with its commit (a redeploy) still learns the subject from its build.
      const redeploy = await store.deployments.create({
        projectId: project.id,
        userId: user.id,
        status: "QUEUED",
        target: "production",
        branch: "main",
        commitSha: sha,
      });
      expect(redeploy.commitMessage).toBeNull();
      await store.deployments.recordCommit(redeploy.id, sha, { message: "Fix <the> header", author: "Ada" });
      expect((await store.deployments.find(redeploy.id))?.commitMessage).toBe("Fix <the> header");
    });

    test("deployments: transitions only move forward, and only once", async () => {
      const store = await open();
      const user = await store.users.create({ email: email(), passwordHash: null });
      const project = await store.projects.create({ userId: user.id, ...settings() });
      const d = await store.deployments.create({
        projectId: project.id,
        userId: user.id,
        status: "QUEUED",
        target: "production",
        branch: "main",
        commitSha: "abc",
      });
      expect(await store.deployments.transition(d.id, "READY", null)).toBeNull();
      expect((await store.deployments.transition(d.id, "IN_PROGRESS", null))?.status).toBe("IN_PROGRESS");
      expect(await store.deployments.transition(d.id, "IN_PROGRESS", null)).toBeNull();
      expect(await store.deployments.transition(d.id, "QUEUED", null)).toBeNull();
      const failed = await store.deployments.transition(d.id, "FAIL", "build exited with code 1");
      expect(failed?.status).toBe("FAIL");
      expect(failed?.statusReason).toBe("build exited with code 1");
      expect(await store.deployments.transition(d.id, "READY", null)).toBeNull();
      expect(await store.deployments.transition(d.id, "CANCELED", null)).toBeNull();
      expect((await store.deployments.get(user.id, d.id))?.status).toBe("FAIL");
    });

    test("deployments: concurrent transitions, exactly one wins", async () => {
      const store = await open();
      const user = await store.users.create({ email: email(), passwordHash: null });
      const project = await store.projects.create({ userId: user.id, ...settings() });
      const d = await store.deployments.create({
        projectId: project.id,
        userId: user.id,
        status: "QUEUED",
        target: "preview",
        branch: null,
        commitSha: null,
      });
      const results = await Promise.all(
        Array.from({ length: 8 }, () => store.deployments.transition(d.id, "IN_PROGRESS", null)),
      );
      expect(results.filter((r) => r !== null).length).toBe(1);
    });

    test("queue: claims are exclusive, oldest first, one build per project at a time", async () => {
      const store = await open();
      const user = await store.users.create({ email: email(), passwordHash: null });
      const a = await store.projects.create({ userId: user.id, ...settings() });
      const b = await store.projects.create({ userId: user.id, ...settings() });
      const queue = (projectId: string, branch: string) =>
        store.deployments.create({
          projectId,
          userId: user.id,
          status: "QUEUED",
          target: "preview",
          branch,
          commitSha: null,
        });
      const a1 = await queue(a.id, "one");
      await Bun.sleep(2);
      const a2 = await queue(a.id, "two");
      await Bun.sleep(2);
      const b1 = await queue(b.id, "one");
      // Other tests share the store: only look at this test's deployments.
      const mine = new Set([a1.id, a2.id, b1.id]);
      const claims: string[] = [];
      for (let i = 0; i < 50 && claims.length < 2; i++) {
        const results = await Promise.all(
          [1, 2, 3, 4].map((n) => store.deployments.claimNext(`w${n}`, new Date().toISOString())),
        );
        for (const r of results) if (r && mine.has(r.deployment.id)) claims.push(r.deployment.id);
        for (const r of results)
          if (r && !mine.has(r.deployment.id))
            await store.deployments.transition(r.deployment.id, "FAIL", "x");
      }
      expect(claims.sort()).toEqual([a1.id, b1.id].sort());
      const claimed = await store.deployments.find(a1.id);
      expect(claimed?.status).toBe("IN_PROGRESS");
      expect(claimed?.startedAt).not.toBeNull();
      expect(claimed?.claimedBy).toMatch(/^w[1-4]$/);
      // a2 waits while a1 builds, then becomes claimable.
      expect((await store.deployments.find(a2.id))?.status).toBe("QUEUED");
      const done = await store.deployments.transition(a1.id, "FAIL", "boom");
      expect(done?.finishedAt).not.toBeNull();
      let next = await store.deployments.claimNext("w9", new Date().toISOString());
      while (next && !mine.has(next.deployment.id)) {
        await store.deployments.transition(next.deployment.id, "FAIL", "x");
        next = await store.deployments.claimNext("w9", new Date().toISOString());
      }
      expect(next?.deployment.id).toBe(a2.id);
      expect(next?.project.id).toBe(a.id);
    });

    test("queue: deployments are counted by status (the queue depth of /metrics)", async () => {
      const store = await open();
      const user = await store.users.create({ email: email(), passwordHash: null });
      const project = await store.projects.create({ userId: user.id, ...settings() });
      // Other cases share the store: compare with the counts before this case's deployments.
      const before = await store.deployments.countWithStatus("QUEUED");
      const failedBefore = await store.deployments.countWithStatus("FAIL");
      const queued = await Promise.all(
        ["a", "b", "c"].map((branch) =>
          store.deployments.create({
            projectId: project.id,
            userId: user.id,
            status: "QUEUED",
            target: "preview",
            branch,
            commitSha: null,
          }),
        ),
      );
      expect(await store.deployments.countWithStatus("QUEUED")).toBe(before + 3);
      await store.deployments.transition(queued[0]?.id ?? "", "FAIL", "x");
      expect(await store.deployments.countWithStatus("QUEUED")).toBe(before + 2);
      expect(await store.deployments.countWithStatus("FAIL")).toBe(failedBefore + 1);
    });

    test("queue: a newer deployment supersedes queued older ones of the same branch only", async () => {
      const store = await open();
      const user = await store.users.create({ email: email(), passwordHash: null });
      const project = await store.projects.create({ userId: user.id, ...settings() });
      const queue = (branch: string) =>
        store.deployments.create({
          projectId: project.id,
          userId: user.id,
          status: "QUEUED",
          target: "preview",
          branch,
          commitSha: null,
        });
      const old1 = await queue("main");
      const other = await queue("feature");
      await Bun.sleep(2);
      const newest = await queue("main");
      expect(await store.deployments.supersede(newest)).toEqual([old1.id]);
      const canceled = await store.deployments.find(old1.id);
      expect(canceled?.status).toBe("CANCELED");
      expect(canceled?.statusReason).toContain(newest.id);
      expect((await store.deployments.find(other.id))?.status).toBe("QUEUED");
      expect((await store.deployments.find(newest.id))?.status).toBe("QUEUED");
    });

    test("ready: production pointer moves forward only, previews never move it", async () => {
      const store = await open();
      const user = await store.users.create({ email: email(), passwordHash: null });
      const project = await store.projects.create({ userId: user.id, ...settings() });
      const make = async (target: "production" | "preview") => {
        const d = await store.deployments.create({
          projectId: project.id,
          userId: user.id,
          status: "QUEUED",
          target,
          branch: "main",
          commitSha: null,
        });
        await store.deployments.transition(d.id, "IN_PROGRESS", null);
        await Bun.sleep(2);
        return d;
      };
      const older = await make("production");
      const newer = await make("production");
      const preview = await make("preview");
      expect((await store.deployments.markReady(newer.id))?.status).toBe("READY");
      expect((await store.projects.find(project.id))?.productionDeploymentId).toBe(newer.id);
      expect((await store.deployments.markReady(older.id))?.status).toBe("READY");
      expect((await store.projects.find(project.id))?.productionDeploymentId).toBe(newer.id);
      await store.deployments.markReady(preview.id);
      expect((await store.projects.find(project.id))?.productionDeploymentId).toBe(newer.id);
      expect(await store.deployments.markReady(newer.id)).toBeNull();
    });

    test("build keys: the newest READY deployment of the same project and key is found, nothing else", async () => {
      const store = await open();
      const user = await store.users.create({ email: email(), passwordHash: null });
      const project = await store.projects.create({ userId: user.id, ...settings() });
      const other = await store.projects.create({ userId: user.id, ...settings() });
      const make = async (projectId: string, key: string, ready: boolean) => {
        const d = await store.deployments.create({
          projectId,
          userId: user.id,
          status: "QUEUED",
          target: "production",
          branch: "main",
          commitSha: null,
        });
        await store.deployments.recordBuildKey(d.id, key);
        await store.deployments.transition(d.id, "IN_PROGRESS", null);
        if (ready) await store.deployments.markReady(d.id);
        else await store.deployments.transition(d.id, "FAIL", "broken");
        await Bun.sleep(2);
        return d;
      };
      expect(await store.deployments.findBuilt(project.id, "k1")).toBeNull();
      const older = await make(project.id, "k1", true);
      const newer = await make(project.id, "k1", true);
      await make(project.id, "k1", false);
      await make(project.id, "k2", false);
      await make(other.id, "k3", true);
      expect((await store.deployments.findBuilt(project.id, "k1"))?.id).toBe(newer.id);
      expect(older.id).not.toBe(newer.id);
      // A failed build's key reuses nothing; another project's key is not this project's.
      expect(await store.deployments.findBuilt(project.id, "k2")).toBeNull();
      expect(await store.deployments.findBuilt(project.id, "k3")).toBeNull();
    });

    test("liveness: heartbeats keep a build fresh; stale ones are found", async () => {
      const store = await open();
      const user = await store.users.create({ email: email(), passwordHash: null });
      const project = await store.projects.create({ userId: user.id, ...settings() });
      const d = await store.deployments.create({
        projectId: project.id,
        userId: user.id,
        status: "QUEUED",
        target: "preview",
        branch: "main",
        commitSha: null,
      });
      await store.deployments.transition(d.id, "IN_PROGRESS", null);
      await store.deployments.heartbeat(d.id, "2020-01-01T00:00:00.000Z");
      const staleIds = (await store.deployments.stale("2021-01-01T00:00:00.000Z")).map((x) => x.id);
      expect(staleIds).toContain(d.id);
      await store.deployments.heartbeat(d.id, "2099-01-01T00:00:00.000Z");
      expect((await store.deployments.stale("2021-01-01T00:00:00.000Z")).map((x) => x.id)).not.toContain(
        d.id,
      );
    });

    test("liveness: NOT_STARTED deployments untouched since a time are found as abandoned", async () => {
      const store = await open();
      const user = await store.users.create({ email: email(), passwordHash: null });
      const project = await store.projects.create({ userId: user.id, ...settings() });
      const create = (status: "NOT_STARTED" | "QUEUED") =>
        store.deployments.create({
          projectId: project.id,
          userId: user.id,
          status,
          target: "preview",
          branch: "main",
          commitSha: null,
        });
      const left = await create("NOT_STARTED");
      const queued = await create("QUEUED");
      const moved = await create("NOT_STARTED");
      await store.deployments.transition(moved.id, "QUEUED", null);
      const ids = (await store.deployments.abandoned("2099-01-01T00:00:00.000Z")).map((x) => x.id);
      expect(ids).toContain(left.id);
      expect(ids).not.toContain(queued.id);
      expect(ids).not.toContain(moved.id);
      expect((await store.deployments.abandoned("2020-01-01T00:00:00.000Z")).map((x) => x.id)).not.toContain(
        left.id,
      );
    });
  });
}

// Routing and retention, store contract: hosts to deployments, branch previews, promote and rollback as pointer
// swaps, and which previews expire; run against every Store implementation like store.contract.ts.

import { describe, expect, test } from "bun:test";
import { settings } from "./store.contract.ts";
import type { Store } from "./store.ts";

const email = () => `u-${crypto.randomUUID().slice(0, 8)}@example.com`;

/** `open` returns a freshly migrated store; each case uses its own users so stores can be shared. */
export function routingContract(name: string, open: () => Promise<Store>): void {
  describe(`routing contract: ${name}`, () => {
    test("routing: host ids, branch previews, promote and rollback as pointer swaps", async () => {
      const store = await open();
      const user = await store.users.create({ email: email(), passwordHash: null });
      const project = await store.projects.create({ userId: user.id, ...settings({ spaFallback: false }) });
      const ready = async (branch: string, target: "production" | "preview") => {
        const d = await store.deployments.create({
          projectId: project.id,
          userId: user.id,
          status: "QUEUED",
          target,
          branch,
          commitSha: null,
        });
        await store.deployments.transition(d.id, "IN_PROGRESS", null);
        await Bun.sleep(2);
        return (await store.deployments.markReady(d.id)) ?? d;
      };
      const v1 = await ready("main", "production");
      const v2 = await ready("main", "production");
      const feature = await ready("Feature/Login_Page", "preview");
      expect(feature.branchSlug).toBe("feature-login-page");

      const hostId = v1.id.replaceAll("-", "").slice(0, 12);
      expect((await store.deployments.findByHostId(project.id, hostId))?.id).toBe(v1.id);
      expect(await store.deployments.findByHostId(project.id, "zzzzzzzzzzzz")).toBeNull();
      const other = await store.projects.create({ userId: user.id, ...settings() });
      expect(await store.deployments.findByHostId(other.id, hostId)).toBeNull();

      expect((await store.deployments.latestForBranch(project.id, "feature-login-page", false))?.id).toBe(
        feature.id,
      );
      expect(await store.deployments.latestForBranch(project.id, "feature-login", false)).toBeNull();
      expect((await store.deployments.latestForBranch(project.id, "feature-login", true))?.id).toBe(
        feature.id,
      );
      expect((await store.deployments.latestForBranch(project.id, "main", false))?.id).toBe(v2.id);

      const route = (await store.projects.routes()).find((r) => r.id === project.id);
      expect(route).toEqual({
        id: project.id,
        subDomain: project.subDomain,
        domains: [],
        productionDeploymentId: v2.id,
        spaFallback: false,
      });

      const built = await store.projects.find(project.id);
      expect(built?.previousProductionDeploymentId).toBe(v1.id);
      // Every pointer move records since when production serves its deployment.
      expect(built?.productionSince).toBe(v2.finishedAt);
      const since = (p: { productionSince: string | null } | null | undefined) =>
        Date.parse(p?.productionSince ?? "");
      await Bun.sleep(2);
      const rolled = await store.projects.rollback(project.id);
      expect([rolled?.productionDeploymentId, rolled?.previousProductionDeploymentId]).toEqual([
        v1.id,
        v2.id,
      ]);
      expect(since(rolled)).toBeGreaterThan(since(built));
      await Bun.sleep(2);
      const promoted = await store.projects.promote(project.id, feature.id);
      expect([promoted?.productionDeploymentId, promoted?.previousProductionDeploymentId]).toEqual([
        feature.id,
        v1.id,
      ]);
      expect(since(promoted)).toBeGreaterThan(since(rolled));
      // Promoting the current production deployment changes nothing and succeeds.
      const again = await store.projects.promote(project.id, feature.id);
      expect(again?.previousProductionDeploymentId).toBe(v1.id);
      expect(again?.productionSince).toBe(promoted?.productionSince ?? "");
      // Not READY, or another project's deployment: refused.
      const queued = await store.deployments.create({
        projectId: project.id,
        userId: user.id,
        status: "QUEUED",
        target: "preview",
        branch: "x",
        commitSha: null,
      });
      expect(await store.projects.promote(project.id, queued.id)).toBeNull();
      expect(await store.projects.promote(other.id, v1.id)).toBeNull();
      const fresh = await store.projects.create({ userId: user.id, ...settings() });
      expect(await store.projects.rollback(fresh.id)).toBeNull();
    });

    test("retention: old previews expire, except production, previous production and each branch's newest", async () => {
      const store = await open();
      const user = await store.users.create({ email: email(), passwordHash: null });
      const project = await store.projects.create({ userId: user.id, ...settings() });
      const ready = async (branch: string, target: "production" | "preview") => {
        const d = await store.deployments.create({
          projectId: project.id,
          userId: user.id,
          status: "QUEUED",
          target,
          branch,
          commitSha: null,
        });
        await store.deployments.transition(d.id, "IN_PROGRESS", null);
        await Bun.sleep(2);
        return (await store.deployments.markReady(d.id)) ?? d;
      };
      await ready("main", "production");
      const prod = await ready("main", "production");
      const f1 = await ready("feature", "preview");
      const f2 = await ready("feature", "preview");
      const x1 = await ready("x", "preview");
      await ready("x", "preview");
      await store.deployments.create({
        projectId: project.id,
        userId: user.id,
        status: "QUEUED",
        target: "preview",
        branch: "feature",
        commitSha: null,
      });
      const future = new Date(Date.now() + 60_000).toISOString();
      const expirable = async (before = future) =>
        (await store.deployments.expirable(before, 1000))
          .filter((d) => d.projectId === project.id)
          .map((d) => d.id);
      // Production deployments and each branch's newest READY preview are never candidates.
      expect(await expirable()).toEqual([f1.id, x1.id]);
      expect(await expirable("2000-01-01T00:00:00.000Z")).toEqual([]);
      // A promoted preview is production; rolled back, it is the previous production: kept either way.
      await store.projects.promote(project.id, x1.id);
      expect(await expirable()).toEqual([f1.id]);
      await store.projects.rollback(project.id);
      expect((await store.projects.find(project.id))?.previousProductionDeploymentId).toBe(x1.id);
      expect(await expirable()).toEqual([f1.id]);
      expect(await store.deployments.expire(x1.id)).toBe(false);
      expect(await store.deployments.expire(prod.id)).toBe(false);

      expect(await store.deployments.expire(f1.id)).toBe(true);
      expect(await store.deployments.expire(f1.id)).toBe(false);
      const expired = await store.deployments.find(f1.id);
      expect(expired?.status).toBe("READY");
      expect(expired?.expiredAt).not.toBeNull();
      expect((await store.deployments.find(f2.id))?.expiredAt).toBeNull();
      expect(await expirable()).toEqual([]);
      // Expired: no longer found by its host, and never promoted.
      expect(
        await store.deployments.findByHostId(project.id, f1.id.replaceAll("-", "").slice(0, 12)),
      ).toBeNull();
      expect(await store.projects.promote(project.id, f1.id)).toBeNull();
      expect((await store.deployments.latestForBranch(project.id, "feature", false))?.id).toBe(f2.id);
    });

    test("retention: expire and promote of the same deployment, concurrently: never both", async () => {
      const store = await open();
      const user = await store.users.create({ email: email(), passwordHash: null });
      for (let round = 0; round < 10; round += 1) {
        const project = await store.projects.create({ userId: user.id, ...settings() });
        const make = async () => {
          const d = await store.deployments.create({
            projectId: project.id,
            userId: user.id,
            status: "QUEUED",
            target: "preview",
            branch: "b",
            commitSha: null,
          });
          await store.deployments.transition(d.id, "IN_PROGRESS", null);
          await Bun.sleep(2);
          return (await store.deployments.markReady(d.id)) ?? d;
        };
        const old = await make();
        await make();
        const [expired, promoted] = await Promise.all([
          store.deployments.expire(old.id),
          store.projects.promote(project.id, old.id),
        ]);
        expect(expired && promoted !== null).toBe(false);
        expect(expired || promoted !== null).toBe(true);
      }
    });
  });
}

// Cron jobs, store contract: claims of runs (exactly one wins, also when racing), their results, the history and
// pruning, run against every Store implementation (sqlite and Postgres) like store.contract.ts.

import { describe, expect, test } from "bun:test";
import type { CronClaim } from "./cron-runs.ts";
import { settings } from "./store.contract.ts";
import type { Store } from "./store.ts";

async function project(store: Store) {
  const user = await store.users.create({
    email: `u-${crypto.randomUUID().slice(0, 8)}@example.com`,
    passwordHash: null,
  });
  return store.projects.create({ userId: user.id, ...settings() });
}

function claimOf(projectId: string, over: Partial<CronClaim> = {}): CronClaim {
  return {
    projectId,
    deploymentId: crypto.randomUUID(),
    path: "/api/cron",
    schedule: "*/5 * * * *",
    trigger: "schedule",
    scheduledAt: "2030-01-01T05:00:00.000Z",
    startedAt: "2030-01-01T05:00:00.120Z",
    claimedBy: "proxy-a",
    ...over,
  };
}

export function cronRunsContract(name: string, open: () => Promise<Store>): void {
  describe(`cron runs contract: ${name}`, () => {
    test("a run is claimed once: a second claim of the same job and minute gets nothing", async () => {
      const store = await open();
      const { id } = await project(store);
      const first = await store.cronRuns.claim(claimOf(id));
      expect(first).toMatchObject({
        projectId: id,
        path: "/api/cron",
        trigger: "schedule",
        finishedAt: null,
      });
      expect(await store.cronRuns.claim(claimOf(id, { claimedBy: "proxy-b" }))).toBeNull();
      // Another minute, another path, another schedule of the same path, or a manual run: each its own run.
      expect(
        await store.cronRuns.claim(claimOf(id, { scheduledAt: "2030-01-01T05:05:00.000Z" })),
      ).not.toBeNull();
      expect(await store.cronRuns.claim(claimOf(id, { path: "/api/other" }))).not.toBeNull();
      expect(await store.cronRuns.claim(claimOf(id, { schedule: "0 5 * * *" }))).not.toBeNull();
      expect(await store.cronRuns.claim(claimOf(id, { trigger: "manual" }))).not.toBeNull();
    });

    test("of claims racing for one run exactly one wins", async () => {
      const store = await open();
      const { id } = await project(store);
      const claims = await Promise.all(
        Array.from({ length: 8 }, (_, i) => store.cronRuns.claim(claimOf(id, { claimedBy: `proxy-${i}` }))),
      );
      expect(claims.filter((c) => c !== null)).toHaveLength(1);
    });

    test("a run of a deleted project is not claimed, and its history goes with the project", async () => {
      const store = await open();
      const p = await project(store);
      await store.cronRuns.claim(claimOf(p.id));
      await store.projects.delete(p.userId, p.id);
      expect(
        await store.cronRuns.claim(claimOf(p.id, { scheduledAt: "2030-01-02T05:00:00.000Z" })),
      ).toBeNull();
      expect(await store.cronRuns.recent(p.id, 10)).toEqual([]);
    });

    test("results are recorded; the history is newest first and pruned by age", async () => {
      const store = await open();
      const { id } = await project(store);
      const early = await store.cronRuns.claim(
        claimOf(id, { scheduledAt: "2020-01-01T00:00:00.000Z", startedAt: "2020-01-01T00:00:00.050Z" }),
      );
      const late = await store.cronRuns.claim(claimOf(id));
      if (!early || !late) throw new Error("claims refused");
      await store.cronRuns.finish(late.id, {
        finishedAt: "2030-01-01T05:00:01.000Z",
        status: 200,
        durationMs: 880.4,
        error: null,
      });
      await store.cronRuns.finish(early.id, {
        finishedAt: "2020-01-01T00:00:30.000Z",
        status: null,
        durationMs: 29_950,
        error: "no answer within 30 s",
      });
      const runs = await store.cronRuns.recent(id, 10);
      expect(runs.map((r) => r.id)).toEqual([late.id, early.id]);
      expect(runs[0]).toMatchObject({
        status: 200,
        durationMs: 880,
        error: null,
        finishedAt: "2030-01-01T05:00:01.000Z",
        scheduledAt: "2030-01-01T05:00:00.000Z",
        claimedBy: "proxy-a",
      });
      expect(runs[1]).toMatchObject({ status: null, error: "no answer within 30 s" });
      expect(await store.cronRuns.recent(id, 1)).toHaveLength(1);
      expect(await store.cronRuns.prune("2025-01-01T00:00:00.000Z")).toBeGreaterThanOrEqual(1);
      expect((await store.cronRuns.recent(id, 10)).map((r) => r.id)).toEqual([late.id]);
    });
  });
}

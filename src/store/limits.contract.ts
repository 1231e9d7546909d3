// Limits, store contract: sign-in failure counters, request budgets, project counts and the per-user build claim
// limit, run against every Store implementation (sqlite and Postgres) like store.contract.ts.

import { describe, expect, test } from "bun:test";
import { settings } from "./store.contract.ts";
import type { Store } from "./store.ts";

const email = () => `u-${crypto.randomUUID().slice(0, 8)}@example.com`;
const key = (kind: string) => `${kind}:${crypto.randomUUID()}`;
const iso = (ms: number) => new Date(ms).toISOString();

async function userWithProjects(store: Store, n: number) {
  const user = await store.users.create({ email: email(), passwordHash: null });
  const projects = [];
  for (let i = 0; i < n; i++) projects.push(await store.projects.create({ userId: user.id, ...settings() }));
  return { user, projects };
}

async function queue(store: Store, userId: string, projectId: string) {
  return store.deployments.create({
    projectId,
    userId,
    status: "QUEUED",
    target: "production",
    branch: "main",
    commitSha: null,
  });
}

/**
 * `open` returns a migrated store holding no QUEUED deployments of other tests (a claim takes the oldest of all);
 * the cases run in order and leave none behind for the next.
 */
export function limitsContract(name: string, open: () => Promise<Store>): void {
  describe(`limits contract: ${name}`, () => {
    test("request budgets: a new bucket is full, each take spends one, time refills it up to the budget", async () => {
      const store = await open();
      const k = key("read:user");
      const t0 = Date.parse("2030-01-01T00:00:00Z");
      const takes = [];
      for (let i = 0; i < 4; i++) takes.push(await store.rateBuckets.take(k, 3, t0));
      expect(takes.map((t) => t.ok)).toEqual([true, true, true, false]);
      expect(takes.map((t) => Math.round(t.tokens * 1000) / 1000)).toEqual([2, 1, 0, 0]);
      // 3 a minute: one more after 20 s, not before.
      expect((await store.rateBuckets.take(k, 3, t0 + 19_000)).ok).toBe(false);
      expect((await store.rateBuckets.take(k, 3, t0 + 20_500)).ok).toBe(true);
      // A long pause refills it to the budget, never past it.
      const later = await store.rateBuckets.take(k, 3, t0 + 3_600_000);
      expect([later.ok, Math.round(later.tokens)]).toEqual([true, 2]);
      // Another key has its own bucket; a clock behind the last request refills nothing.
      expect((await store.rateBuckets.take(key("read:user"), 3, t0)).ok).toBe(true);
    });

    test("request budgets: concurrent takes never spend more than the budget", async () => {
      const store = await open();
      const k = key("write:user");
      const t0 = Date.parse("2030-01-01T00:00:00Z");
      const takes = await Promise.all(Array.from({ length: 12 }, () => store.rateBuckets.take(k, 5, t0)));
      expect(takes.filter((t) => t.ok).length).toBe(5);
    });

    test("request budgets: buckets idle for a minute are pruned, busy ones stay", async () => {
      const store = await open();
      const [idle, busy] = [key("ip"), key("ip")];
      const t0 = Date.parse("2031-01-01T00:00:00Z");
      await store.rateBuckets.take(idle, 10, t0);
      await store.rateBuckets.take(busy, 10, t0 + 61_000);
      expect(await store.rateBuckets.prune(t0 + 1000)).toBeGreaterThanOrEqual(1);
      // The busy one kept its spending: 8 left after a second take.
      expect(Math.round((await store.rateBuckets.take(busy, 10, t0 + 61_000)).tokens)).toBe(8);
    });

    test("failures count up, and start again once older than the window", async () => {
      const store = await open();
      const k = key("account");
      const t0 = Date.parse("2030-01-01T00:00:00Z");
      expect(await store.loginAttempts.fail(k, iso(t0), iso(t0 - 1000))).toBe(1);
      expect(await store.loginAttempts.fail(k, iso(t0 + 1), iso(t0 - 1000))).toBe(2);
      expect(await store.loginAttempts.fail(k, iso(t0 + 2), iso(t0 - 1000))).toBe(3);
      // The last failure is before the window start: forgotten, the count restarts.
      expect(await store.loginAttempts.fail(k, iso(t0 + 10_000), iso(t0 + 5000))).toBe(1);
    });

    test("concurrent failures of one key all count", async () => {
      const store = await open();
      const k = key("ip");
      const at = iso(Date.now());
      const counts = await Promise.all(
        Array.from({ length: 10 }, () => store.loginAttempts.fail(k, at, iso(0))),
      );
      expect(counts.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    });

    test("a lock holds until its time, only grows, and reset forgets it", async () => {
      const store = await open();
      const [a, b, other] = [key("account"), key("ip"), key("ip")];
      const t0 = Date.parse("2030-01-01T00:00:00Z");
      await store.loginAttempts.fail(a, iso(t0), iso(0));
      await store.loginAttempts.fail(b, iso(t0), iso(0));
      expect(await store.loginAttempts.lockedUntil([a, b], iso(t0))).toBeNull();
      await store.loginAttempts.lock(a, iso(t0 + 30_000));
      await store.loginAttempts.lock(b, iso(t0 + 60_000));
      // A shorter lock does not shorten a longer one.
      await store.loginAttempts.lock(b, iso(t0 + 10_000));
      expect(await store.loginAttempts.lockedUntil([a, b, other], iso(t0))).toBe(iso(t0 + 60_000));
      expect(await store.loginAttempts.lockedUntil([a], iso(t0))).toBe(iso(t0 + 30_000));
      expect(await store.loginAttempts.lockedUntil([other], iso(t0))).toBeNull();
      expect(await store.loginAttempts.lockedUntil([a], iso(t0 + 30_000))).toBeNull();
      expect(await store.loginAttempts.lockedUntil([], iso(t0))).toBeNull();
      await store.loginAttempts.reset(b);
      expect(await store.loginAttempts.lockedUntil([b], iso(t0))).toBeNull();
      expect(await store.loginAttempts.fail(b, iso(t0 + 1), iso(0))).toBe(1);
    });

    test("prune deletes old counters but keeps locks in force", async () => {
      const store = await open();
      const [old, locked, recent] = [key("ip"), key("ip"), key("ip")];
      const t0 = Date.parse("2031-01-01T00:00:00Z");
      await store.loginAttempts.fail(old, iso(t0 - 3600_000), iso(0));
      await store.loginAttempts.fail(old, iso(t0 - 3600_000), iso(0));
      await store.loginAttempts.fail(locked, iso(t0 - 3600_000), iso(0));
      await store.loginAttempts.lock(locked, iso(t0 + 60_000));
      await store.loginAttempts.fail(recent, iso(t0), iso(0));
      expect(await store.loginAttempts.prune(iso(t0 - 60_000), iso(t0))).toBeGreaterThanOrEqual(1);
      // `old` is gone: its next failure is the first again; the others keep counting.
      expect(await store.loginAttempts.fail(old, iso(t0), iso(0))).toBe(1);
      expect(await store.loginAttempts.fail(locked, iso(t0), iso(0))).toBe(2);
      expect(await store.loginAttempts.fail(recent, iso(t0), iso(0))).toBe(2);
    });

    test("projects.count counts a user's own projects only", async () => {
      const store = await open();
      const { user } = await userWithProjects(store, 3);
      const { user: other } = await userWithProjects(store, 1);
      expect(await store.projects.count(user.id)).toBe(3);
      expect(await store.projects.count(other.id)).toBe(1);
      expect(await store.projects.count(crypto.randomUUID())).toBe(0);
    });

    test("projects.create with maxPerUser takes exactly the free places, even when racing", async () => {
      const store = await open();
      const { user } = await userWithProjects(store, 1);
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, () => store.projects.create({ userId: user.id, ...settings() }, 3)),
      );
      expect(results.filter((r) => r.status === "fulfilled").length).toBe(2);
      for (const r of results) {
        if (r.status === "rejected") expect(r.reason).toMatchObject({ code: "project_limit", status: 409 });
      }
      expect(await store.projects.count(user.id)).toBe(3);
      // 0: no limit.
      await store.projects.create({ userId: user.id, ...settings() }, 0);
      expect(await store.projects.count(user.id)).toBe(4);
    });

    test("projects.count and maxPerUser are per scope: personal projects for the user, team ones for the team", async () => {
      const store = await open();
      const { user: ann } = await userWithProjects(store, 2);
      const ben = await store.users.create({ email: email(), passwordHash: null });
      const team = await store.teams.create({
        slug: `t-${crypto.randomUUID().slice(0, 8)}`,
        name: "T",
        ownerId: ann.id,
      });
      const inTeam = (userId: string) => store.projects.create({ userId, teamId: team.id, ...settings() }, 3);
      // Ann's team projects are the team's, not hers: her personal places stay as they were.
      await inTeam(ann.id);
      await inTeam(ann.id);
      expect(await store.projects.count(ann.id)).toBe(2);
      expect(await store.projects.count(ann.id, team.id)).toBe(2);
      await store.projects.create({ userId: ann.id, ...settings() }, 3);
      await expect(store.projects.create({ userId: ann.id, ...settings() }, 3)).rejects.toMatchObject({
        code: "project_limit",
      });
      // The team's third place goes to whoever creates it; then it is full for every member.
      await inTeam(ben.id);
      await expect(inTeam(ann.id)).rejects.toMatchObject({
        code: "project_limit",
        message: "the team has reached the limit of 3 projects; delete one to make room",
      });
      expect(await store.projects.count(ben.id)).toBe(0);
      expect(await store.projects.count(ben.id, team.id)).toBe(3);
      const racing = await Promise.allSettled(
        Array.from({ length: 4 }, () => store.projects.create({ userId: ben.id, ...settings() }, 3)),
      );
      expect(racing.filter((r) => r.status === "fulfilled").length).toBe(3);
      // A transfer needs a place where it goes: the team is full; once a place is free, racing moves take just it.
      const personal = await store.projects.create({ userId: ann.id, ...settings() }, 0);
      await expect(
        store.projects.transfer(personal.id, { teamId: team.id, userId: ann.id }, 3),
      ).rejects.toMatchObject({ code: "project_limit" });
      const [gone] = (await store.projects.list(ann.id, { limit: 1, cursor: null }, team.id)).items;
      expect(await store.projects.delete(ann.id, gone?.id ?? "")).toBe(true);
      const mine = (await store.projects.list(ann.id, { limit: 10, cursor: null })).items;
      const moves = await Promise.allSettled(
        mine.map((p) => store.projects.transfer(p.id, { teamId: team.id, userId: ann.id }, 3)),
      );
      expect(moves.filter((r) => r.status === "fulfilled").length).toBe(1);
      expect(await store.projects.count(ann.id, team.id)).toBe(3);
    });

    test("claimNext with maxPerUser leaves a busy user's builds QUEUED and serves others first", async () => {
      const store = await open();
      const { user: busy, projects } = await userWithProjects(store, 3);
      const {
        user: other,
        projects: [otherProject],
      } = await userWithProjects(store, 1);
      if (!otherProject) throw new Error("no project");
      const mine = [];
      for (const p of projects) mine.push(await queue(store, busy.id, p.id));
      await Bun.sleep(5); // strictly newer than all of the busy user's
      const theirs = await queue(store, other.id, otherProject.id);

      const claimed: string[] = [];
      for (let i = 0; i < 5; i++) {
        const next = await store.deployments.claimNext("w", new Date().toISOString(), 2);
        if (next) claimed.push(next.deployment.id);
      }
      // Two of the busy user's (any two: they may share a millisecond), and the other user's though it is newer.
      expect(claimed.length).toBe(3);
      expect(claimed).toContain(theirs.id);
      const waiting = mine.filter((d) => !claimed.includes(d.id));
      expect(waiting.length).toBe(1);
      expect((await store.deployments.find(waiting[0]?.id ?? ""))?.status).toBe("QUEUED");

      // One of the busy user's builds ends: the waiting one goes next.
      await store.deployments.transition(claimed[0] ?? "", "FAIL", "done");
      const next = await store.deployments.claimNext("w", new Date().toISOString(), 2);
      expect(next?.deployment.id).toBe(waiting[0]?.id);
      // Without a limit (0) nothing is held back.
      expect(await store.deployments.claimNext("w", new Date().toISOString(), 0)).toBeNull();
    });

    test("concurrent claims never run more than maxPerUser builds of one user", async () => {
      const store = await open();
      const { user, projects } = await userWithProjects(store, 6);
      for (const p of projects) await queue(store, user.id, p.id);
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          store.deployments.claimNext(`w${i}`, new Date().toISOString(), 2),
        ),
      );
      expect(results.filter((r) => r !== null).length).toBeLessThanOrEqual(2);
      // Claims that lost a race simply come back: the limit is reached, never passed.
      while (await store.deployments.claimNext("w", new Date().toISOString(), 2));
      const states = await Promise.all(
        projects.map(
          async (p) => (await store.deployments.list(user.id, p.id, { limit: 1, cursor: null })).items,
        ),
      );
      const running = states.flat().filter((d) => d.status === "IN_PROGRESS");
      expect(running.length).toBe(2);
    });
  });
}

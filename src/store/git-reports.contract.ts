// Commit statuses and pull-request comments, store contract: the provider setting per project, the outbox's
// upsert (newer state replaces, same state or an older deployment's is a no-op), exclusive leased claims, a send
// that raced a change, and retries; run against every Store implementation like store.contract.ts.

import { describe, expect, test } from "bun:test";
import { storeProject as project } from "../testing/store-project.ts";
import type { Store } from "./store.ts";

const at = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();

export function gitReportsContract(name: string, open: () => Promise<Store>): void {
  describe(`git reports contract: ${name}`, () => {
    test("a project holds one provider setting, replaced by the next, gone with the project", async () => {
      const store = await open();
      const p = await project(store);
      expect(await store.gitReports.provider(p.id)).toBeNull();
      const setting = {
        projectId: p.id,
        kind: "github" as const,
        apiUrl: "https://api.github.com",
        repository: null,
        tokenSealed: "sealed-1",
        tokenHint: "abcd",
      };
      await store.gitReports.setProvider(setting);
      const replaced = await store.gitReports.setProvider({
        ...setting,
        kind: "gitea",
        apiUrl: "https://gitea.example.com/api/v1",
        repository: "octo/site",
        tokenSealed: "sealed-2",
      });
      expect(replaced).toMatchObject({ kind: "gitea", repository: "octo/site", tokenSealed: "sealed-2" });
      expect(await store.gitReports.provider(p.id)).toMatchObject({ kind: "gitea", tokenHint: "abcd" });
      await store.gitReports.upsert({
        projectId: p.id,
        kind: "status",
        subject: "a".repeat(40),
        deploymentId: "d-1",
        deploymentCreatedAt: at(0),
        state: "pending",
        now: at(0),
      });
      expect(await store.gitReports.deleteProvider(p.id)).toBe(true);
      expect(await store.gitReports.deleteProvider(p.id)).toBe(false);
      // Its reports go with it: nothing is sent with a token that is gone.
      expect(await store.gitReports.list(p.id, 10)).toEqual([]);
      await store.gitReports.setProvider(setting);
      await store.projects.delete(p.userId, p.id);
      expect(await store.gitReports.provider(p.id)).toBeNull();
    });

    test("upsert: a new state queues, the same one or an older deployment's does not", async () => {
      const store = await open();
      const p = await project(store);
      const sha = crypto.randomUUID().replaceAll("-", "");
      const base = { projectId: p.id, kind: "status" as const, subject: sha, now: at(0) };
      const older = { deploymentId: "d-1", deploymentCreatedAt: at(-10_000) };
      const newer = { deploymentId: "d-2", deploymentCreatedAt: at(-5_000) };
      expect(await store.gitReports.upsert({ ...base, ...older, state: "pending" })).toBe(true);
      expect(await store.gitReports.upsert({ ...base, ...older, state: "pending" })).toBe(false);
      expect(await store.gitReports.upsert({ ...base, ...older, state: "running" })).toBe(true);
      expect(await store.gitReports.upsert({ ...base, ...newer, state: "pending" })).toBe(true);
      // The older one, superseded, ends after the newer started: the commit keeps the newer's state.
      expect(await store.gitReports.upsert({ ...base, ...older, state: "canceled" })).toBe(false);
      const [row] = await store.gitReports.list(p.id, 10);
      expect(row).toMatchObject({ deploymentId: "d-2", state: "pending", status: "pending", version: 3 });
    });

    test("one claim holds a report; a send that raced a change leaves it pending; retries and failure", async () => {
      const store = await open();
      const p = await project(store);
      const base = { projectId: p.id, kind: "comment" as const, subject: `b-${crypto.randomUUID()}` };
      const d = { deploymentId: "d-1", deploymentCreatedAt: at(-1000) };
      await store.gitReports.upsert({ ...base, ...d, state: "success", now: at(0) });
      const claims = await Promise.all(
        ["w1", "w2", "w3"].map((w) => store.gitReports.claimDue(w, at(1), at(60_000), 100)),
      );
      const mine = claims.flat().filter((r) => r.subject === base.subject);
      expect(mine).toHaveLength(1);
      const claimed = mine[0];
      if (!claimed) throw new Error("unreachable");
      // A newer state arrives while it is being sent.
      await store.gitReports.upsert({ ...base, ...d, state: "failure", now: at(0) });
      expect(
        await store.gitReports.finish(
          claimed.id,
          "not-the-holder",
          claimed.version,
          { kind: "delivered" },
          null,
          at(0),
        ),
      ).toBe(false);
      const holder = ["w1", "w2", "w3"][claims.findIndex((c) => c.some((r) => r.id === claimed.id))] ?? "";
      expect(
        await store.gitReports.finish(
          claimed.id,
          holder,
          claimed.version,
          { kind: "delivered" },
          null,
          at(0),
        ),
      ).toBe(true);
      const again = (await store.gitReports.claimDue("w4", at(2), at(60_000), 100)).find(
        (r) => r.id === claimed.id,
      );
      expect(again).toMatchObject({ state: "failure", status: "pending", attempts: 0 });
      if (!again) throw new Error("unreachable");
      await store.gitReports.finish(
        again.id,
        "w4",
        again.version,
        { kind: "retry", at: at(60_000) },
        "down",
        at(0),
      );
      expect((await store.gitReports.list(p.id, 5))[0]).toMatchObject({ attempts: 1, lastError: "down" });
      expect(
        (await store.gitReports.claimDue("w5", at(3), at(60_000), 100)).some((r) => r.id === again.id),
      ).toBe(false);
      const later = (await store.gitReports.claimDue("w5", at(61_000), at(120_000), 100)).find(
        (r) => r.id === again.id,
      );
      if (!later) throw new Error("the retry was not due");
      await store.gitReports.finish(later.id, "w5", later.version, { kind: "failed" }, "still down", at(0));
      expect((await store.gitReports.list(p.id, 5))[0]).toMatchObject({ status: "failed", attempts: 2 });
      expect(await store.gitReports.prune(at(1000))).toBeGreaterThanOrEqual(1);
      expect(await store.gitReports.list(p.id, 5)).toEqual([]);
    });
  });
}

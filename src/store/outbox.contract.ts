// The shared outbox's store contract (outbox.ts), written once and run for each of its uses (outgoing webhooks'
// deliveries, commit statuses and pull-request comments) against every Store implementation: exclusive leased
// claims, a lease that ends, only the holder settles, retries due at their time with attempts counted, delivered
// and failed rows never claimed again, and pruning of finished rows only.

import { describe, expect, test } from "bun:test";
import { storeProject } from "../testing/store-project.ts";
import type { OutboxOutcome, OutboxStatus } from "./outbox.ts";
import type { Store } from "./store.ts";

/** One use of the outbox as the contract drives it, through that use's own port. */
export interface OutboxContractUse<T extends { id: string; attempts: number }> {
  name: string;
  /** Queues one row (of a new project), due and dated at `due`; its id. */
  queue(store: Store, due: string): Promise<string>;
  claimDue(store: Store, holder: string, now: string, until: string, limit: number): Promise<T[]>;
  settle(store: Store, row: T, holder: string, outcome: OutboxOutcome, now: string): Promise<boolean>;
  /** The row as stored, null when it is gone. */
  read(store: Store, id: string): Promise<{ status: OutboxStatus; attempts: number } | null>;
  prune(store: Store, before: string): Promise<number>;
}

/** Outgoing webhooks' deliveries: one per event to a subscribed hook. */
export function deliveriesUse(): OutboxContractUse<
  Awaited<ReturnType<Store["outgoingHooks"]["claimDue"]>>[number]
> {
  const hookOf = new Map<string, string>();
  return {
    name: "outgoing webhook deliveries",
    async queue(store, due) {
      const p = await storeProject(store);
      const hook = await store.outgoingHooks.create({
        projectId: p.id,
        url: "https://example.com/hook",
        events: ["deployment.ready"],
        format: "standard",
        secretSealed: "s",
      });
      await store.outgoingHooks.enqueue(p.id, "deployment.ready", "{}", due);
      const [delivery] = await store.outgoingHooks.deliveries(hook.id, 1);
      if (!delivery) throw new Error("nothing queued");
      hookOf.set(delivery.id, hook.id);
      return delivery.id;
    },
    claimDue: (store, holder, now, until, limit) => store.outgoingHooks.claimDue(holder, now, until, limit),
    settle: (store, row, holder, outcome, now) =>
      store.outgoingHooks.recordAttempt(
        row.id,
        holder,
        { at: now, statusCode: 500, error: null, durationMs: 1 },
        outcome,
      ),
    async read(store, id) {
      const deliveries = await store.outgoingHooks.deliveries(hookOf.get(id) ?? "", 10);
      return deliveries.find((d) => d.id === id) ?? null;
    },
    prune: (store, before) => store.outgoingHooks.prune(before),
  };
}

/** Commit statuses and pull-request comments: one row per commit or branch. */
export function reportsUse(): OutboxContractUse<
  Awaited<ReturnType<Store["gitReports"]["claimDue"]>>[number]
> {
  const projectOf = new Map<string, string>();
  return {
    name: "git reports",
    async queue(store, due) {
      const p = await storeProject(store);
      await store.gitReports.upsert({
        projectId: p.id,
        kind: "status",
        subject: crypto.randomUUID().replaceAll("-", ""),
        deploymentId: crypto.randomUUID(),
        deploymentCreatedAt: due,
        state: "running",
        now: due,
      });
      const [report] = await store.gitReports.list(p.id, 1);
      if (!report) throw new Error("nothing queued");
      projectOf.set(report.id, p.id);
      return report.id;
    },
    claimDue: (store, holder, now, until, limit) => store.gitReports.claimDue(holder, now, until, limit),
    settle: (store, row, holder, outcome, now) =>
      store.gitReports.finish(
        row.id,
        holder,
        row.version,
        outcome,
        outcome.kind === "delivered" ? null : "down",
        now,
      ),
    async read(store, id) {
      const reports = await store.gitReports.list(projectOf.get(id) ?? "", 10);
      return reports.find((r) => r.id === id) ?? null;
    },
    prune: (store, before) => store.gitReports.prune(before),
  };
}

const at = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();
const HOLDERS = ["w1", "w2", "w3", "w4"];
/** Claims take all that is due (a shared store holds other tests' rows too). */
const ALL = 1000;

export function outboxContract<T extends { id: string; attempts: number }>(
  name: string,
  open: () => Promise<Store>,
  use: OutboxContractUse<T>,
): void {
  describe(`outbox contract (${use.name}): ${name}`, () => {
    test("concurrent claims: exactly one holds a due row, until its lease ends", async () => {
      const store = await open();
      const id = await use.queue(store, at(0));
      const claims = await Promise.all(HOLDERS.map((w) => use.claimDue(store, w, at(1), at(60_000), ALL)));
      expect(claims.flat().filter((r) => r.id === id)).toHaveLength(1);
      const held = async (now: string) =>
        (await use.claimDue(store, "w5", now, at(120_000), ALL)).some((r) => r.id === id);
      expect(await held(at(2))).toBe(false);
      // The holder died: after the lease, another takes it.
      expect(await held(at(61_000))).toBe(true);
    });

    test("only the holder settles; a retry is due at its time, counted; delivered is final", async () => {
      const store = await open();
      const id = await use.queue(store, at(0));
      const [row] = (await use.claimDue(store, "w1", at(1), at(60_000), ALL)).filter((r) => r.id === id);
      if (!row) throw new Error("not claimed");
      expect(await use.settle(store, row, "not-the-holder", { kind: "delivered" }, at(1))).toBe(false);
      expect(await use.read(store, id)).toMatchObject({ status: "pending", attempts: 0 });
      expect(await use.settle(store, row, "w1", { kind: "retry", at: at(30_000) }, at(1))).toBe(true);
      expect(await use.read(store, id)).toMatchObject({ status: "pending", attempts: 1 });
      // Settling released the lease: the holder cannot settle it twice.
      expect(await use.settle(store, row, "w1", { kind: "delivered" }, at(1))).toBe(false);
      const claim = async (holder: string, now: string) =>
        (await use.claimDue(store, holder, now, at(120_000), ALL)).filter((r) => r.id === id);
      expect(await claim("w2", at(1000))).toEqual([]);
      const [again] = await claim("w2", at(31_000));
      expect(again?.attempts).toBe(1);
      if (!again) throw new Error("the retry was not due");
      expect(await use.settle(store, again, "w2", { kind: "delivered" }, at(31_000))).toBe(true);
      expect(await use.read(store, id)).toMatchObject({ status: "delivered", attempts: 2 });
      expect(await claim("w3", at(600_000))).toEqual([]);
    });

    test("failed is final; prune drops finished rows dated before the cut, never pending ones", async () => {
      const store = await open();
      const old = new Date(Date.now() - 40 * 86_400_000).toISOString();
      const [failed, delivered, retried, recent] = [
        await use.queue(store, old),
        await use.queue(store, old),
        await use.queue(store, old),
        await use.queue(store, at(0)),
      ];
      const claimed = await use.claimDue(store, "w", at(1), at(60_000), ALL);
      const settle = async (id: string, outcome: OutboxOutcome, now: string) => {
        const row = claimed.find((r) => r.id === id);
        if (!row) throw new Error("not claimed");
        expect(await use.settle(store, row, "w", outcome, now)).toBe(true);
      };
      await settle(failed, { kind: "failed" }, old);
      await settle(delivered, { kind: "delivered" }, old);
      await settle(retried, { kind: "retry", at: old }, old);
      await settle(recent, { kind: "delivered" }, at(1));
      expect(await use.read(store, failed)).toMatchObject({ status: "failed", attempts: 1 });
      const again = await use.claimDue(store, "w2", at(2), at(60_000), ALL);
      expect(again.some((r) => r.id === failed)).toBe(false);
      // The retry is due again (its time has come): pending, whatever its age.
      expect(again.some((r) => r.id === retried)).toBe(true);
      expect(
        await use.prune(store, new Date(Date.now() - 30 * 86_400_000).toISOString()),
      ).toBeGreaterThanOrEqual(2);
      expect(await use.read(store, failed)).toBeNull();
      expect(await use.read(store, delivered)).toBeNull();
      expect(await use.read(store, retried)).toMatchObject({ status: "pending" });
      expect(await use.read(store, recent)).toMatchObject({ status: "delivered" });
    });
  });
}

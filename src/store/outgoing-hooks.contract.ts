// Outgoing webhooks, store contract: hooks per project, the outbox (one delivery per subscribed hook), exclusive
// leased claims, the attempt log and redelivery; run against every Store implementation like store.contract.ts.

import { describe, expect, test } from "bun:test";
import { storeProject as project } from "../testing/store-project.ts";
import type { Store } from "./store.ts";

const at = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();

export function outgoingHooksContract(name: string, open: () => Promise<Store>): void {
  describe(`outgoing hooks contract: ${name}`, () => {
    test("hooks are listed without their secret, per project, and go with the project", async () => {
      const store = await open();
      const [a, b] = [await project(store), await project(store)];
      const hook = await store.outgoingHooks.create({
        projectId: a.id,
        url: "https://example.com/hook",
        events: ["deployment.ready", "deployment.failed"],
        format: "standard",
        secretSealed: "sealed-secret",
      });
      expect(hook.events).toEqual(["deployment.ready", "deployment.failed"]);
      expect(JSON.stringify(await store.outgoingHooks.list(a.id))).not.toContain("sealed-secret");
      expect((await store.outgoingHooks.list(a.id)).map((h) => h.id)).toEqual([hook.id]);
      expect(await store.outgoingHooks.list(b.id)).toEqual([]);
      expect(await store.outgoingHooks.get(b.id, hook.id)).toBeNull();
      expect(await store.outgoingHooks.delete(b.id, hook.id)).toBe(false);
      await store.projects.delete(a.userId, a.id);
      expect(await store.outgoingHooks.list(a.id)).toEqual([]);
    });

    test("an event is queued for subscribed hooks only; one claim holds it until the lease ends", async () => {
      const store = await open();
      const p = await project(store);
      const ready = await store.outgoingHooks.create({
        projectId: p.id,
        url: "https://example.com/a",
        events: ["deployment.ready"],
        format: "slack",
        secretSealed: "s1",
      });
      await store.outgoingHooks.create({
        projectId: p.id,
        url: "https://example.com/b",
        events: ["deployment.failed"],
        format: "standard",
        secretSealed: "s2",
      });
      const payload = JSON.stringify({ type: "deployment.ready", marker: crypto.randomUUID() });
      expect(await store.outgoingHooks.enqueue(p.id, "deployment.ready", payload, at(0))).toBe(1);
      // Concurrent claims: exactly one dispatcher gets it.
      const claims = await Promise.all(
        ["w1", "w2", "w3", "w4"].map((w) => store.outgoingHooks.claimDue(w, at(1), at(60_000), 100)),
      );
      const mine = claims.flat().filter((c) => c.payload === payload);
      expect(mine).toHaveLength(1);
      const claimed = mine[0];
      if (!claimed) throw new Error("not claimed");
      expect(claimed.url).toBe(ready.url);
      expect(claimed.format).toBe("slack");
      expect(claimed.secretSealed).toBe("s1");
      const holder =
        ["w1", "w2", "w3", "w4"][claims.findIndex((c) => c.some((d) => d.id === claimed.id))] ?? "";
      // Held: nobody else gets it before the lease ends; after it, another may (a dispatcher died).
      expect(
        (await store.outgoingHooks.claimDue("w5", at(2), at(60_000), 100)).some((d) => d.id === claimed.id),
      ).toBe(false);
      const late = await store.outgoingHooks.claimDue("w6", at(61_000), at(120_000), 100);
      expect(late.some((d) => d.id === claimed.id)).toBe(true);
      // The first holder lost it: its attempt is not recorded.
      const attempt = { at: at(0), statusCode: 500, error: null, durationMs: 12 };
      expect(await store.outgoingHooks.recordAttempt(claimed.id, holder, attempt, { kind: "failed" })).toBe(
        false,
      );
      expect(
        await store.outgoingHooks.recordAttempt(claimed.id, "w6", attempt, { kind: "retry", at: at(30_000) }),
      ).toBe(true);
      // Not due before its retry time.
      expect(
        (await store.outgoingHooks.claimDue("w7", at(1000), at(60_000), 100)).some(
          (d) => d.id === claimed.id,
        ),
      ).toBe(false);
      const again = await store.outgoingHooks.claimDue("w7", at(31_000), at(60_000), 100);
      expect(again.find((d) => d.id === claimed.id)?.attempts).toBe(1);
      const ok = { at: at(31_000), statusCode: 204, error: null, durationMs: 5 };
      expect(await store.outgoingHooks.recordAttempt(claimed.id, "w7", ok, { kind: "delivered" })).toBe(true);
      const [logged] = await store.outgoingHooks.deliveries(ready.id, 10);
      expect(logged?.status).toBe("delivered");
      expect(logged?.attempts).toBe(2);
      expect(logged?.log.map((a) => a.statusCode)).toEqual([500, 204]);
      expect(logged?.log[0]?.durationMs).toBe(12);
    });

    test("a failed delivery is redelivered on request; another hook's id does not reach it", async () => {
      const store = await open();
      const p = await project(store);
      const hook = await store.outgoingHooks.create({
        projectId: p.id,
        url: "https://example.com/c",
        events: ["deployment.promoted"],
        format: "discord",
        secretSealed: "s",
      });
      await store.outgoingHooks.enqueue(p.id, "deployment.promoted", "{}", at(0));
      const [claimed] = (await store.outgoingHooks.claimDue("w", at(1), at(60_000), 1000)).filter(
        (d) => d.hookId === hook.id,
      );
      if (!claimed) throw new Error("not claimed");
      const refused = { at: at(1), statusCode: null, error: "connection refused", durationMs: 1 };
      await store.outgoingHooks.recordAttempt(claimed.id, "w", refused, { kind: "failed" });
      expect((await store.outgoingHooks.deliveries(hook.id, 10))[0]?.log[0]?.error).toBe(
        "connection refused",
      );
      expect(await store.outgoingHooks.redeliver(crypto.randomUUID(), claimed.id, at(2))).toBeNull();
      const again = await store.outgoingHooks.redeliver(hook.id, claimed.id, at(2));
      expect(again?.status).toBe("pending");
      expect(again?.attempts).toBe(0);
      const reclaimed = await store.outgoingHooks.claimDue("w", at(3), at(60_000), 1000);
      expect(reclaimed.some((d) => d.id === claimed.id)).toBe(true);
    });

    test("prune drops finished deliveries older than the cut, never pending ones", async () => {
      const store = await open();
      const p = await project(store);
      const hook = await store.outgoingHooks.create({
        projectId: p.id,
        url: "https://example.com/d",
        events: ["deployment.created"],
        format: "standard",
        secretSealed: "s",
      });
      const old = new Date(Date.now() - 40 * 86_400_000).toISOString();
      await store.outgoingHooks.enqueue(p.id, "deployment.created", '{"n":1}', old);
      await store.outgoingHooks.enqueue(p.id, "deployment.created", '{"n":2}', old);
      await store.outgoingHooks.enqueue(p.id, "deployment.created", '{"n":3}', at(0));
      const claimed = (await store.outgoingHooks.claimDue("w", at(1), at(60_000), 1000)).filter(
        (d) => d.hookId === hook.id,
      );
      const sent = { at: at(1), statusCode: 200, error: null, durationMs: 3 };
      // The first old one and the new one delivered; the second old one still pending.
      for (const d of claimed.filter((c) => c.payload !== '{"n":2}'))
        await store.outgoingHooks.recordAttempt(d.id, "w", sent, { kind: "delivered" });
      for (const d of claimed.filter((c) => c.payload === '{"n":2}'))
        await store.outgoingHooks.recordAttempt(d.id, "w", sent, { kind: "retry", at: at(60_000) });
      expect(
        await store.outgoingHooks.prune(new Date(Date.now() - 30 * 86_400_000).toISOString()),
      ).toBeGreaterThanOrEqual(1);
      expect((await store.outgoingHooks.deliveries(hook.id, 10)).map((d) => d.payload).sort()).toEqual([
        '{"n":2}',
        '{"n":3}',
      ]);
    });
  });
}

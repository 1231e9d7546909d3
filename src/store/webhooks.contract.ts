// Incoming git webhooks, store contract: the delivery log per project, the first secret, duplicates by id or body; run
// against every Store implementation like store.contract.ts.

import { describe, expect, test } from "bun:test";
import { settings } from "./store.contract.ts";
import type { Store } from "./store.ts";

const email = () => `u-${crypto.randomUUID().slice(0, 8)}@example.com`;
/** A random sha256-shaped hex string (a webhook body's digest). */
const hex = () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");

/** `open` returns a freshly migrated store; each case uses its own users so stores can be shared. */
export function webhooksContract(name: string, open: () => Promise<Store>): void {
  describe(`webhooks contract: ${name}`, () => {
    test("webhooks: the log of deliveries keeps the newest few per project, newest first; gone with the project", async () => {
      const store = await open();
      const user = await store.users.create({ email: email(), passwordHash: null });
      const project = await store.projects.create({ userId: user.id, ...settings() });
      const other = await store.projects.create({ userId: user.id, ...settings() });
      for (let i = 1; i <= 5; i++) {
        await store.webhooks.logDelivery(
          project.id,
          {
            provider: "github",
            event: i === 5 ? null : "push",
            status: i === 4 ? 401 : 202,
            outcome: `delivery <${i}>`,
            deploymentIds: i === 5 ? [] : [`d-${i}`, `e-${i}`],
          },
          3,
        );
        await Bun.sleep(2);
      }
      await store.webhooks.logDelivery(
        other.id,
        { provider: "gitlab", event: "Push Hook", status: 200, outcome: "other", deploymentIds: [] },
        3,
      );
      const recent = await store.webhooks.recentDeliveries(project.id, 10);
      expect(recent.map((e) => e.outcome)).toEqual(["delivery <5>", "delivery <4>", "delivery <3>"]);
      expect(recent[0]).toMatchObject({ provider: "github", event: null, status: 202, deploymentIds: [] });
      expect(recent[1]).toMatchObject({ event: "push", status: 401, deploymentIds: ["d-4", "e-4"] });
      expect(Date.parse(recent[0]?.receivedAt ?? "")).toBeGreaterThan(
        Date.parse(recent[2]?.receivedAt ?? ""),
      );
      expect((await store.webhooks.recentDeliveries(project.id, 1)).map((e) => e.outcome)).toEqual([
        "delivery <5>",
      ]);
      expect((await store.webhooks.recentDeliveries(other.id, 10)).map((e) => e.outcome)).toEqual(["other"]);
      await store.projects.delete(user.id, project.id);
      expect(await store.webhooks.recentDeliveries(project.id, 10)).toEqual([]);
    });

    test("webhooks: first secret wins; deliveries recorded once per project; gone with the project", async () => {
      const store = await open();
      const user = await store.users.create({ email: email(), passwordHash: null });
      const a = await store.projects.create({ userId: user.id, ...settings() });
      const b = await store.projects.create({ userId: user.id, ...settings() });
      expect(await store.webhooks.secret(a.id)).toBeNull();
      expect(await store.webhooks.initSecret(a.id, "sealed-1")).toBe("sealed-1");
      expect(await store.webhooks.initSecret(a.id, "sealed-2")).toBe("sealed-1");
      expect(await store.webhooks.secret(a.id)).toBe("sealed-1");

      const delivery = { id: crypto.randomUUID(), bodySha256: hex() };
      expect(await store.webhooks.recordDelivery(a.id, delivery)).toBe(true);
      expect(await store.webhooks.recordDelivery(a.id, delivery)).toBe(false);
      expect(await store.webhooks.recordDelivery(b.id, delivery)).toBe(true);
      await store.webhooks.forgetDelivery(a.id, delivery);
      expect(await store.webhooks.recordDelivery(a.id, delivery)).toBe(true);

      expect(await store.projects.delete(user.id, a.id)).toBe(true);
      expect(await store.webhooks.secret(a.id)).toBeNull();
    });

    test("webhooks: a delivery is a duplicate by its id or by its body, and a duplicate records neither", async () => {
      const store = await open();
      const user = await store.users.create({ email: email(), passwordHash: null });
      const { id: projectId } = await store.projects.create({ userId: user.id, ...settings() });
      const record = (id: string | null, bodySha256: string) =>
        store.webhooks.recordDelivery(projectId, { id, bodySha256 });
      const [first, body, other] = [crypto.randomUUID(), hex(), hex()];
      expect(await record(first, body)).toBe(true);
      // The same body under a new id (a replay), and without one (old GitLab).
      const replayId = crypto.randomUUID();
      expect(await record(replayId, body)).toBe(false);
      expect(await record(null, body)).toBe(false);
      // A known id with another body is still the same delivery.
      expect(await record(first, other)).toBe(false);
      // The refused calls left no trace: their id and the other body are free.
      expect(await record(replayId, other)).toBe(true);

      // Without an id the body alone decides, and forgetting frees it again.
      const bare = hex();
      expect(await record(null, bare)).toBe(true);
      expect(await record(null, bare)).toBe(false);
      await store.webhooks.forgetDelivery(projectId, { id: null, bodySha256: bare });
      expect(await record(null, bare)).toBe(true);
      // Forgetting frees both keys of a failed delivery.
      await store.webhooks.forgetDelivery(projectId, { id: first, bodySha256: body });
      expect(await record(null, body)).toBe(true);
      expect(await record(first, hex())).toBe(true);

      // Concurrent replays of one body under different ids: exactly one acts.
      const racing = hex();
      const results = await Promise.all(Array.from({ length: 6 }, () => record(crypto.randomUUID(), racing)));
      expect(results.filter(Boolean).length).toBe(1);
    });
  });
}

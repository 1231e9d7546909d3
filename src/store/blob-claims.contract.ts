// Scoped uploads, store contract: claims per scope, answered only for that scope, forgotten with their blob;
// run against every Store implementation (sqlite and Postgres) like store.contract.ts.

import { describe, expect, test } from "bun:test";
import type { Store } from "./store.ts";

const hash = () => new Bun.CryptoHasher("sha256").update(crypto.randomUUID()).digest("hex");

async function account(store: Store) {
  const user = await store.users.create({
    email: `u-${crypto.randomUUID().slice(0, 8)}@example.com`,
    passwordHash: null,
  });
  return user.id;
}

export function blobClaimsContract(name: string, open: () => Promise<Store>): void {
  describe(`blob claims contract: ${name}`, () => {
    test("a claim counts for its own scope only; unclaimed keeps the order given, without repeats", async () => {
      const store = await open();
      const [alice, bob] = [await account(store), await account(store)];
      const [a, b, c] = [hash(), hash(), hash()];
      await store.blobClaims.add(alice, [a, b, a]);
      expect(await store.blobClaims.unclaimed(alice, [c, a, b, c])).toEqual([c]);
      expect(await store.blobClaims.unclaimed(bob, [c, a, b])).toEqual([c, a, b]);
      // Claiming again is harmless.
      await store.blobClaims.add(alice, [a]);
      await store.blobClaims.add(bob, [b]);
      expect(await store.blobClaims.unclaimed(bob, [a, b])).toEqual([a]);
      expect(await store.blobClaims.unclaimed(alice, [])).toEqual([]);
    });

    test("thousands of hashes at once (past any bound-parameter limit)", async () => {
      const store = await open();
      const scope = await account(store);
      const many = Array.from({ length: 2500 }, hash);
      await store.blobClaims.add(scope, many.slice(0, 2000));
      expect(await store.blobClaims.unclaimed(scope, many)).toEqual(many.slice(2000));
    });

    test("forget drops every scope's claim on a deleted blob, except claims made or renewed since", async () => {
      const store = await open();
      const [alice, bob] = [await account(store), await account(store)];
      const [gone, kept] = [hash(), hash()];
      await store.blobClaims.add(alice, [gone, kept]);
      await store.blobClaims.add(bob, [gone]);
      await Bun.sleep(5);
      const deletedAt = new Date();
      await Bun.sleep(5);
      // Carol uploaded the bytes, and bob again, after the collector decided: their claims stay.
      const carol = await account(store);
      await store.blobClaims.add(carol, [gone]);
      await store.blobClaims.add(bob, [gone]);
      await store.blobClaims.forget([gone], deletedAt);
      expect(await store.blobClaims.unclaimed(alice, [gone, kept])).toEqual([gone]);
      expect(await store.blobClaims.unclaimed(bob, [gone])).toEqual([]);
      expect(await store.blobClaims.unclaimed(carol, [gone])).toEqual([]);
    });
  });
}

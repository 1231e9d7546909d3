// Deployment protection, store contract: modes, passwords and bypass tokens per project, and the rules the proxy
// reads; run against every Store implementation (sqlite and Postgres) like store.contract.ts.

import { describe, expect, test } from "bun:test";
import type { Store } from "./store.ts";

const hash = () => new Bun.CryptoHasher("sha256").update(crypto.randomUUID()).digest("hex");

async function project(store: Store, protection?: "none" | "previews" | "all") {
  const user = await store.users.create({
    email: `u-${crypto.randomUUID().slice(0, 8)}@example.com`,
    passwordHash: null,
  });
  const name = `p-${crypto.randomUUID().slice(0, 8)}`;
  return store.projects.create({
    userId: user.id,
    ...(protection && { protection }),
    name,
    subDomain: name,
    gitUrl: null,
    customDomain: null,
    productionBranch: "main",
    rootDirectory: null,
    installCommand: null,
    buildCommand: null,
    startCommand: null,
    idleTimeoutMinutes: null,
    maxInstances: null,
    outputDirectory: null,
    buildTimeoutSeconds: null,
    spaFallback: true,
  });
}

export function protectionContract(name: string, open: () => Promise<Store>): void {
  describe(`protection contract: ${name}`, () => {
    test("a project is unprotected unless created or set otherwise; the mode and password round-trip", async () => {
      const store = await open();
      const plain = await project(store);
      expect(plain.protection).toBe("none");
      expect(plain.protectionPassword).toBe(false);
      const guarded = await project(store, "previews");
      expect(guarded.protection).toBe("previews");
      expect(await store.protection.setMode(plain.id, "all")).toBe(true);
      expect(await store.protection.setPassword(plain.id, "$argon2id$fake")).toBe(true);
      const found = await store.projects.find(plain.id);
      expect(found?.protection).toBe("all");
      expect(found?.protectionPassword).toBe(true);
      expect(await store.protection.setPassword(plain.id, null)).toBe(true);
      expect((await store.projects.find(plain.id))?.protectionPassword).toBe(false);
      expect(await store.protection.setMode(crypto.randomUUID(), "all")).toBe(false);
    });

    test("tokens: listed without their hash, revoked per project, gone with the project", async () => {
      const store = await open();
      const [a, b] = [await project(store, "previews"), await project(store, "previews")];
      const first = await store.protection.addToken({
        projectId: a.id,
        name: "ci",
        prefix: "mvb_abc",
        hash: hash(),
      });
      const second = await store.protection.addToken({
        projectId: a.id,
        name: "qa",
        prefix: "mvb_def",
        hash: hash(),
      });
      // Oldest first; two made within one millisecond come in either order.
      expect((await store.protection.tokens(a.id)).map((t) => t.name).sort()).toEqual(["ci", "qa"]);
      expect(JSON.stringify(await store.protection.tokens(a.id))).not.toContain("hash");
      expect(await store.protection.tokens(b.id)).toEqual([]);
      // Another project's id does not revoke it.
      expect(await store.protection.revokeToken(b.id, first.id)).toBe(false);
      expect(await store.protection.revokeToken(a.id, first.id)).toBe(true);
      expect(await store.protection.revokeToken(a.id, first.id)).toBe(false);
      expect((await store.protection.tokens(a.id)).map((t) => t.id)).toEqual([second.id]);
      await store.projects.delete(a.userId, a.id);
      expect(await store.protection.tokens(a.id)).toEqual([]);
    });

    test("a hand-off nonce is used once; concurrent uses let exactly one through", async () => {
      const store = await open();
      const later = new Date(Date.now() + 60_000);
      const nonce = crypto.randomUUID();
      expect(await store.protection.useHandoff(nonce, later)).toBe(true);
      expect(await store.protection.useHandoff(nonce, later)).toBe(false);
      const raced = crypto.randomUUID();
      const results = await Promise.all(
        Array.from({ length: 8 }, () => store.protection.useHandoff(raced, later)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    test("access rules: protected projects only, with owner, password hash and live token hashes", async () => {
      const store = await open();
      const open_ = await project(store, "none");
      const guarded = await project(store, "all");
      const tokenHash = hash();
      const token = await store.protection.addToken({
        projectId: guarded.id,
        name: "ci",
        prefix: "mvb_x",
        hash: tokenHash,
      });
      await store.protection.addToken({ projectId: open_.id, name: "ci", prefix: "mvb_y", hash: hash() });
      await store.protection.setPassword(guarded.id, "$argon2id$pw");
      const [rule] = await store.protection.access(guarded.id);
      expect(rule?.mode).toBe("all");
      expect(rule?.ownerId).toBe(guarded.userId);
      expect(rule?.passwordHash).toBe("$argon2id$pw");
      expect([...(rule?.bypass ?? [])]).toEqual([[tokenHash, token.id]]);
      expect(await store.protection.access(open_.id)).toEqual([]);
      const all = await store.protection.access();
      expect(all.some((r) => r.projectId === guarded.id)).toBe(true);
      expect(all.some((r) => r.projectId === open_.id)).toBe(false);
    });
  });
}

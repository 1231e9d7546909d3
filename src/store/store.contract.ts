// The store contract: the same cases run against every Store implementation (sqlite and Postgres). This file holds
// migrations, accounts (users, identities, tokens, sessions), projects and the audit log, plus the helpers the topic
// contracts share; deployments, routing and webhooks have contracts of their own beside it.

import { describe, expect, test } from "bun:test";
import { AppError } from "../errors.ts";
import type { ProjectSettings } from "../model/entities.ts";
import type { Store } from "./store.ts";

export function settings(overrides: Partial<ProjectSettings> = {}): ProjectSettings {
  return {
    name: "Site",
    gitUrl: "https://example.com/site.git",
    subDomain: `site-${crypto.randomUUID().slice(0, 8)}`,
    customDomain: null,
    productionBranch: "main",
    rootDirectory: null,
    installCommand: null,
    buildCommand: null,
    outputDirectory: null,
    buildTimeoutSeconds: null,
    spaFallback: true,
    startCommand: null,
    idleTimeoutMinutes: null,
    maxInstances: null,
    ...overrides,
  };
}

const email = () => `u-${crypto.randomUUID().slice(0, 8)}@example.com`;

export async function expectCode(promise: Promise<unknown>, code: AppError["code"]): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe(code);
}

/** `open` returns a freshly migrated store; each case uses its own users so stores can be shared. */
export function storeContract(name: string, open: () => Promise<Store>): void {
  describe(`store contract: ${name}`, () => {
    test("migrate is idempotent", async () => {
      const store = await open();
      expect(await store.migrate()).toEqual([]);
    });

    test("users: create, find, duplicate email refused", async () => {
      const store = await open();
      const address = email();
      const user = await store.users.create({ email: address, passwordHash: "h" });
      expect(user.email).toBe(address);
      expect((await store.users.byEmail(address))?.id).toBe(user.id);
      expect((await store.users.byId(user.id))?.passwordHash).toBe("h");
      expect(await store.users.byEmail("nobody@example.com")).toBeNull();
      await expectCode(store.users.create({ email: address, passwordHash: null }), "conflict");
      expect(await store.users.count()).toBeGreaterThanOrEqual(1);
    });

    test("users: external identities map to one local user", async () => {
      const store = await open();
      const subject = crypto.randomUUID();
      const a = await store.users.upsertExternal({
        issuer: "https://idp.example.com",
        subject,
        email: email(),
      });
      const b = await store.users.upsertExternal({ issuer: "https://idp.example.com", subject, email: null });
      expect(b.id).toBe(a.id);
      const other = await store.users.upsertExternal({
        issuer: "https://other.example.com",
        subject,
        email: a.email,
      });
      expect(other.id).not.toBe(a.id);
      expect(other.email).not.toBe(a.email);
    });

    test("tokens: use records last use, revoke is owner-only", async () => {
      const store = await open();
      const owner = await store.users.create({ email: email(), passwordHash: null });
      const stranger = await store.users.create({ email: email(), passwordHash: null });
      const hash = crypto.randomUUID();
      const token = await store.tokens.create({ userId: owner.id, name: "ci", prefix: "mv_abc", hash });
      expect(token.lastUsedAt).toBeNull();
      const used = await store.tokens.use(hash, "2026-01-02T03:04:05.000Z");
      expect(used?.user.id).toBe(owner.id);
      expect((await store.tokens.list(owner.id))[0]?.lastUsedAt).toBe("2026-01-02T03:04:05.000Z");
      expect(await store.tokens.revoke(stranger.id, token.id)).toBe(false);
      expect(await store.tokens.revoke(owner.id, token.id)).toBe(true);
      expect(await store.tokens.use(hash, "2026-01-02T03:04:06.000Z")).toBeNull();
      expect(await store.tokens.revoke(owner.id, token.id)).toBe(false);
    });

    test("tokens: one with an expiry works until then, and never after", async () => {
      const store = await open();
      const owner = await store.users.create({ email: email(), passwordHash: null });
      const hash = crypto.randomUUID();
      const expiresAt = "2026-06-01T00:00:00.000Z";
      const token = await store.tokens.create({
        userId: owner.id,
        name: "ci",
        prefix: "mv_exp",
        hash,
        expiresAt,
      });
      expect(token.expiresAt).toBe(expiresAt);
      expect(token.revokedAt).toBeNull();
      expect((await store.tokens.use(hash, "2026-05-31T23:59:59.000Z"))?.user.id).toBe(owner.id);
      expect(await store.tokens.use(hash, expiresAt)).toBeNull();
      expect(await store.tokens.use(hash, "2027-01-01T00:00:00.000Z")).toBeNull();
      // The failed uses did not count as uses.
      expect((await store.tokens.list(owner.id))[0]?.lastUsedAt).toBe("2026-05-31T23:59:59.000Z");
      const forever = crypto.randomUUID();
      await store.tokens.create({ userId: owner.id, name: "old", prefix: "mv_old", hash: forever });
      expect((await store.tokens.list(owner.id)).find((t) => t.name === "old")?.expiresAt).toBeNull();
      expect(await store.tokens.use(forever, "2999-01-01T00:00:00.000Z")).not.toBeNull();
    });

    test("sessions: a user's live ones listed, one ended by its owner only, all others ended; passwords replaced", async () => {
      const store = await open();
      const user = await store.users.create({ email: email(), passwordHash: "old-hash" });
      const other = await store.users.create({ email: email(), passwordHash: "h" });
      const external = await store.users.upsertExternal({
        issuer: "https://id.example",
        subject: "s",
        email: null,
      });
      const session = (userId: string, hash: string, expiresAt = "2999-01-01T00:00:00.000Z") =>
        store.sessions.create({ hash, userId, csrfToken: `c-${hash}`, expiresAt });
      const tag = crypto.randomUUID();
      await session(user.id, `a-${tag}`);
      await Bun.sleep(2);
      await session(user.id, `b-${tag}`);
      await session(user.id, `expired-${tag}`, "2000-01-01T00:00:00.000Z");
      await session(other.id, `o-${tag}`);
      const now = new Date().toISOString();
      expect((await store.sessions.list(user.id, now)).map((s) => s.hash)).toEqual([`b-${tag}`, `a-${tag}`]);
      expect((await store.sessions.list(user.id, now))[0]?.session.csrfToken).toBe(`c-b-${tag}`);
      // Another user's session is not theirs to end.
      expect(await store.sessions.deleteOwn(user.id, `o-${tag}`)).toBe(false);
      expect(await store.sessions.get(`o-${tag}`, now)).not.toBeNull();
      expect(await store.sessions.deleteOwn(user.id, `a-${tag}`)).toBe(true);
      await session(user.id, `c-${tag}`);
      expect(await store.sessions.deleteOthers(user.id, `c-${tag}`)).toBe(2);
      expect((await store.sessions.list(user.id, now)).map((s) => s.hash)).toEqual([`c-${tag}`]);
      expect(await store.sessions.get(`o-${tag}`, now)).not.toBeNull();

      expect(await store.users.setPassword(user.id, "new-hash")).toBe(true);
      expect((await store.users.byId(user.id))?.passwordHash).toBe("new-hash");
      expect((await store.users.byId(other.id))?.passwordHash).toBe("h");
      // A user who signs in elsewhere (an external identity) gets no password this way.
      expect(await store.users.setPassword(external.id, "planted")).toBe(false);
      expect((await store.users.byId(external.id))?.passwordHash).toBeNull();
      expect(await store.users.setPassword(crypto.randomUUID(), "x")).toBe(false);
    });

    test("sessions: expire and delete", async () => {
      const store = await open();
      const user = await store.users.create({ email: email(), passwordHash: null });
      const hash = crypto.randomUUID();
      await store.sessions.create({
        hash,
        userId: user.id,
        csrfToken: "c",
        expiresAt: "2030-01-01T00:00:00.000Z",
      });
      expect((await store.sessions.get(hash, "2029-12-31T00:00:00.000Z"))?.user.id).toBe(user.id);
      expect(await store.sessions.get(hash, "2030-01-02T00:00:00.000Z")).toBeNull();
      await store.sessions.delete(hash);
      expect(await store.sessions.get(hash, "2029-12-31T00:00:00.000Z")).toBeNull();
    });

    test("projects: owner scoping on every operation", async () => {
      const store = await open();
      const owner = await store.users.create({ email: email(), passwordHash: null });
      const stranger = await store.users.create({ email: email(), passwordHash: null });
      const project = await store.projects.create({
        userId: owner.id,
        ...settings({ buildTimeoutSeconds: 60 }),
      });
      expect(project.buildTimeoutSeconds).toBe(60);
      expect(project.productionDeploymentId).toBeNull();
      expect((await store.projects.get(owner.id, project.id))?.name).toBe("Site");
      expect(await store.projects.get(stranger.id, project.id)).toBeNull();
      expect((await store.projects.list(stranger.id, { limit: 10, cursor: null })).items).toEqual([]);
      expect(await store.projects.update(stranger.id, project.id, { name: "Stolen" })).toBeNull();
      expect(await store.projects.delete(stranger.id, project.id)).toBe(false);
      const renamed = await store.projects.update(owner.id, project.id, {
        name: "Renamed",
        buildCommand: "make",
      });
      expect(renamed?.name).toBe("Renamed");
      expect(renamed?.buildCommand).toBe("make");
      expect(renamed?.subDomain).toBe(project.subDomain);
      expect(await store.projects.delete(owner.id, project.id)).toBe(true);
      expect(await store.projects.get(owner.id, project.id)).toBeNull();
    });

    test("projects: app server settings (start command, idle minutes, instances) are kept and cleared", async () => {
      const store = await open();
      const owner = await store.users.create({ email: email(), passwordHash: null });
      const project = await store.projects.create({
        userId: owner.id,
        ...settings({ startCommand: "node server.js", idleTimeoutMinutes: 0, maxInstances: 3 }),
      });
      expect(project.startCommand).toBe("node server.js");
      expect(project.idleTimeoutMinutes).toBe(0);
      expect(project.maxInstances).toBe(3);
      const read = await store.projects.get(owner.id, project.id);
      expect([read?.startCommand, read?.idleTimeoutMinutes, read?.maxInstances]).toEqual([
        "node server.js",
        0,
        3,
      ]);
      const cleared = await store.projects.update(owner.id, project.id, {
        startCommand: null,
        idleTimeoutMinutes: 30,
        maxInstances: null,
      });
      expect([cleared?.startCommand, cleared?.idleTimeoutMinutes, cleared?.maxInstances]).toEqual([
        null,
        30,
        null,
      ]);
      const other = await store.projects.create({ userId: owner.id, ...settings() });
      expect([other.startCommand, other.idleTimeoutMinutes, other.maxInstances]).toEqual([null, null, null]);
    });

    test("projects: a custom domain is verified for that domain only", async () => {
      const store = await open();
      const owner = await store.users.create({ email: email(), passwordHash: null });
      const domain = `${crypto.randomUUID().slice(0, 8)}.example.com`;
      const project = await store.projects.create({
        userId: owner.id,
        ...settings({ customDomain: domain }),
      });
      expect(project.customDomainVerifiedAt).toBeNull();
      expect(project.domainToken).toMatch(/^[0-9a-f]{32}$/);
      const other = await store.projects.create({ userId: owner.id, ...settings() });
      expect(other.domainToken).not.toBe(project.domainToken);
      // Only the project's current domain can be marked.
      expect(await store.projects.markDomainVerified(project.id, "other.example.com")).toBeNull();
      const verified = (await store.projects.markDomainVerified(project.id, domain))?.project;
      expect(verified?.customDomainVerifiedAt).not.toBeNull();
      const route = (await store.projects.routes()).find((r) => r.id === project.id);
      expect(route?.domains).toEqual([{ name: domain, redirectTo: null, redirectStatus: null }]);
      // A new domain starts unverified; going back to the verified one keeps its proof.
      const moved = await store.projects.update(owner.id, project.id, { customDomain: `x.${domain}` });
      expect(moved?.customDomainVerifiedAt).toBeNull();
      expect(moved?.domainToken).toBe(project.domainToken);
      const back = await store.projects.update(owner.id, project.id, { customDomain: domain });
      expect(back?.customDomainVerifiedAt).toBe(verified?.customDomainVerifiedAt ?? "missing");
      const cleared = await store.projects.update(owner.id, project.id, { customDomain: null });
      expect(cleared?.customDomainVerifiedAt).toBeNull();
    });

    test("projects: subdomain is unique across users (custom domains: domains.contract.ts)", async () => {
      const store = await open();
      const a = await store.users.create({ email: email(), passwordHash: null });
      const b = await store.users.create({ email: email(), passwordHash: null });
      const first = await store.projects.create({ userId: a.id, ...settings() });
      await expectCode(
        store.projects.create({ userId: b.id, ...settings({ subDomain: first.subDomain }) }),
        "conflict",
      );
      const second = await store.projects.create({ userId: a.id, ...settings() });
      await expectCode(store.projects.update(a.id, second.id, { subDomain: first.subDomain }), "conflict");
      expect((await store.projects.get(a.id, second.id))?.subDomain).toBe(second.subDomain);
    });

    test("projects: keyset pagination visits every project once, newest first", async () => {
      const store = await open();
      const user = await store.users.create({ email: email(), passwordHash: null });
      const created: string[] = [];
      for (let i = 0; i < 7; i++)
        created.push((await store.projects.create({ userId: user.id, ...settings() })).id);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: Awaited<ReturnType<Store["projects"]["list"]>> = await store.projects.list(user.id, {
          limit: 3,
          cursor,
        });
        expect(page.items.length).toBeLessThanOrEqual(3);
        seen.push(...page.items.map((p) => p.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen.length).toBe(7);
      expect(new Set(seen)).toEqual(new Set(created));
      await expectCode(store.projects.list(user.id, { limit: 3, cursor: "garbage" }), "bad_request");
    });

    test("audit: refused events are recorded, newest first", async () => {
      const store = await open();
      const claimed = crypto.randomUUID();
      await store.audit.recordRejected({
        source: "build-api",
        claimedDeploymentId: claimed,
        reason: "first",
        excerpt: "{}",
      });
      await Bun.sleep(2);
      await store.audit.recordRejected({
        source: "bus",
        claimedDeploymentId: null,
        reason: "x".repeat(5000),
        excerpt: "y",
      });
      const [newest, older] = await store.audit.recentRejected(2);
      expect(newest?.source).toBe("bus");
      expect(newest?.reason.length).toBe(1000);
      expect(older?.claimedDeploymentId).toBe(claimed);
    });
  });
}

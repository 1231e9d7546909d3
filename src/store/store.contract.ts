// The store contract: the same cases run against every Store implementation (sqlite and Postgres).

import { describe, expect, test } from "bun:test";
import { AppError } from "../errors.ts";
import type { ProjectSettings, Store } from "./store.ts";

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
    ...overrides,
  };
}

const email = () => `u-${crypto.randomUUID().slice(0, 8)}@example.com`;

async function expectCode(promise: Promise<unknown>, code: AppError["code"]): Promise<void> {
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

    test("projects: subdomain and custom domain are unique across users", async () => {
      const store = await open();
      const a = await store.users.create({ email: email(), passwordHash: null });
      const b = await store.users.create({ email: email(), passwordHash: null });
      const domain = `${crypto.randomUUID().slice(0, 8)}.example.com`;
      const first = await store.projects.create({ userId: a.id, ...settings({ customDomain: domain }) });
      await expectCode(
        store.projects.create({ userId: b.id, ...settings({ subDomain: first.subDomain }) }),
        "conflict",
      );
      await expectCode(
        store.projects.create({ userId: b.id, ...settings({ customDomain: domain }) }),
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

    test("deployments: scoped by project owner, listed newest first, cascade on project delete", async () => {
      const store = await open();
      const owner = await store.users.create({ email: email(), passwordHash: null });
      const stranger = await store.users.create({ email: email(), passwordHash: null });
      const project = await store.projects.create({ userId: owner.id, ...settings() });
      const base = {
        projectId: project.id,
        userId: owner.id,
        target: "production",
        branch: "main",
        commitSha: null,
      };
      const first = await store.deployments.create({ ...base, status: "QUEUED", target: "production" });
      const second = await store.deployments.create({ ...base, status: "QUEUED", target: "preview" });
      expect((await store.deployments.get(owner.id, first.id))?.status).toBe("QUEUED");
      expect(await store.deployments.get(stranger.id, first.id)).toBeNull();
      const page = await store.deployments.list(owner.id, project.id, { limit: 10, cursor: null });
      expect(new Set(page.items.map((d) => d.id))).toEqual(new Set([first.id, second.id]));
      expect(
        (await store.deployments.list(stranger.id, project.id, { limit: 10, cursor: null })).items,
      ).toEqual([]);
      await store.projects.delete(owner.id, project.id);
      expect(await store.deployments.get(owner.id, first.id)).toBeNull();
    });

    test("deployments: transitions only move forward, and only once", async () => {
      const store = await open();
      const user = await store.users.create({ email: email(), passwordHash: null });
      const project = await store.projects.create({ userId: user.id, ...settings() });
      const d = await store.deployments.create({
        projectId: project.id,
        userId: user.id,
        status: "QUEUED",
        target: "production",
        branch: "main",
        commitSha: "abc",
      });
      expect(await store.deployments.transition(d.id, "READY", null)).toBeNull();
      expect((await store.deployments.transition(d.id, "IN_PROGRESS", null))?.status).toBe("IN_PROGRESS");
      expect(await store.deployments.transition(d.id, "IN_PROGRESS", null)).toBeNull();
      expect(await store.deployments.transition(d.id, "QUEUED", null)).toBeNull();
      const failed = await store.deployments.transition(d.id, "FAIL", "build exited with code 1");
      expect(failed?.status).toBe("FAIL");
      expect(failed?.statusReason).toBe("build exited with code 1");
      expect(await store.deployments.transition(d.id, "READY", null)).toBeNull();
      expect(await store.deployments.transition(d.id, "CANCELED", null)).toBeNull();
      expect((await store.deployments.get(user.id, d.id))?.status).toBe("FAIL");
    });

    test("deployments: concurrent transitions, exactly one wins", async () => {
      const store = await open();
      const user = await store.users.create({ email: email(), passwordHash: null });
      const project = await store.projects.create({ userId: user.id, ...settings() });
      const d = await store.deployments.create({
        projectId: project.id,
        userId: user.id,
        status: "QUEUED",
        target: "preview",
        branch: null,
        commitSha: null,
      });
      const results = await Promise.all(
        Array.from({ length: 8 }, () => store.deployments.transition(d.id, "IN_PROGRESS", null)),
      );
      expect(results.filter((r) => r !== null).length).toBe(1);
    });
  });
}

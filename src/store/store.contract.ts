// The store contract: the same cases run against every Store implementation (sqlite and Postgres).

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
/** A random sha256-shaped hex string (a webhook body's digest). */
const hex = () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");

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

    test("deployments: lists narrow to a branch, target and status; commit details are kept once", async () => {
      const store = await open();
      const user = await store.users.create({ email: email(), passwordHash: null });
      const project = await store.projects.create({ userId: user.id, ...settings() });
      const make = (target: "production" | "preview", branch: string) =>
        store.deployments.create({
          projectId: project.id,
          userId: user.id,
          status: "QUEUED",
          target,
          branch,
          commitSha: null,
        });
      const main = await make("production", "main");
      const feature = await make("preview", "feature");
      const older = await make("preview", "feature");
      await store.deployments.transition(feature.id, "IN_PROGRESS", null);
      const ids = async (filter: Parameters<typeof store.deployments.list>[3]) =>
        new Set(
          (await store.deployments.list(user.id, project.id, { limit: 10, cursor: null }, filter)).items.map(
            (d) => d.id,
          ),
        );
      expect(await ids({})).toEqual(new Set([main.id, feature.id, older.id]));
      expect(await ids({ branch: "feature" })).toEqual(new Set([feature.id, older.id]));
      expect(await ids({ target: "production" })).toEqual(new Set([main.id]));
      expect(await ids({ branch: "feature", status: "QUEUED" })).toEqual(new Set([older.id]));
      expect(await ids({ branch: "nope" })).toEqual(new Set());
      // Paging keeps the filter.
      const first = await store.deployments.list(
        user.id,
        project.id,
        { limit: 1, cursor: null },
        { branch: "feature" },
      );
      expect(first.nextCursor).not.toBeNull();
      const second = await store.deployments.list(
        user.id,
        project.id,
        { limit: 1, cursor: first.nextCursor },
        { branch: "feature" },
      );
      expect(new Set([...first.items, ...second.items].map((d) => d.id))).toEqual(
        new Set([feature.id, older.id]),
      );
      expect(second.nextCursor).toBeNull();

      const sha = "a".repeat(40);
      await store.deployments.recordCommit(main.id, sha, { message: "Fix <the> header", author: "Ada" });
      await store.deployments.recordCommit(main.id, "b".repeat(40), { message: "other", author: "Eve" });
      const recorded = await store.deployments.find(main.id);
      expect([recorded?.commitSha, recorded?.commitMessage, recorded?.commitAuthor]).toEqual([
        sha,
        "Fix <the> header",
        "Ada",
      ]);
      // A deployment created with its commit (a redeploy) still learns the subject from its build.
      const redeploy = await store.deployments.create({
        projectId: project.id,
        userId: user.id,
        status: "QUEUED",
        target: "production",
        branch: "main",
        commitSha: sha,
      });
      expect(redeploy.commitMessage).toBeNull();
      await store.deployments.recordCommit(redeploy.id, sha, { message: "Fix <the> header", author: "Ada" });
      expect((await store.deployments.find(redeploy.id))?.commitMessage).toBe("Fix <the> header");
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

    test("queue: claims are exclusive, oldest first, one build per project at a time", async () => {
      const store = await open();
      const user = await store.users.create({ email: email(), passwordHash: null });
      const a = await store.projects.create({ userId: user.id, ...settings() });
      const b = await store.projects.create({ userId: user.id, ...settings() });
      const queue = (projectId: string, branch: string) =>
        store.deployments.create({
          projectId,
          userId: user.id,
          status: "QUEUED",
          target: "preview",
          branch,
          commitSha: null,
        });
      const a1 = await queue(a.id, "one");
      await Bun.sleep(2);
      const a2 = await queue(a.id, "two");
      await Bun.sleep(2);
      const b1 = await queue(b.id, "one");
      // Other tests share the store: only look at this test's deployments.
      const mine = new Set([a1.id, a2.id, b1.id]);
      const claims: string[] = [];
      for (let i = 0; i < 50 && claims.length < 2; i++) {
        const results = await Promise.all(
          [1, 2, 3, 4].map((n) => store.deployments.claimNext(`w${n}`, new Date().toISOString())),
        );
        for (const r of results) if (r && mine.has(r.deployment.id)) claims.push(r.deployment.id);
        for (const r of results)
          if (r && !mine.has(r.deployment.id))
            await store.deployments.transition(r.deployment.id, "FAIL", "x");
      }
      expect(claims.sort()).toEqual([a1.id, b1.id].sort());
      const claimed = await store.deployments.find(a1.id);
      expect(claimed?.status).toBe("IN_PROGRESS");
      expect(claimed?.startedAt).not.toBeNull();
      expect(claimed?.claimedBy).toMatch(/^w[1-4]$/);
      // a2 waits while a1 builds, then becomes claimable.
      expect((await store.deployments.find(a2.id))?.status).toBe("QUEUED");
      const done = await store.deployments.transition(a1.id, "FAIL", "boom");
      expect(done?.finishedAt).not.toBeNull();
      let next = await store.deployments.claimNext("w9", new Date().toISOString());
      while (next && !mine.has(next.deployment.id)) {
        await store.deployments.transition(next.deployment.id, "FAIL", "x");
        next = await store.deployments.claimNext("w9", new Date().toISOString());
      }
      expect(next?.deployment.id).toBe(a2.id);
      expect(next?.project.id).toBe(a.id);
    });

    test("queue: deployments are counted by status (the queue depth of /metrics)", async () => {
      const store = await open();
      const user = await store.users.create({ email: email(), passwordHash: null });
      const project = await store.projects.create({ userId: user.id, ...settings() });
      // Other cases share the store: compare with the counts before this case's deployments.
      const before = await store.deployments.countWithStatus("QUEUED");
      const failedBefore = await store.deployments.countWithStatus("FAIL");
      const queued = await Promise.all(
        ["a", "b", "c"].map((branch) =>
          store.deployments.create({
            projectId: project.id,
            userId: user.id,
            status: "QUEUED",
            target: "preview",
            branch,
            commitSha: null,
          }),
        ),
      );
      expect(await store.deployments.countWithStatus("QUEUED")).toBe(before + 3);
      await store.deployments.transition(queued[0]?.id ?? "", "FAIL", "x");
      expect(await store.deployments.countWithStatus("QUEUED")).toBe(before + 2);
      expect(await store.deployments.countWithStatus("FAIL")).toBe(failedBefore + 1);
    });

    test("queue: a newer deployment supersedes queued older ones of the same branch only", async () => {
      const store = await open();
      const user = await store.users.create({ email: email(), passwordHash: null });
      const project = await store.projects.create({ userId: user.id, ...settings() });
      const queue = (branch: string) =>
        store.deployments.create({
          projectId: project.id,
          userId: user.id,
          status: "QUEUED",
          target: "preview",
          branch,
          commitSha: null,
        });
      const old1 = await queue("main");
      const other = await queue("feature");
      await Bun.sleep(2);
      const newest = await queue("main");
      expect(await store.deployments.supersede(newest)).toEqual([old1.id]);
      const canceled = await store.deployments.find(old1.id);
      expect(canceled?.status).toBe("CANCELED");
      expect(canceled?.statusReason).toContain(newest.id);
      expect((await store.deployments.find(other.id))?.status).toBe("QUEUED");
      expect((await store.deployments.find(newest.id))?.status).toBe("QUEUED");
    });

    test("ready: production pointer moves forward only, previews never move it", async () => {
      const store = await open();
      const user = await store.users.create({ email: email(), passwordHash: null });
      const project = await store.projects.create({ userId: user.id, ...settings() });
      const make = async (target: "production" | "preview") => {
        const d = await store.deployments.create({
          projectId: project.id,
          userId: user.id,
          status: "QUEUED",
          target,
          branch: "main",
          commitSha: null,
        });
        await store.deployments.transition(d.id, "IN_PROGRESS", null);
        await Bun.sleep(2);
        return d;
      };
      const older = await make("production");
      const newer = await make("production");
      const preview = await make("preview");
      expect((await store.deployments.markReady(newer.id))?.status).toBe("READY");
      expect((await store.projects.find(project.id))?.productionDeploymentId).toBe(newer.id);
      expect((await store.deployments.markReady(older.id))?.status).toBe("READY");
      expect((await store.projects.find(project.id))?.productionDeploymentId).toBe(newer.id);
      await store.deployments.markReady(preview.id);
      expect((await store.projects.find(project.id))?.productionDeploymentId).toBe(newer.id);
      expect(await store.deployments.markReady(newer.id)).toBeNull();
    });

    test("build keys: the newest READY deployment of the same project and key is found, nothing else", async () => {
      const store = await open();
      const user = await store.users.create({ email: email(), passwordHash: null });
      const project = await store.projects.create({ userId: user.id, ...settings() });
      const other = await store.projects.create({ userId: user.id, ...settings() });
      const make = async (projectId: string, key: string, ready: boolean) => {
        const d = await store.deployments.create({
          projectId,
          userId: user.id,
          status: "QUEUED",
          target: "production",
          branch: "main",
          commitSha: null,
        });
        await store.deployments.recordBuildKey(d.id, key);
        await store.deployments.transition(d.id, "IN_PROGRESS", null);
        if (ready) await store.deployments.markReady(d.id);
        else await store.deployments.transition(d.id, "FAIL", "broken");
        await Bun.sleep(2);
        return d;
      };
      expect(await store.deployments.findBuilt(project.id, "k1")).toBeNull();
      const older = await make(project.id, "k1", true);
      const newer = await make(project.id, "k1", true);
      await make(project.id, "k1", false);
      await make(project.id, "k2", false);
      await make(other.id, "k3", true);
      expect((await store.deployments.findBuilt(project.id, "k1"))?.id).toBe(newer.id);
      expect(older.id).not.toBe(newer.id);
      // A failed build's key reuses nothing; another project's key is not this project's.
      expect(await store.deployments.findBuilt(project.id, "k2")).toBeNull();
      expect(await store.deployments.findBuilt(project.id, "k3")).toBeNull();
    });

    test("liveness: heartbeats keep a build fresh; stale ones are found", async () => {
      const store = await open();
      const user = await store.users.create({ email: email(), passwordHash: null });
      const project = await store.projects.create({ userId: user.id, ...settings() });
      const d = await store.deployments.create({
        projectId: project.id,
        userId: user.id,
        status: "QUEUED",
        target: "preview",
        branch: "main",
        commitSha: null,
      });
      await store.deployments.transition(d.id, "IN_PROGRESS", null);
      await store.deployments.heartbeat(d.id, "2020-01-01T00:00:00.000Z");
      const staleIds = (await store.deployments.stale("2021-01-01T00:00:00.000Z")).map((x) => x.id);
      expect(staleIds).toContain(d.id);
      await store.deployments.heartbeat(d.id, "2099-01-01T00:00:00.000Z");
      expect((await store.deployments.stale("2021-01-01T00:00:00.000Z")).map((x) => x.id)).not.toContain(
        d.id,
      );
    });

    test("liveness: NOT_STARTED deployments untouched since a time are found as abandoned", async () => {
      const store = await open();
      const user = await store.users.create({ email: email(), passwordHash: null });
      const project = await store.projects.create({ userId: user.id, ...settings() });
      const create = (status: "NOT_STARTED" | "QUEUED") =>
        store.deployments.create({
          projectId: project.id,
          userId: user.id,
          status,
          target: "preview",
          branch: "main",
          commitSha: null,
        });
      const left = await create("NOT_STARTED");
      const queued = await create("QUEUED");
      const moved = await create("NOT_STARTED");
      await store.deployments.transition(moved.id, "QUEUED", null);
      const ids = (await store.deployments.abandoned("2099-01-01T00:00:00.000Z")).map((x) => x.id);
      expect(ids).toContain(left.id);
      expect(ids).not.toContain(queued.id);
      expect(ids).not.toContain(moved.id);
      expect((await store.deployments.abandoned("2020-01-01T00:00:00.000Z")).map((x) => x.id)).not.toContain(
        left.id,
      );
    });

    test("routing: host ids, branch previews, promote and rollback as pointer swaps", async () => {
      const store = await open();
      const user = await store.users.create({ email: email(), passwordHash: null });
      const project = await store.projects.create({ userId: user.id, ...settings({ spaFallback: false }) });
      const ready = async (branch: string, target: "production" | "preview") => {
        const d = await store.deployments.create({
          projectId: project.id,
          userId: user.id,
          status: "QUEUED",
          target,
          branch,
          commitSha: null,
        });
        await store.deployments.transition(d.id, "IN_PROGRESS", null);
        await Bun.sleep(2);
        return (await store.deployments.markReady(d.id)) ?? d;
      };
      const v1 = await ready("main", "production");
      const v2 = await ready("main", "production");
      const feature = await ready("Feature/Login_Page", "preview");
      expect(feature.branchSlug).toBe("feature-login-page");

      const hostId = v1.id.replaceAll("-", "").slice(0, 12);
      expect((await store.deployments.findByHostId(project.id, hostId))?.id).toBe(v1.id);
      expect(await store.deployments.findByHostId(project.id, "zzzzzzzzzzzz")).toBeNull();
      const other = await store.projects.create({ userId: user.id, ...settings() });
      expect(await store.deployments.findByHostId(other.id, hostId)).toBeNull();

      expect((await store.deployments.latestForBranch(project.id, "feature-login-page", false))?.id).toBe(
        feature.id,
      );
      expect(await store.deployments.latestForBranch(project.id, "feature-login", false)).toBeNull();
      expect((await store.deployments.latestForBranch(project.id, "feature-login", true))?.id).toBe(
        feature.id,
      );
      expect((await store.deployments.latestForBranch(project.id, "main", false))?.id).toBe(v2.id);

      const route = (await store.projects.routes()).find((r) => r.id === project.id);
      expect(route).toEqual({
        id: project.id,
        subDomain: project.subDomain,
        domains: [],
        productionDeploymentId: v2.id,
        spaFallback: false,
      });

      const built = await store.projects.find(project.id);
      expect(built?.previousProductionDeploymentId).toBe(v1.id);
      // Every pointer move records since when production serves its deployment.
      expect(built?.productionSince).toBe(v2.finishedAt);
      const since = (p: { productionSince: string | null } | null | undefined) =>
        Date.parse(p?.productionSince ?? "");
      await Bun.sleep(2);
      const rolled = await store.projects.rollback(project.id);
      expect([rolled?.productionDeploymentId, rolled?.previousProductionDeploymentId]).toEqual([
        v1.id,
        v2.id,
      ]);
      expect(since(rolled)).toBeGreaterThan(since(built));
      await Bun.sleep(2);
      const promoted = await store.projects.promote(project.id, feature.id);
      expect([promoted?.productionDeploymentId, promoted?.previousProductionDeploymentId]).toEqual([
        feature.id,
        v1.id,
      ]);
      expect(since(promoted)).toBeGreaterThan(since(rolled));
      // Promoting the current production deployment changes nothing and succeeds.
      const again = await store.projects.promote(project.id, feature.id);
      expect(again?.previousProductionDeploymentId).toBe(v1.id);
      expect(again?.productionSince).toBe(promoted?.productionSince ?? "");
      // Not READY, or another project's deployment: refused.
      const queued = await store.deployments.create({
        projectId: project.id,
        userId: user.id,
        status: "QUEUED",
        target: "preview",
        branch: "x",
        commitSha: null,
      });
      expect(await store.projects.promote(project.id, queued.id)).toBeNull();
      expect(await store.projects.promote(other.id, v1.id)).toBeNull();
      const fresh = await store.projects.create({ userId: user.id, ...settings() });
      expect(await store.projects.rollback(fresh.id)).toBeNull();
    });

    test("retention: old previews expire, except production, previous production and each branch's newest", async () => {
      const store = await open();
      const user = await store.users.create({ email: email(), passwordHash: null });
      const project = await store.projects.create({ userId: user.id, ...settings() });
      const ready = async (branch: string, target: "production" | "preview") => {
        const d = await store.deployments.create({
          projectId: project.id,
          userId: user.id,
          status: "QUEUED",
          target,
          branch,
          commitSha: null,
        });
        await store.deployments.transition(d.id, "IN_PROGRESS", null);
        await Bun.sleep(2);
        return (await store.deployments.markReady(d.id)) ?? d;
      };
      await ready("main", "production");
      const prod = await ready("main", "production");
      const f1 = await ready("feature", "preview");
      const f2 = await ready("feature", "preview");
      const x1 = await ready("x", "preview");
      await ready("x", "preview");
      await store.deployments.create({
        projectId: project.id,
        userId: user.id,
        status: "QUEUED",
        target: "preview",
        branch: "feature",
        commitSha: null,
      });
      const future = new Date(Date.now() + 60_000).toISOString();
      const expirable = async (before = future) =>
        (await store.deployments.expirable(before, 1000))
          .filter((d) => d.projectId === project.id)
          .map((d) => d.id);
      // Production deployments and each branch's newest READY preview are never candidates.
      expect(await expirable()).toEqual([f1.id, x1.id]);
      expect(await expirable("2000-01-01T00:00:00.000Z")).toEqual([]);
      // A promoted preview is production; rolled back, it is the previous production: kept either way.
      await store.projects.promote(project.id, x1.id);
      expect(await expirable()).toEqual([f1.id]);
      await store.projects.rollback(project.id);
      expect((await store.projects.find(project.id))?.previousProductionDeploymentId).toBe(x1.id);
      expect(await expirable()).toEqual([f1.id]);
      expect(await store.deployments.expire(x1.id)).toBe(false);
      expect(await store.deployments.expire(prod.id)).toBe(false);

      expect(await store.deployments.expire(f1.id)).toBe(true);
      expect(await store.deployments.expire(f1.id)).toBe(false);
      const expired = await store.deployments.find(f1.id);
      expect(expired?.status).toBe("READY");
      expect(expired?.expiredAt).not.toBeNull();
      expect((await store.deployments.find(f2.id))?.expiredAt).toBeNull();
      expect(await expirable()).toEqual([]);
      // Expired: no longer found by its host, and never promoted.
      expect(
        await store.deployments.findByHostId(project.id, f1.id.replaceAll("-", "").slice(0, 12)),
      ).toBeNull();
      expect(await store.projects.promote(project.id, f1.id)).toBeNull();
      expect((await store.deployments.latestForBranch(project.id, "feature", false))?.id).toBe(f2.id);
    });

    test("retention: expire and promote of the same deployment, concurrently: never both", async () => {
      const store = await open();
      const user = await store.users.create({ email: email(), passwordHash: null });
      for (let round = 0; round < 10; round += 1) {
        const project = await store.projects.create({ userId: user.id, ...settings() });
        const make = async () => {
          const d = await store.deployments.create({
            projectId: project.id,
            userId: user.id,
            status: "QUEUED",
            target: "preview",
            branch: "b",
            commitSha: null,
          });
          await store.deployments.transition(d.id, "IN_PROGRESS", null);
          await Bun.sleep(2);
          return (await store.deployments.markReady(d.id)) ?? d;
        };
        const old = await make();
        await make();
        const [expired, promoted] = await Promise.all([
          store.deployments.expire(old.id),
          store.projects.promote(project.id, old.id),
        ]);
        expect(expired && promoted !== null).toBe(false);
        expect(expired || promoted !== null).toBe(true);
      }
    });

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

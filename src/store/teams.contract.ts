// Teams and the audit log, store contract: memberships, the last owner, one-time invitations, project scopes
// and visibility, and the append-only log; run against every Store implementation like store.contract.ts.

import { describe, expect, test } from "bun:test";
import type { AuditEvent } from "./audit-log.ts";
import type { Store } from "./store.ts";

const uid = () => crypto.randomUUID().slice(0, 8);
const hash = () => new Bun.CryptoHasher("sha256").update(crypto.randomUUID()).digest("hex");
const user = (store: Store) => store.users.create({ email: `t-${uid()}@example.com`, passwordHash: null });
const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();

function project(store: Store, userId: string, teamId: string | null = null) {
  const name = `p-${uid()}`;
  return store.projects.create({
    userId,
    teamId,
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

export function teamsContract(name: string, open: () => Promise<Store>): void {
  describe(`teams contract: ${name}`, () => {
    test("a team starts with its creator as owner; slugs are unique; roles change but never lose the last owner", async () => {
      const store = await open();
      const [ann, ben] = [await user(store), await user(store)];
      const slug = `team-${uid()}`;
      const team = await store.teams.create({ slug, name: "Acme", ownerId: ann.id });
      await expect(store.teams.create({ slug, name: "Again", ownerId: ben.id })).rejects.toMatchObject({
        code: "conflict",
      });
      expect(await store.teams.bySlug(slug)).toEqual(team);
      expect(await store.teams.role(team.id, ann.id)).toBe("owner");
      expect(await store.teams.role(team.id, ben.id)).toBeNull();
      expect(await store.teams.ofUser(ann.id)).toEqual([{ ...team, role: "owner" }]);
      expect(await store.teams.setRole(team.id, ann.id, "viewer")).toBe("last_owner");
      expect(await store.teams.removeMember(team.id, ann.id)).toBe("last_owner");
      expect(await store.teams.setRole(team.id, ben.id, "viewer")).toBe("missing");
      expect(await store.teams.role(team.id, ann.id)).toBe("owner");
    });

    test("an invitation is used once, while open; revoked and expired ones open nothing", async () => {
      const store = await open();
      const [ann, ben, cat] = [await user(store), await user(store), await user(store)];
      const team = await store.teams.create({ slug: `team-${uid()}`, name: "Acme", ownerId: ann.id });
      const token = hash();
      const invitation = await store.teams.invite({
        teamId: team.id,
        role: "viewer",
        tokenHash: token,
        createdBy: ann.id,
        expiresAt: inAnHour(),
      });
      expect(await store.teams.invitations(team.id, new Date().toISOString())).toEqual([invitation]);
      const now = new Date().toISOString();
      const [first, second] = await Promise.all([
        store.teams.acceptInvitation(token, ben.id, now),
        store.teams.acceptInvitation(token, cat.id, now),
      ]);
      expect([first, second].filter((r) => r !== null)).toHaveLength(1);
      expect(await store.teams.invitations(team.id, now)).toEqual([]);

      const expired = hash();
      await store.teams.invite({
        teamId: team.id,
        role: "member",
        tokenHash: expired,
        createdBy: ann.id,
        expiresAt: new Date(Date.now() - 1000).toISOString(),
      });
      expect(await store.teams.acceptInvitation(expired, cat.id, now)).toBeNull();
      const revoked = hash();
      const pending = await store.teams.invite({
        teamId: team.id,
        role: "owner",
        tokenHash: revoked,
        createdBy: ann.id,
        expiresAt: inAnHour(),
      });
      const other = await store.teams.create({ slug: `team-${uid()}`, name: "Other", ownerId: ben.id });
      expect(await store.teams.revokeInvitation(other.id, pending.id)).toBe(false);
      expect(await store.teams.revokeInvitation(team.id, pending.id)).toBe(true);
      expect(await store.teams.revokeInvitation(team.id, pending.id)).toBe(false);
      expect(await store.teams.acceptInvitation(revoked, cat.id, now)).toBeNull();
      expect((await store.teams.members(team.id)).length).toBe(2);
    });

    test("a team's projects are visible to its members only, listed in its scope, and leave with a removed member", async () => {
      const store = await open();
      const [ann, ben, eve] = [await user(store), await user(store), await user(store)];
      const team = await store.teams.create({ slug: `team-${uid()}`, name: "Acme", ownerId: ann.id });
      const token = hash();
      await store.teams.invite({
        teamId: team.id,
        role: "member",
        tokenHash: token,
        createdBy: ann.id,
        expiresAt: inAnHour(),
      });
      expect((await store.teams.acceptInvitation(token, ben.id, new Date().toISOString()))?.role).toBe(
        "member",
      );
      const shared = await project(store, ann.id, team.id);
      const personal = await project(store, ann.id);
      expect(shared.teamId).toBe(team.id);
      const deployment = await store.deployments.create({
        projectId: shared.id,
        userId: ben.id,
        status: "QUEUED",
        target: "preview",
        branch: "main",
        commitSha: null,
      });
      expect((await store.projects.get(ben.id, shared.id))?.id).toBe(shared.id);
      expect(await store.projects.get(ben.id, personal.id)).toBeNull();
      expect(await store.projects.get(eve.id, shared.id)).toBeNull();
      expect((await store.deployments.get(ben.id, deployment.id))?.id).toBe(deployment.id);
      expect(await store.deployments.get(eve.id, deployment.id)).toBeNull();
      const page = { limit: 10, cursor: null };
      expect((await store.projects.list(ben.id, page, team.id)).items.map((p) => p.id)).toEqual([shared.id]);
      expect((await store.projects.list(eve.id, page, team.id)).items).toEqual([]);
      expect((await store.projects.list(ann.id, page)).items.map((p) => p.id)).toEqual([personal.id]);
      expect((await store.deployments.list(eve.id, shared.id, page)).items).toEqual([]);
      // The platform's own unscoped read sees them whoever asks.
      expect((await store.deployments.ofProject(shared.id, page)).items.map((d) => d.id)).toEqual([
        deployment.id,
      ]);
      expect(await store.projects.delete(eve.id, shared.id)).toBe(false);

      // Protected hosts open, signed in, to every member of the team (and to no one else).
      await store.protection.setMode(shared.id, "previews");
      const [rule] = await store.protection.access(shared.id);
      expect(rule?.viewers.sort()).toEqual([ann.id, ben.id].sort());
      await store.protection.setMode(personal.id, "all");
      expect((await store.protection.access(personal.id))[0]?.viewers).toEqual([ann.id]);

      expect(await store.teams.delete(team.id)).toBe(false);
      expect(await store.teams.removeMember(team.id, ben.id)).toBe("ok");
      expect((await store.protection.access(shared.id))[0]?.viewers).toEqual([ann.id]);
      expect(await store.projects.get(ben.id, shared.id)).toBeNull();
      const moved = await store.projects.transfer(shared.id, { teamId: null, userId: ann.id });
      expect(moved?.teamId).toBeNull();
      expect((await store.projects.list(ann.id, page)).items.map((p) => p.id).sort()).toEqual(
        [shared.id, personal.id].sort(),
      );
      expect(await store.teams.delete(team.id)).toBe(true);
      expect(await store.teams.byId(team.id)).toBeNull();
    });

    test("the audit log appends, pages newest first per scope, and refuses changes", async () => {
      const store = await open();
      const scope = `team:${crypto.randomUUID()}` as const;
      const written: AuditEvent[] = [];
      for (const action of ["project.create", "deployment.create", "env.set"]) {
        written.push(
          await store.auditLog.append({
            scope,
            actorId: null,
            actorEmail: "ann@example.com",
            action,
            target: "site",
            detail: null,
            address: "203.0.113.7",
          }),
        );
        await Bun.sleep(2);
      }
      const first = await store.auditLog.list(scope, { limit: 2, cursor: null });
      expect(first.items.map((e) => e.action)).toEqual(["env.set", "deployment.create"]);
      const rest = await store.auditLog.list(scope, { limit: 2, cursor: first.nextCursor });
      expect(rest.items).toEqual(written.slice(0, 1));
      expect(rest.nextCursor).toBeNull();
      expect(
        (await store.auditLog.list(`user:${crypto.randomUUID()}`, { limit: 5, cursor: null })).items,
      ).toEqual([]);
      expect("update" in store.auditLog || "delete" in store.auditLog).toBe(false);
    });
  });
}

// Teams through the API: invitation links (one use, expiry, revocation), leaving and the last owner, moving
// projects between scopes, the lesser of token scope and role, and the audit log with its client addresses.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Deps } from "../deps.ts";
import { createApiToken, hashSecret } from "../identity/accounts.ts";
import { apiClient, obj, testDeps } from "../testing/deps.ts";
import { join, makeTeamFixture, type TeamFixture } from "../testing/team-fixture.ts";
import { createApi } from "./app.ts";

let deps: Deps;
let f: TeamFixture;

beforeAll(async () => {
  deps = await testDeps();
  f = await makeTeamFixture(deps);
}, 60_000);
afterAll(() => deps.close());

const code = (body: unknown) => obj(obj(body).error).code;

describe("invitations", () => {
  test("a link works once, for the signed-in account, with its role; only its hash is stored", async () => {
    const { owner, none } = f.people;
    const link = obj((await owner.api("POST", `/api/teams/${f.slug}/invitations`, { role: "viewer" })).body);
    expect(String(link.url)).toEndWith(`/invite/${String(link.token)}`);
    expect(String(link.token)).toStartWith("inv_");
    const stored = await deps.store.teams.invitations(
      (await deps.store.teams.bySlug(f.slug))?.id ?? "",
      new Date().toISOString(),
    );
    expect(stored.map((i) => i.id)).toContain(String(link.id));
    expect(JSON.stringify(stored)).not.toContain(String(link.token));
    const joined = await none.api("POST", "/api/invitations/accept", { token: link.token });
    expect(joined.status).toBe(200);
    expect(obj(obj(joined.body).team).role).toBe("viewer");
    const again = await f.extras[0].api("POST", "/api/invitations/accept", { token: link.token });
    expect([again.status, code(again.body)]).toEqual([404, "not_found"]);
    // Back out, for the other tests: the outsider leaves.
    expect((await none.api("DELETE", `/api/teams/${f.slug}/members/${none.user.id}`)).status).toBe(204);
    expect((await none.api("GET", `/api/projects/${f.project.id}`)).status).toBe(404);
  });

  test("expired and revoked links open nothing; a bad expiry or role is a 422", async () => {
    const { owner, none } = f.people;
    const team = await deps.store.teams.bySlug(f.slug);
    const token = `inv_${"C".repeat(43)}`;
    await deps.store.teams.invite({
      teamId: team?.id ?? "",
      role: "owner",
      tokenHash: hashSecret(token),
      createdBy: owner.user.id,
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    });
    expect((await none.api("POST", "/api/invitations/accept", { token })).status).toBe(404);
    const link = obj((await owner.api("POST", `/api/teams/${f.slug}/invitations`, {})).body);
    expect(link.role).toBe("member");
    expect((await owner.api("DELETE", `/api/teams/${f.slug}/invitations/${String(link.id)}`)).status).toBe(
      204,
    );
    expect((await none.api("POST", "/api/invitations/accept", { token: link.token })).status).toBe(404);
    const bad = await owner.api("POST", `/api/teams/${f.slug}/invitations`, { expiresInHours: 0 });
    expect([bad.status, code(bad.body)]).toEqual([422, "validation_failed"]);
    const role = await owner.api("POST", `/api/teams/${f.slug}/invitations`, { role: "admin" });
    expect(role.status).toBe(422);
  });
});

describe("members", () => {
  test("the last owner can neither leave nor be demoted; a second owner makes both possible", async () => {
    const { user, token } = { user: f.people.owner.user, token: f.people.owner.token };
    const owner = apiClient(deps, token);
    const slug = `solo-${crypto.randomUUID().slice(0, 8)}`;
    expect((await owner("POST", "/api/teams", { slug })).status).toBe(201);
    const leave = await owner("DELETE", `/api/teams/${slug}/members/${user.id}`);
    expect([leave.status, code(leave.body)]).toEqual([409, "conflict"]);
    expect((await owner("PATCH", `/api/teams/${slug}/members/${user.id}`, { role: "member" })).status).toBe(
      409,
    );
    await join(f.people.owner, slug, f.people.none, "owner");
    expect((await owner("DELETE", `/api/teams/${slug}/members/${user.id}`)).status).toBe(204);
    expect((await owner("GET", `/api/teams/${slug}`)).status).toBe(404);
    expect((await f.people.none.api("DELETE", `/api/teams/${slug}`)).status).toBe(204);
  });

  test("a bad slug is a 422 naming the field; a taken one a 409", async () => {
    const bad = await f.people.none.api("POST", "/api/teams", { slug: "Not A Slug" });
    expect([bad.status, obj(obj(bad.body).error).field]).toEqual([422, "slug"]);
    expect((await f.people.none.api("POST", "/api/teams", { slug: f.slug })).status).toBe(409);
  });
});

describe("scopes", () => {
  test("a project moves only between scopes its caller owns; its URL stays, its people change", async () => {
    const { owner, member } = f.people;
    const mine = obj((await member.api("POST", "/api/projects", { name: "Member's own" })).body);
    // The member owns their project but is no owner of the team: refused.
    const refused = await member.api("POST", `/api/projects/${String(mine.id)}/transfer`, { team: f.slug });
    expect([refused.status, code(refused.body)]).toEqual([403, "forbidden"]);
    const created = obj((await owner.api("POST", "/api/projects", { name: "Owner's own" })).body);
    const moved = await owner.api("POST", `/api/projects/${String(created.id)}/transfer`, { team: f.slug });
    expect(moved.status).toBe(200);
    expect(obj(moved.body).teamId).not.toBeNull();
    expect(obj(moved.body).productionUrl).toBe(created.productionUrl);
    expect((await member.api("GET", `/api/projects/${String(created.id)}`)).status).toBe(200);
    const listed = obj(
      (await member.api("GET", "/api/projects", undefined, { "x-minivercel-team": f.slug })).body,
    );
    expect((listed.items as { id: string }[]).map((p) => p.id)).toContain(String(created.id));
    const back = await owner.api("POST", `/api/projects/${String(created.id)}/transfer`, { team: null });
    expect(back.status).toBe(200);
    expect((await member.api("GET", `/api/projects/${String(created.id)}`)).status).toBe(404);
  });

  test("members set the custom domain (a form's unchanged fields pass along); other settings are the owners'", async () => {
    const { member } = f.people;
    const path = `/api/projects/${f.project.id}`;
    const domain = { subDomain: f.project.subDomain, customDomain: `www.${f.slug}.example.net` };
    const saved = await member.api("PATCH", path, domain);
    expect([saved.status, obj(saved.body).customDomain]).toEqual([200, domain.customDomain]);
    const renamed = await member.api("PATCH", path, { ...domain, subDomain: `${f.project.subDomain}-x` });
    expect([renamed.status, code(renamed.body)]).toEqual([403, "forbidden"]);
    expect((await member.api("PATCH", path, { protection: "none" })).status).toBe(403);
  });

  test("the effective right is the lesser of the token's scope and the role", async () => {
    const deploy = { projectId: f.project.id };
    const readToken = await createApiToken(deps.store, f.people.member.user.id, "ro", null, "read");
    const memberRead = apiClient(deps, readToken.token);
    expect((await memberRead("GET", `/api/projects/${f.project.id}`)).status).toBe(200);
    expect((await memberRead("POST", "/api/deploy", deploy)).status).toBe(403);
    const deployToken = await createApiToken(deps.store, f.people.member.user.id, "ci", null, "deploy");
    const memberDeploy = apiClient(deps, deployToken.token);
    expect((await memberDeploy("POST", "/api/deploy", deploy)).status).toBe(201);
    expect((await memberDeploy("PUT", `/api/projects/${f.project.id}/env/X`, { value: "1" })).status).toBe(
      403,
    );
    const ownerDeploy = apiClient(
      deps,
      (await createApiToken(deps.store, f.people.owner.user.id, "ci", null, "deploy")).token,
    );
    expect((await ownerDeploy("PATCH", `/api/projects/${f.project.id}`, { buildCommand: "x" })).status).toBe(
      403,
    );
    // A full token of a viewer is still a viewer's.
    const viewer = await f.people.viewer.api("POST", "/api/deploy", deploy);
    expect([viewer.status, code(viewer.body)]).toEqual([403, "forbidden"]);
  });
});

describe("a team's files", () => {
  test("a member deploys what they uploaded; nobody deploys a file only someone else (in or out of the team) holds", async () => {
    const { owner, member, viewer, none } = f.people;
    const file = (text: string) => ({
      text,
      hash: new Bun.CryptoHasher("sha256").update(text).digest("hex"),
      size: Buffer.byteLength(text),
    });
    const deploy = (api: typeof member.api, x: { hash: string; size: number }) =>
      api("POST", `/api/projects/${f.project.id}/deployments`, {
        files: { "/index.html": { hash: x.hash, size: x.size } },
        target: "preview",
      });
    const mine = file(`member's page ${crypto.randomUUID()}`);
    expect((await member.api("PUT", `/api/files/${mine.hash}`, mine.text)).status).toBe(204);
    expect((await deploy(member.api, mine)).status).toBe(201);
    // Now the team's: another member deploys it without uploading it again.
    expect((await deploy(owner.api, mine)).status).toBe(201);
    // The owner's personal upload and an outsider's are not the team's.
    const personal = file(`owner's personal ${crypto.randomUUID()}`);
    expect((await owner.api("PUT", `/api/files/${personal.hash}`, personal.text)).status).toBe(204);
    expect((await deploy(member.api, personal)).status).toBe(409);
    const outside = file(`outsider's ${crypto.randomUUID()}`);
    expect((await none.api("PUT", `/api/files/${outside.hash}`, outside.text)).status).toBe(204);
    expect((await deploy(member.api, outside)).status).toBe(409);
    expect((await deploy(viewer.api, mine)).status).toBe(403);
  });
});

describe("audit log", () => {
  test("records who did what, when and from where; owners read it paged, newest first", async () => {
    const api = createApi(deps, { peer: () => "198.51.100.23" });
    const as = (token: string, method: string, path: string, body?: unknown) =>
      api.handle(
        new Request(`http://localhost${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
      );
    const { owner, member, viewer } = f.people;
    expect(
      (await as(member.token, "PUT", `/api/projects/${f.project.id}/env/AUDITED`, { value: "s3cret" }))
        .status,
    ).toBe(204);
    expect((await as(member.token, "POST", `/api/deployments/${f.ready[0]}/promote`)).status).toBe(200);
    expect(
      (await as(owner.token, "PATCH", `/api/projects/${f.project.id}`, { installCommand: "npm ci" })).status,
    ).toBe(200);
    const page = obj(await (await as(owner.token, "GET", `/api/teams/${f.slug}/audit?limit=3`)).json());
    const items = page.items as Record<string, unknown>[];
    expect(items.map((e) => [e.action, e.actorEmail, e.address])).toEqual([
      ["project.settings", owner.user.email, "198.51.100.23"],
      ["deployment.promote", member.user.email, "198.51.100.23"],
      ["env.set", member.user.email, "198.51.100.23"],
    ]);
    expect(JSON.stringify(items)).not.toContain("s3cret");
    expect(page.nextCursor).not.toBeNull();
    const older = obj(
      await (
        await as(owner.token, "GET", `/api/teams/${f.slug}/audit?limit=100&cursor=${String(page.nextCursor)}`)
      ).json(),
    );
    const actions = (older.items as { action: string }[]).map((e) => e.action);
    expect(actions).toContain("team.create");
    expect(actions).toContain("member.join");
    expect(actions).toContain("project.create");
    expect((await as(viewer.token, "GET", `/api/teams/${f.slug}/audit`)).status).toBe(403);
    // There is no way to change or remove an entry.
    expect((await as(owner.token, "DELETE", `/api/teams/${f.slug}/audit`)).status).toBe(405);
  });

  test("a personal project's changes go to its owner's personal log", async () => {
    const { none } = f.people;
    const project = obj((await none.api("POST", "/api/projects", { name: "Solo" })).body);
    await none.api("PUT", `/api/projects/${String(project.id)}/env/K`, { value: "v" });
    const page = obj((await none.api("GET", "/api/audit")).body);
    expect((page.items as { action: string }[]).slice(0, 2).map((e) => e.action)).toEqual([
      "env.set",
      "project.create",
    ]);
  });
});

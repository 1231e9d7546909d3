// Teams in the dashboard: creating one, an invitation link accepted while signed in, the scope switcher, and the
// audit log page (every value escaped).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Deps } from "../deps.ts";
import { testDeps } from "../testing/deps.ts";
import { makeTeamFixture } from "../testing/team-fixture.ts";
import { fieldError, signIn, signInAs, Visitor } from "../testing/visitor.ts";
import { createDashboard } from "./app.ts";

let deps: Deps;
let app: ReturnType<typeof createDashboard>;
beforeAll(async () => {
  deps = await testDeps();
  app = createDashboard(deps, { peer: () => "192.0.2.44" });
});
afterAll(() => deps.close());

describe("teams in the dashboard", () => {
  test("create, invite, accept while signed in, switch scope, and read the escaped audit log", async () => {
    const owner = new Visitor(app);
    await signIn(deps.store, owner);
    const slug = `web-${crypto.randomUUID().slice(0, 6)}`;
    const bad = await owner.post("/teams", { slug: "Bad Slug!" });
    expect(bad.status).toBe(422);
    expect(fieldError(bad.text, "slug")).toContain("lowercase");
    const created = await owner.post("/teams", { slug, name: "Web <b>team</b>" });
    expect([created.status, created.headers.get("location")]).toEqual([303, `/teams/${slug}`]);
    const page = await owner.get(`/teams/${slug}`);
    expect(page.text).toContain("Web &lt;b");
    expect(page.text).not.toContain("<b>team</b>");

    const invited = await owner.post(`/teams/${slug}/invitations`, { role: "member" });
    expect(invited.status).toBe(201);
    const link = /(https?:\/\/[^\s<"]+\/invite\/(inv_[A-Za-z0-9_-]+))/.exec(invited.text);
    expect(link).not.toBeNull();
    const path = new URL(link?.[1] ?? "http://x").pathname;

    // Signed out, the link leads to sign-in first and back.
    const stranger = new Visitor(app);
    const anonymous = await stranger.get(path);
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get("location")).toBe(`/login?next=${encodeURIComponent(path)}`);

    const joiner = new Visitor(app);
    await signIn(deps.store, joiner);
    const confirm = await joiner.get(path);
    expect(confirm.status).toBe(200);
    const accepted = await joiner.post(path);
    expect([accepted.status, accepted.headers.get("location")]).toEqual([303, `/?team=${slug}`]);
    const again = await joiner.post(path);
    expect(again.status).toBe(404);
    expect(again.text).toContain("does not work any more");

    // The member creates a project in the team from its scope; the switcher lists personal and the team.
    const scoped = await joiner.get(`/?team=${slug}`);
    expect(scoped.text).toContain('class="scope-switcher"');
    expect(scoped.text).toContain(`href="/projects/new?team=${slug}"`);
    const made = await joiner.post("/projects", { name: "<script>alert(1)</script>", team: slug });
    expect(made.status).toBe(303);
    const listed = await joiner.get(`/?team=${slug}`);
    expect(listed.text).toContain("&lt;script");
    expect(listed.text).not.toContain("<script>alert(1)");
    const personal = await joiner.get("/");
    expect(personal.text).not.toContain("alert(1)");

    // Only owners read the team's audit log; every value in it is escaped.
    expect((await joiner.get(`/teams/${slug}/audit`)).status).toBe(403);
    const audit = await owner.get(`/teams/${slug}/audit`);
    expect(audit.status).toBe(200);
    expect(audit.text).toContain("project.create");
    expect(audit.text).toContain("member.join");
    expect(audit.text).toContain("invitation.create");
    expect(audit.text).toContain("192.0.2.44");
    expect(audit.text).toContain("&lt;script");
    expect(audit.text).not.toContain("<script>alert(1)");

    // The last owner cannot leave: said on the team's page.
    const leave = await owner.post(`/teams/${slug}/leave`);
    expect(leave.status).toBe(409);
    expect(leave.text).toContain("at least one owner");
  });

  test("a member's settings page has the domains and variables, not the owners' sections", async () => {
    const f = await makeTeamFixture(deps);
    const member = new Visitor(app);
    await signInAs(deps.store, member, f.people.member.user);
    const page = await member.get(`/projects/${f.project.id}/settings`);
    expect(page.status).toBe(200);
    for (const id of ["domains-form", 'id="env"']) expect(page.text).toContain(id);
    for (const id of ['id="general"', 'id="protection"', 'id="delete"']) expect(page.text).not.toContain(id);
    const saved = await member.post(`/projects/${f.project.id}/settings`, {
      section: "domains",
      subDomain: f.project.subDomain,
      customDomain: "www.member-domain.example.net",
    });
    expect(saved.status).toBe(303);
    const owner = new Visitor(app);
    await signInAs(deps.store, owner, f.people.owner.user);
    const full = await owner.get(`/projects/${f.project.id}/settings`);
    for (const id of ['id="general"', 'id="protection"', 'id="delete"']) expect(full.text).toContain(id);
    // A viewer's project page lists the deployments without the actions they may not take.
    const viewer = new Visitor(app);
    await signInAs(deps.store, viewer, f.people.viewer.user);
    const seen = await viewer.get(`/projects/${f.project.id}`);
    expect(seen.status).toBe(200);
    expect(seen.text).toContain(f.ready[1]);
    expect(seen.text).not.toContain('id="deploy-form"');
    expect(seen.text).not.toContain("/redeploy");
    expect((await member.get(`/projects/${f.project.id}`)).text).toContain("/redeploy");
  }, 60_000);
});

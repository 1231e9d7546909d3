// The remembered scope: the switcher's form (CSRF-checked) keeps the chosen team for plain links; `?team=` still
// wins; a user removed from the team is back in the personal scope with a notice; a cookie from elsewhere is ignored.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Deps } from "../deps.ts";
import { apiClient, obj, testDeps, testUser } from "../testing/deps.ts";
import { join, type Person } from "../testing/team-fixture.ts";
import { signInAs, Visitor } from "../testing/visitor.ts";
import { createDashboard } from "./app.ts";
import { SCOPE_COOKIE } from "./scope.ts";

let deps: Deps;
let app: ReturnType<typeof createDashboard>;
beforeAll(async () => {
  deps = await testDeps();
  app = createDashboard(deps);
});
afterAll(() => deps.close());

async function person(): Promise<Person> {
  const { user, token } = await testUser(deps);
  return { user, token, api: apiClient(deps, token) };
}

/** A team owned by `owner` with one project; its slug and the project's id. */
async function teamWithProject(owner: Person, name: string) {
  const slug = `t-${crypto.randomUUID().slice(0, 8)}`;
  expect((await owner.api("POST", "/api/teams", { slug, name })).status).toBe(201);
  const made = await owner.api("POST", `/api/projects?team=${slug}`, { name: `${name} site` });
  expect(made.status).toBe(201);
  return { slug, projectId: String(obj(made.body).id) };
}

async function visitorOf(who: Person): Promise<Visitor> {
  const visitor = new Visitor(app);
  await signInAs(deps.store, visitor, who.user);
  await visitor.get("/");
  return visitor;
}

describe("remembered dashboard scope", () => {
  test("switch to a team, follow plain links and stay there; ?team= wins; switch back", async () => {
    const owner = await person();
    const member = await person();
    const acme = await teamWithProject(owner, "Acme");
    const other = await teamWithProject(owner, "Other");
    await join(owner, acme.slug, member, "member");
    await join(owner, other.slug, member, "viewer");
    expect((await member.api("POST", "/api/projects", { name: "Mine alone" })).status).toBe(201);
    const browser = await visitorOf(member);

    const personal = await browser.get("/");
    expect(personal.text).toContain("Mine alone");
    expect(personal.text).not.toContain("Acme site");
    // The switcher is a form per scope, with the session's CSRF token.
    expect(personal.text).toContain('action="/scope"');
    expect(personal.text).toContain(`name="team" value="${acme.slug}"`);

    const switched = await browser.post("/scope", { team: acme.slug });
    expect([switched.status, switched.headers.get("location")]).toEqual([303, "/"]);
    const home = await browser.get("/");
    expect(home.text).toContain("Acme site");
    expect(home.text).not.toContain("Mine alone");
    expect(home.text).toContain(`href="/projects/new?team=${acme.slug}"`);
    // A project page, then the plain Projects link: still the team's list.
    expect((await browser.get(`/projects/${acme.projectId}`)).status).toBe(200);
    expect((await browser.get("/")).text).toContain("Acme site");
    // New project without ?team= makes the project in the team.
    const form = await browser.get("/projects/new");
    expect(form.text).toContain(`<input type="hidden" name="team" value="${acme.slug}"/>`);

    // ?team= in the address wins for that page, and the remembered team stays.
    const viaQuery = await browser.get(`/?team=${other.slug}`);
    expect(viaQuery.text).toContain("Other site");
    expect(viaQuery.text).not.toContain("Acme site");
    expect((await browser.get("/")).text).toContain("Acme site");

    // A viewer's remembered team is shown, but New project stays personal.
    await browser.post("/scope", { team: other.slug });
    expect((await browser.get("/")).text).toContain("Other site");
    expect((await browser.get("/projects/new")).text).not.toContain('name="team"');

    expect((await browser.post("/scope", { team: "" })).status).toBe(303);
    const back = await browser.get("/");
    expect(back.text).toContain("Mine alone");
    expect(back.text).not.toContain("Other site");
  });

  test("removed from the team: personal scope with a notice, never the team's projects", async () => {
    const owner = await person();
    const member = await person();
    const acme = await teamWithProject(owner, "Removed");
    await join(owner, acme.slug, member, "member");
    const browser = await visitorOf(member);
    await browser.post("/scope", { team: acme.slug });
    expect((await browser.get("/")).text).toContain("Removed site");

    const removed = await owner.api("DELETE", `/api/teams/${acme.slug}/members/${member.user.id}`);
    expect(removed.status).toBe(204);
    const after = await browser.get("/");
    expect(after.status).toBe(200);
    expect(after.text).not.toContain("Removed site");
    expect(after.text).toContain("You are no longer a member of the team you were working in");
    expect(after.headers.getSetCookie().join()).toContain(`${SCOPE_COOKIE}=;`);
    // Said once: the cookie is gone.
    expect((await browser.get("/")).text).not.toContain("no longer a member");
  });

  test("the switch needs the CSRF token and membership; another session's cookie is ignored", async () => {
    const owner = await person();
    const outsider = await person();
    const acme = await teamWithProject(owner, "Guarded");
    const mine = await visitorOf(owner);
    const stranger = await visitorOf(outsider);

    const forged = await stranger.post("/scope", { team: acme.slug, _csrf: "not-the-token" });
    expect(forged.status).toBe(403);
    const notMember = await stranger.post("/scope", { team: acme.slug });
    expect(notMember.status).toBe(404);
    expect(stranger.cookies.has(SCOPE_COOKIE)).toBe(false);

    // The owner's remembered scope, copied into the outsider's cookies (or a later session of the owner's): ignored.
    await mine.post("/scope", { team: acme.slug });
    const value = mine.cookies.get(SCOPE_COOKIE) ?? "";
    expect(value).not.toBe("");
    stranger.cookies.set(SCOPE_COOKIE, value);
    const page = await stranger.get("/");
    expect(page.text).not.toContain("Guarded site");
    const later = await visitorOf(owner);
    later.cookies.set(SCOPE_COOKIE, value);
    expect((await later.get("/")).text).not.toContain("Guarded site");
    expect((await mine.get("/")).text).toContain("Guarded site");
  });
});

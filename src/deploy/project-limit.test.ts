// Limits, step 3: MAX_PROJECTS_PER_USER through the API and the dashboard, and under concurrent creation.

import { afterEach, expect, test } from "bun:test";
import type { Env } from "../config/config.ts";
import { createDashboard } from "../dashboard/app.ts";
import { apiClient, obj, testDeps, testUser } from "../testing/deps.ts";
import { signIn, signInAs, Visitor } from "../testing/visitor.ts";
import { createProject } from "./projects.ts";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function deps(env: Env) {
  const d = await testDeps(env);
  cleanup.push(() => d.close());
  return d;
}

test("API: the project past the limit is refused with 409 project_limit; deleting one makes room", async () => {
  const d = await deps({ MAX_PROJECTS_PER_USER: "2" });
  const { token } = await testUser(d);
  const api = apiClient(d, token);
  const first = await api("POST", "/api/projects", { name: "one" });
  expect(first.status).toBe(201);
  expect((await api("POST", "/api/projects", { name: "two" })).status).toBe(201);
  const refused = await api("POST", "/api/projects", { name: "three" });
  expect(refused.status).toBe(409);
  expect(refused.body).toEqual({
    error: {
      code: "project_limit",
      message: "you have reached the limit of 2 projects; delete one to make room",
    },
  });
  const listed = await api("GET", "/api/projects");
  expect((obj(listed.body).items as unknown[]).length).toBe(2);

  // Another user has their own allowance.
  const other = apiClient(d, (await testUser(d)).token);
  expect((await other("POST", "/api/projects", { name: "theirs" })).status).toBe(201);

  expect((await api("DELETE", `/api/projects/${obj(first.body).id}`)).status).toBe(204);
  expect((await api("POST", "/api/projects", { name: "three" })).status).toBe(201);
});

test("dashboard: the new-project form shows the limit inline", async () => {
  const d = await deps({ MAX_PROJECTS_PER_USER: "1" });
  const v = new Visitor(createDashboard(d));
  await signIn(d.store, v);
  expect((await v.post("/projects", { name: "Only", gitUrl: "https://example.com/a.git" })).status).toBe(303);
  await v.get("/projects/new");
  const refused = await v.post("/projects", { name: "Second", gitUrl: "https://example.com/b.git" });
  expect(refused.status).toBe(409);
  expect(refused.text).toContain('class="form-error" role="alert">You have reached the limit of 1 projects');
  // The form keeps what was typed.
  expect(refused.text).toContain('value="Second"');
});

test("creations racing for the last places never leave a user over the limit", async () => {
  const d = await deps({ MAX_PROJECTS_PER_USER: "3" });
  const { user } = await testUser(d);
  const results = await Promise.allSettled(
    Array.from({ length: 8 }, (_, i) => createProject(d.store, d.config, user.id, { name: `p${i}` })),
  );
  // Exactly the free places are taken: none lost to the race, none over the limit.
  expect(results.filter((r) => r.status === "fulfilled").length).toBe(3);
  expect(await d.store.projects.count(user.id)).toBe(3);
  for (const r of results) {
    if (r.status === "rejected") expect(r.reason).toMatchObject({ code: "project_limit" });
  }
});

test("MAX_PROJECTS_PER_USER=0 is unlimited; the default is 100", async () => {
  expect((await deps({})).config.limits.maxProjectsPerUser).toBe(100);
  const d = await deps({ MAX_PROJECTS_PER_USER: "0" });
  const { user } = await testUser(d);
  for (let i = 0; i < 120; i++) await createProject(d.store, d.config, user.id, { name: `p${i}` });
  expect(await d.store.projects.count(user.id)).toBe(120);
});

test("per scope: team projects count for the team (whoever made them), personal ones for the user", async () => {
  const d = await deps({ MAX_PROJECTS_PER_USER: "2" });
  const owner = await testUser(d);
  const member = await testUser(d);
  const ownerApi = apiClient(d, owner.token);
  const memberApi = apiClient(d, member.token);
  const slug = `lim-${crypto.randomUUID().slice(0, 8)}`;
  expect((await ownerApi("POST", "/api/teams", { slug, name: "Limited" })).status).toBe(201);
  const link = obj((await ownerApi("POST", `/api/teams/${slug}/invitations`, { role: "member" })).body);
  expect((await memberApi("POST", "/api/invitations/accept", { token: link.token })).status).toBe(200);

  // The member fills the team: it does not use their personal places, nor the owner's.
  for (const name of ["t1", "t2"])
    expect((await memberApi("POST", `/api/projects?team=${slug}`, { name })).status).toBe(201);
  for (const name of ["m1", "m2"])
    expect((await memberApi("POST", "/api/projects", { name })).status).toBe(201);
  expect((await ownerApi("POST", "/api/projects", { name: "o1" })).status).toBe(201);
  const mine = await memberApi("POST", "/api/projects", { name: "m3" });
  expect([mine.status, obj(obj(mine.body).error).message]).toEqual([
    409,
    "you have reached the limit of 2 projects; delete one to make room",
  ]);
  // The team is full for every member, the owner too, whatever their personal count.
  const full = await ownerApi("POST", `/api/projects?team=${slug}`, { name: "t3" });
  expect(full.status).toBe(409);
  expect(obj(full.body).error).toEqual({
    code: "project_limit",
    message: "the team has reached the limit of 2 projects; delete one to make room",
  });

  // The dashboard says the same inline.
  const v = new Visitor(createDashboard(d));
  await signInAs(d.store, v, owner.user);
  await v.get(`/projects/new?team=${slug}`);
  const refused = await v.post("/projects", { name: "Third", team: slug });
  expect(refused.status).toBe(409);
  expect(refused.text).toContain("The team has reached the limit of 2 projects");
});

test("a transfer needs a place in the scope it moves to", async () => {
  const d = await deps({ MAX_PROJECTS_PER_USER: "1" });
  const owner = await testUser(d);
  const api = apiClient(d, owner.token);
  const slug = `move-${crypto.randomUUID().slice(0, 8)}`;
  expect((await api("POST", "/api/teams", { slug, name: "Movers" })).status).toBe(201);
  const personal = obj((await api("POST", "/api/projects", { name: "mine" })).body);
  const inTeam = obj((await api("POST", `/api/projects?team=${slug}`, { name: "ours" })).body);
  // Both scopes are full: neither project may move into the other's.
  const intoTeam = await api("POST", `/api/projects/${personal.id}/transfer`, { team: slug });
  expect([intoTeam.status, obj(obj(intoTeam.body).error).code]).toEqual([409, "project_limit"]);
  expect(obj(obj(intoTeam.body).error).message).toContain("the team has reached the limit of 1 projects");
  const out = await api("POST", `/api/projects/${inTeam.id}/transfer`, { team: null });
  expect(obj(obj(out.body).error).message).toBe(
    "you have reached the limit of 1 projects; delete one to make room",
  );
  // A place made, the move goes through and the project is counted where it went.
  expect((await api("DELETE", `/api/projects/${personal.id}`)).status).toBe(204);
  expect((await api("POST", `/api/projects/${inTeam.id}/transfer`, { team: null })).status).toBe(200);
  expect(await d.store.projects.count(owner.user.id)).toBe(1);
  expect((await api("POST", `/api/projects?team=${slug}`, { name: "again" })).status).toBe(201);
});

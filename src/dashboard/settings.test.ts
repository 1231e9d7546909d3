// Project settings, environment variables and deletion through the dashboard's handler.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import type { User } from "../model/entities.ts";
import { testDeps } from "../testing/deps.ts";
import { makeVictim, victimState } from "../testing/victim.ts";
import { fieldError, signIn, signInAs, Visitor } from "../testing/visitor.ts";
import { createDashboard } from "./app.ts";

let deps: Deps;
let app: ReturnType<typeof createDashboard>;
beforeAll(async () => {
  deps = await testDeps();
  app = createDashboard(deps);
});
afterAll(() => deps.close());

async function setup(): Promise<{ v: Visitor; user: User; id: string; path: string }> {
  const v = new Visitor(app);
  const user = await signIn(deps.store, v);
  const project = await createProject(deps.store, deps.config, user.id, {
    name: `Site ${crypto.randomUUID().slice(0, 6)}`,
    gitUrl: "https://example.com/site.git",
    buildCommand: "npm run build",
  });
  return { v, user, id: project.id, path: `/projects/${project.id}` };
}

describe("settings", () => {
  test("each section saves only its own fields; empty optional fields clear them", async () => {
    const { v, user, id, path } = await setup();
    const page = await v.get(`${path}/settings`);
    expect(page.text).toContain('value="npm run build"');

    const saved = await v.post(`${path}/settings`, {
      section: "build",
      buildCommand: "",
      outputDirectory: "public",
    });
    expect(saved.headers.get("location")).toBe(`${path}/settings?saved=build#build-form`);
    expect(await deps.store.projects.get(user.id, id)).toMatchObject({
      buildCommand: null,
      outputDirectory: "public",
    });
    expect((await v.get(`${path}/settings?saved=build`)).text).toContain("Saved");

    // Fields of another section sent along are ignored.
    await v.post(`${path}/settings`, {
      section: "general",
      name: "Renamed",
      productionBranch: "main",
      subDomain: "hijack",
    });
    expect(await deps.store.projects.get(user.id, id)).toMatchObject({ name: "Renamed" });
    expect((await deps.store.projects.get(user.id, id))?.subDomain).not.toBe("hijack");
  });

  test("the custom domain is set and validated in the domains section", async () => {
    const { v, user, id, path } = await setup();
    const bad = await v.post(`${path}/settings`, {
      section: "domains",
      subDomain: "fine-name",
      customDomain: "not a domain",
    });
    expect(bad.status).toBe(422);
    expect(fieldError(bad.text, "customDomain")).toStartWith("Custom domain ");
    expect(bad.text).toContain('value="not a domain"');
    const ok = await v.post(`${path}/settings`, {
      section: "domains",
      subDomain: "fine-name",
      customDomain: "www.example.org",
    });
    expect(ok.status).toBe(303);
    expect(await deps.store.projects.get(user.id, id)).toMatchObject({
      customDomain: "www.example.org",
      subDomain: "fine-name",
    });
    expect((await v.get(path)).text).toContain("www.example.org");
  });

  test("an unknown section is refused", async () => {
    const { v, path } = await setup();
    expect((await v.post(`${path}/settings`, { section: "owner", name: "x" })).status).toBe(422);
  });

  test("the app server section: start command, idle minutes (0 = always on) and instances; bad values inline", async () => {
    const { v, user, id, path } = await setup();
    const page = await v.get(`${path}/settings`);
    expect(page.text).toContain('id="server-form"');
    expect(page.text).toContain('name="startCommand"');
    const saved = await v.post(`${path}/settings`, {
      section: "server",
      startCommand: "node server.js --port $PORT",
      idleTimeoutMinutes: "0",
      maxInstances: "4",
    });
    expect(saved.headers.get("location")).toBe(`${path}/settings?saved=server#server-form`);
    expect(await deps.store.projects.get(user.id, id)).toMatchObject({
      startCommand: "node server.js --port $PORT",
      idleTimeoutMinutes: 0,
      maxInstances: 4,
    });
    expect((await v.get(`${path}/settings`)).text).toContain('value="node server.js --port $PORT"');
    for (const [field, value, message] of [
      ["idleTimeoutMinutes", "5000", /^Idle timeout /],
      ["idleTimeoutMinutes", "soon", /^Idle timeout /],
      ["maxInstances", "0", /^Maximum instances /],
    ] as const) {
      const bad = await v.post(`${path}/settings`, { section: "server", startCommand: "", [field]: value });
      expect(bad.status).toBe(422);
      expect(fieldError(bad.text, field)).toMatch(message);
    }
    const cleared = await v.post(`${path}/settings`, {
      section: "server",
      startCommand: "",
      idleTimeoutMinutes: "",
      maxInstances: "",
    });
    expect(cleared.status).toBe(303);
    expect(await deps.store.projects.get(user.id, id)).toMatchObject({
      startCommand: null,
      idleTimeoutMinutes: null,
      maxInstances: null,
    });
  });

  test("another account cannot change a project's start command: 404, nothing saved", async () => {
    const { id, path } = await setup();
    const other = new Visitor(app);
    await signIn(deps.store, other);
    const res = await other.post(`${path}/settings`, { section: "server", startCommand: "sh -c evil" });
    expect(res.status).toBe(404);
    expect((await deps.store.projects.find(id))?.startCommand).toBeNull();
  });
});

/** Whether the env form's environment checkboxes are ticked. */
const checkboxes = (html: string) => ({
  production: /<input type="checkbox" name="production" value="on" checked/.test(html),
  preview: /<input type="checkbox" name="preview" value="on" checked/.test(html),
});

describe("environment variables", () => {
  test("values are write-only: set, listed by name, replaced, removed", async () => {
    const { v, user, id, path } = await setup();
    const bad = await v.post(`${path}/env`, { key: "1BAD", value: "x" });
    expect(bad.status).toBe(422);
    expect(fieldError(bad.text, "key")).toContain("Variable names must start with");

    const set = await v.post(`${path}/env`, {
      key: "API_SECRET",
      value: "s3cret-value",
      production: "on",
      preview: "on",
    });
    expect(set.headers.get("location")).toBe(`${path}/settings?saved=env#env`);
    const page = await v.get(`${path}/settings`);
    expect(page.text).toContain("API_SECRET");
    expect(page.text).not.toContain("s3cret-value");
    const stored = await deps.store.env.list(id);
    expect(stored.map((e) => [e.key, e.targets])).toEqual([["API_SECRET", ["production", "preview"]]]);
    expect(stored[0]?.valueEncrypted).not.toContain("s3cret");

    await v.post(`${path}/env/API_SECRET/delete`);
    expect(await deps.store.env.list(id)).toEqual([]);
    expect((await v.post(`${path}/env/API_SECRET/delete`)).status).toBe(404);
    expect(user.id).toBeTruthy();
  });
  test("environments: both ticked at first; a value per environment, listed and removed each on its own", async () => {
    const { v, id, path } = await setup();
    const form = (await v.get(`${path}/settings`)).text;
    expect(checkboxes(form)).toEqual({ production: true, preview: true });

    const none = await v.post(`${path}/env`, { key: "DATABASE_URL", value: "postgres://nowhere" });
    expect(none.status).toBe(422);
    expect(fieldError(none.text, "target")).toBe("Environments must name production, preview or both");
    // The form comes back as the user left it: the name typed, no box ticked; nothing was stored.
    expect(none.text).toContain('value="DATABASE_URL"');
    expect(checkboxes(none.text)).toEqual({ production: false, preview: false });
    expect(await deps.store.env.list(id)).toEqual([]);

    const ok = (form: Record<string, string>) => v.post(`${path}/env`, form);
    expect((await ok({ key: "DATABASE_URL", value: "postgres://prod", production: "on" })).status).toBe(303);
    expect((await ok({ key: "DATABASE_URL", value: "postgres://preview", preview: "on" })).status).toBe(303);
    const page = (await v.get(`${path}/settings`)).text;
    expect(page).not.toContain("postgres://");
    const rows = [...page.matchAll(/<li class="list-row">([\s\S]*?)<\/li>/g)].map((m) => m[1] ?? "");
    expect(rows.map((row) => [...row.matchAll(/class="tag tag-\w+">(\w+)</g)].map((t) => t[1]))).toEqual([
      ["Production"],
      ["Preview"],
    ]);
    expect(rows[0]).toContain('name="target" value="production"');
    expect(rows[1]).toContain('aria-label="Remove DATABASE_URL (Preview)"');

    // Removing the production one keeps the preview value.
    expect((await v.post(`${path}/env/DATABASE_URL/delete`, { target: "production" })).status).toBe(303);
    expect((await deps.store.env.list(id)).map((e) => [e.key, e.targets])).toEqual([
      ["DATABASE_URL", ["preview"]],
    ]);
    expect((await v.post(`${path}/env/DATABASE_URL/delete`, { target: "production" })).status).toBe(404);
    const bad = await v.post(`${path}/env/DATABASE_URL/delete`, { target: "staging" });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain("Environments must be production and/or preview");
    expect((await deps.store.env.list(id)).map((e) => e.targets)).toEqual([["preview"]]);
  });

  test("another account cannot delete someone else's variable: 404 page, the variable and its value kept", async () => {
    const victim = await makeVictim(deps);
    const path = `/projects/${victim.project.id}/env/VICTIM_API_KEY/delete`;
    const before = await victimState(deps, victim);
    const v = new Visitor(app);
    await signIn(deps.store, v);
    const res = await v.post(path);
    expect(res.status).toBe(404);
    expect(res.text).not.toContain(victim.project.name);
    for (const target of ["production", "preview"]) {
      expect((await v.post(path.replace("VICTIM_API_KEY", "VICTIM_DB_URL"), { target })).status).toBe(404);
    }
    expect(await victimState(deps, victim)).toEqual(before);
    expect(before.envValues.VICTIM_API_KEY).toBe(victim.env.VICTIM_API_KEY);
    // The owner can.
    const owner = new Visitor(app);
    await signInAs(deps.store, owner, victim.user);
    expect((await owner.post(path)).status).toBe(303);
    expect((await victimState(deps, victim)).envValues.VICTIM_API_KEY).toBeUndefined();
  });
});

describe("deleting a project", () => {
  test("needs the project's name typed exactly, then removes it with its deployments", async () => {
    const { v, user, id, path } = await setup();
    const project = await deps.store.projects.get(user.id, id);
    await v.post(`${path}/deploy`);
    const wrong = await v.post(`${path}/delete`, { confirm: "nope" });
    expect(wrong.status).toBe(422);
    expect(fieldError(wrong.text, "confirm")).toBe("Type the project name exactly as shown to confirm");
    expect(await deps.store.projects.get(user.id, id)).not.toBeNull();

    const done = await v.post(`${path}/delete`, { confirm: project?.name ?? "" }, { "hx-request": "true" });
    expect(done.headers.get("hx-redirect")).toBe("/");
    expect(await deps.store.projects.get(user.id, id)).toBeNull();
    expect((await v.get(path)).status).toBe(404);
  });
});

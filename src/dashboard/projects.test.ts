// Projects through the dashboard's handler: CSRF, inline validation, escaping, deploying (another account on
// every route: ownership.test.ts).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import { testDeps } from "../testing/deps.ts";
import { fieldError, signIn, Visitor } from "../testing/visitor.ts";
import { createDashboard } from "./app.ts";

let deps: Deps;
let app: ReturnType<typeof createDashboard>;
beforeAll(async () => {
  deps = await testDeps();
  app = createDashboard(deps);
});
afterAll(() => deps.close());

const GIT = "https://example.com/site.git";

describe("CSRF", () => {
  test("a state-changing request without the session's token is refused and changes nothing", async () => {
    const v = new Visitor(app);
    const user = await signIn(deps.store, v);
    const other = new Visitor(app);
    await signIn(deps.store, other);
    const form = { name: "Nope", gitUrl: GIT };
    expect((await v.send("POST", "/projects", { form })).status).toBe(403);
    expect((await v.post("/projects", { ...form, _csrf: "forged" })).status).toBe(403);
    // A valid token of another session is no better.
    expect((await v.post("/projects", { ...form, _csrf: other.csrf })).status).toBe(403);
    const refused = await v.send("POST", "/projects", { form, headers: { "x-csrf-token": other.csrf } });
    expect(refused.status).toBe(403);
    expect(refused.text).toContain("did not come from this site");
    expect((await deps.store.projects.list(user.id, { limit: 10, cursor: null })).items).toEqual([]);

    // The hidden field and the htmx header both work.
    expect((await v.post("/projects", form)).status).toBe(303);
    const htmx = await v.send("POST", "/projects", {
      form: { name: "Via htmx", gitUrl: GIT },
      headers: { "x-csrf-token": v.csrf, "hx-request": "true" },
    });
    expect(htmx.headers.get("hx-redirect")).toMatch(/^\/deployments\/[0-9a-f-]{36}$/);
  });
});

describe("creating a project", () => {
  test("domain validation errors are shown next to their field, with the user's values kept", async () => {
    const v = new Visitor(app);
    await signIn(deps.store, v);
    const res = await v.post("/projects", {
      name: "My Site",
      gitUrl: "ftp://example.com/x.git",
      outputDirectory: "../etc",
      buildCommand: "npm run build",
    });
    expect(res.status).toBe(422);
    expect(fieldError(res.text, "gitUrl")).toBe(
      "Git repository URL must be an https://, ssh:// or git@host:path URL",
    );
    expect(res.text).toContain('value="ftp://example.com/x.git"');
    expect(res.text).toContain('value="npm run build"');
    expect(res.text).toContain('aria-invalid="true"');

    const dir = await v.post("/projects", { name: "My Site", gitUrl: GIT, outputDirectory: "../etc" });
    expect(fieldError(dir.text, "outputDirectory")).toBe(
      "Output directory must be a relative path inside the repository",
    );

    const taken = await v.post("/projects", { name: "Taken", gitUrl: GIT, subDomain: "taken-one" });
    expect(taken.status).toBe(303);
    const clash = await v.post("/projects", { name: "Clash", gitUrl: GIT, subDomain: "taken-one" });
    expect(clash.status).toBe(409);
    expect(fieldError(clash.text, "subDomain")).toContain("taken");
  });

  test("overrides are saved through the same createProject the API uses", async () => {
    const v = new Visitor(app);
    const user = await signIn(deps.store, v);
    const res = await v.post("/projects", {
      name: "Overrides",
      gitUrl: GIT,
      productionBranch: "release",
      rootDirectory: "apps/web",
      installCommand: "pnpm i",
      buildCommand: "pnpm build",
      outputDirectory: "out",
      buildTimeoutSeconds: "120",
      subDomain: "",
    });
    const deploymentId = (res.headers.get("location") ?? "").split("/").pop() ?? "";
    const id = (await deps.store.deployments.find(deploymentId))?.projectId ?? "";
    expect(await deps.store.projects.get(user.id, id)).toMatchObject({
      name: "Overrides",
      subDomain: "overrides",
      productionBranch: "release",
      rootDirectory: "apps/web",
      installCommand: "pnpm i",
      buildCommand: "pnpm build",
      outputDirectory: "out",
      buildTimeoutSeconds: 120,
    });
  });

  test("project names and other user text are escaped everywhere they appear", async () => {
    const v = new Visitor(app);
    const user = await signIn(deps.store, v);
    const name = `<script>alert(1)</script><img src=x onerror="alert(2)">`;
    const project = await createProject(deps.store, deps.config, user.id, { name, gitUrl: GIT });
    for (const path of ["/", `/projects/${project.id}`, `/projects/${project.id}/settings`]) {
      const page = await v.get(path);
      expect(page.status).toBe(200);
      expect(page.text).not.toContain("<script>alert");
      expect(page.text).not.toContain("<img src=x");
      expect(page.text).toContain(
        "&lt;script>alert(1)&lt;/script>&lt;img src=x onerror=&quot;alert(2)&quot;>",
      );
    }
    // Echoed form values too.
    const echoed = await v.post("/projects", { name: "ok", gitUrl: `"><script>alert(3)</script>` });
    expect(echoed.status).toBe(422);
    expect(echoed.text).not.toContain("<script>alert(3)");
  });
});

describe("the project pages", () => {
  test("the list shows the production URL and the latest deployment's status; deploy queues one", async () => {
    const v = new Visitor(app);
    const user = await signIn(deps.store, v);
    const project = await createProject(deps.store, deps.config, user.id, { name: "Listed", gitUrl: GIT });
    let list = await v.get("/");
    expect(list.text).toContain(`listed.localhost:${deps.config.proxyPort}`);
    expect(list.text).toContain("No deployments");

    const bad = await v.post(`/projects/${project.id}/deploy`, { branch: "-x" });
    expect(bad.status).toBe(422);
    expect(fieldError(bad.text, "branch")).toContain("Branch");
    const res = await v.post(`/projects/${project.id}/deploy`, { branch: "" });
    expect(res.status).toBe(303);
    list = await v.get("/");
    expect(list.text).toContain('data-status="QUEUED"');
    // Unfinished deployments poll their badge.
    expect(list.text).toMatch(/hx-get="\/deployments\/[0-9a-f-]+\/badge" hx-trigger="every 2s"/);
    const page = await v.get(`/projects/${project.id}`);
    expect(page.text).toContain("Production");
    expect(page.text).toContain('class="mono row-branch">main<');
  });

  test("a project without a git URL explains why it cannot deploy", async () => {
    const v = new Visitor(app);
    const user = await signIn(deps.store, v);
    const project = await createProject(deps.store, deps.config, user.id, { name: "No git" });
    expect((await v.get(`/projects/${project.id}`)).text).toContain("no git repository yet");
    const res = await v.post(`/projects/${project.id}/deploy`);
    expect(res.status).toBe(400);
    expect(res.text).toContain("Project has no git URL to build from");
  });
});

// The ways to a first deployment through the dashboard's handler: the empty projects page, importing a git
// URL with a framework preset (creating starts the build), and where drops are offered. The browser side of
// drops runs in Chromium (first-run.e2e.test.ts).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import { testDeps } from "../testing/deps.ts";
import { signIn, Visitor } from "../testing/visitor.ts";
import { createDashboard } from "./app.ts";
import { assetUrls } from "./assets.ts";

let deps: Deps;
let app: ReturnType<typeof createDashboard>;
beforeAll(async () => {
  deps = await testDeps({ MAX_UPLOAD_MB: "25" });
  app = createDashboard(deps);
});
afterAll(() => deps.close());

const GIT = "https://example.com/you/my-site.git";

describe("the empty projects page", () => {
  test("offers a git import, a drop zone with the server's limits, and the CLI commands for this server", async () => {
    const v = new Visitor(app, "http://dash.example:9000");
    const user = await signIn(deps.store, v);
    const page = await v.get("/");
    expect(page.text).toContain("No projects yet: deploy your first site");
    expect(page.text).toContain('<form method="get" action="/projects/new"');
    // MAX_UPLOAD_MB (25) is below the 100 MB a deployment's file may have: the browser checks the lower one.
    expect(page.text).toContain(`data-max-file-bytes="${25 * 1024 * 1024}"`);
    expect(page.text).toContain(`data-max-files="20000"`);
    expect(page.text).toContain("minivercel login http://dash.example:9000\nminivercel deploy --prod");
    for (const src of assetUrls.dropJs) expect(page.text).toContain(`<script src="${src}" defer>`);

    // Behind a TLS-terminating proxy the command names https (and the browser holds the __Host- cookie).
    v.cookies.set("__Host-mv_session", v.cookies.get("mv_session") ?? "");
    const proxied = await v.get("/", { "x-forwarded-proto": "https" });
    expect(proxied.text).toContain("minivercel login https://dash.example:9000");

    // With a project, the list instead; the ways in are one click away on "New project".
    await createProject(deps.store, deps.config, user.id, { name: "Listed", gitUrl: GIT });
    const list = await v.get("/");
    expect(list.text).not.toContain('id="drop"');
    expect(list.text).not.toContain(assetUrls.dropJs[0] ?? "?");
    const create = await v.get("/projects/new");
    expect(create.text).toContain('id="drop"');
    expect(create.text).toContain('id="cli-commands"');
  });
});

describe("importing a git repository", () => {
  test("the form starts from the URL and a name made from it; the URL is shown escaped", async () => {
    const v = new Visitor(app);
    await signIn(deps.store, v);
    const page = await v.get(`/projects/new?gitUrl=${encodeURIComponent(GIT)}`);
    expect(page.text).toContain(`id="f-gitUrl" name="gitUrl" type="text" value="${GIT}"`);
    expect(page.text).toContain('id="f-name" name="name" type="text" value="my-site"');
    expect(page.text).toContain('<option value="vite" data-build="npm run build" data-output="dist"');
    expect(page.text).toContain("Detected when the build runs");

    const hostile = await v.get(`/projects/new?gitUrl=${encodeURIComponent('"><script>alert(1)</script>')}`);
    expect(hostile.status).toBe(200);
    expect(hostile.text).not.toContain("<script>alert(1)");
    expect(hostile.text).toContain("&quot;>&lt;script>alert(1)&lt;/script>");
  });

  test("creating starts the first build of the production branch and goes to its live log", async () => {
    const v = new Visitor(app);
    const user = await signIn(deps.store, v);
    const res = await v.post("/projects", { name: "Built", gitUrl: GIT, productionBranch: "release" });
    expect(res.status).toBe(303);
    const location = res.headers.get("location") ?? "";
    expect(location).toMatch(/^\/deployments\/[0-9a-f-]{36}$/);
    const deployment = await deps.store.deployments.get(user.id, location.split("/").pop() ?? "");
    expect(deployment).toMatchObject({ status: "QUEUED", target: "production", branch: "release" });
  });

  test("a preset fills the build settings left empty (without JavaScript); what was typed wins", async () => {
    const v = new Visitor(app);
    const user = await signIn(deps.store, v);
    const settingsOf = async (form: Record<string, string>) => {
      const res = await v.post("/projects", { gitUrl: GIT, ...form });
      const deployment = await deps.store.deployments.get(
        user.id,
        res.headers.get("location")?.split("/").pop() ?? "",
      );
      const project = await deps.store.projects.get(user.id, deployment?.projectId ?? "");
      return { buildCommand: project?.buildCommand, outputDirectory: project?.outputDirectory };
    };
    expect(await settingsOf({ name: "Vite", framework: "vite" })).toEqual({
      buildCommand: "npm run build",
      outputDirectory: "dist",
    });
    expect(await settingsOf({ name: "Next", framework: "nextjs", buildCommand: "pnpm export" })).toEqual({
      buildCommand: "pnpm export",
      outputDirectory: "out",
    });
    // Detection (no preset) and the plain static preset leave them to the build.
    expect(await settingsOf({ name: "Detect", framework: "" })).toEqual({
      buildCommand: null,
      outputDirectory: null,
    });
    expect(await settingsOf({ name: "Static", framework: "static" })).toEqual({
      buildCommand: null,
      outputDirectory: null,
    });
    expect(await settingsOf({ name: "Unknown", framework: "nope" })).toEqual({
      buildCommand: null,
      outputDirectory: null,
    });
  });

  test("without a git URL the project is only created, and its page offers drops instead", async () => {
    const v = new Visitor(app);
    const user = await signIn(deps.store, v);
    const res = await v.post("/projects", { name: "Dropped" });
    const location = res.headers.get("location") ?? "";
    expect(location).toMatch(/^\/projects\/[0-9a-f-]{36}$/);
    const id = location.split("/").pop() ?? "";
    expect((await deps.store.deployments.list(user.id, id, { limit: 5, cursor: null })).items).toEqual([]);
    const page = await v.get(location);
    expect(page.text).toContain(`data-project-id="${id}"`);
    expect(page.text).toContain("Deploy to Dropped");

    const withGit = await createProject(deps.store, deps.config, user.id, { name: "Git", gitUrl: GIT });
    expect((await v.get(`/projects/${withGit.id}`)).text).not.toContain('id="drop"');
  });
});

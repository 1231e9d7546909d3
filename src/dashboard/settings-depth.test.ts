// Settings through the dashboard's handler: the sections' navigation, the SPA fallback setting, "Redeploy to apply"
// after a change only a deployment picks up, and pasting a .env file (all or nothing, the bad line named).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import { testDeps } from "../testing/deps.ts";
import { storedDeployment } from "../testing/store-deployment.ts";
import { fieldError, signIn, Visitor } from "../testing/visitor.ts";
import { createDashboard } from "./app.ts";

let deps: Deps;
let app: ReturnType<typeof createDashboard>;
beforeAll(async () => {
  deps = await testDeps();
  app = createDashboard(deps);
});
afterAll(() => deps.close());

/** Where a redirect leads, as a browser asks for it (the fragment stays in the browser). */
const followed = (res: { headers: Headers }) => (res.headers.get("location") ?? "").replace(/#.*$/, "");

async function owner(live = true) {
  const v = new Visitor(app);
  const user = await signIn(deps.store, v);
  const project = await createProject(deps.store, deps.config, user.id, {
    name: "Configured",
    gitUrl: "https://example.com/site.git",
  });
  let productionId: string | null = null;
  if (live) {
    productionId = (await storedDeployment(deps.store, { projectId: project.id, userId: user.id })).id;
  }
  const path = `/projects/${project.id}/settings`;
  await v.get(path);
  return { v, user, project, path, productionId };
}

const env = async (projectId: string) =>
  (await deps.store.env.list(projectId)).map((e) => `${e.key}:${e.targets.join("+")}`).sort();

describe("settings", () => {
  test("its sections have their own navigation; SPA fallback is a setting of the build section", async () => {
    const { v, project, path } = await owner();
    const page = await v.get(path);
    for (const id of ["general", "build", "domains", "env", "delete"]) {
      expect(page.text).toContain(`<a href="#${id}">`);
      expect(page.text).toContain(`id="${id}"`);
    }
    expect(page.text).toMatch(/name="spaFallback" value="on" id="f-spaFallback" checked/);
    const save = await v.post(path, {
      section: "build",
      installCommand: "",
      buildCommand: "",
      outputDirectory: "",
      rootDirectory: "",
      buildTimeoutSeconds: "",
    });
    expect(save.status).toBe(303);
    expect((await deps.store.projects.find(project.id))?.spaFallback).toBe(false);
    await v.post(path, { section: "build", spaFallback: "on" });
    expect((await deps.store.projects.find(project.id))?.spaFallback).toBe(true);
  });

  test("after a build or variable change: Redeploy to apply, redeploying production; not after a rename", async () => {
    const { v, path, productionId } = await owner();
    const built = await v.post(path, { section: "build", buildCommand: "make", spaFallback: "on" });
    const after = await v.get(followed(built));
    expect(after.text).toContain('id="redeploy-prompt"');
    expect(after.text).toContain(`action="/deployments/${productionId}/redeploy"`);
    const renamed = await v.post(path, { section: "general", name: "Renamed", productionBranch: "main" });
    expect((await v.get(followed(renamed))).text).not.toContain('id="redeploy-prompt"');
    const set = await v.post(`${path.replace("/settings", "")}/env`, {
      key: "A",
      value: "1",
      production: "on",
    });
    expect((await v.get(followed(set))).text).toContain('id="redeploy-prompt"');
    // Without a production deployment there is nothing to redeploy.
    const fresh = await owner(false);
    const saved = await fresh.v.post(fresh.path, { section: "build", buildCommand: "make" });
    expect((await fresh.v.get(followed(saved))).text).not.toContain('id="redeploy-prompt"');
  });

  test("a pasted .env sets every variable for the chosen environments; a bad line saves none and is named", async () => {
    const { v, project } = await owner();
    const paste = `/projects/${project.id}/env/paste`;
    const bad = await v.post(paste, { dotenv: "GOOD=1\n9BAD=2\n", production: "on" });
    expect(bad.status).toBe(422);
    expect(fieldError(bad.text, "dotenv")).toStartWith("Line 2: variable names must start with a letter");
    expect(bad.text).toContain("GOOD=1\n9BAD=2");
    expect(await env(project.id)).toEqual([]);
    const none = await v.post(paste, { dotenv: "A=1" });
    expect(fieldError(none.text, "target")).toBe("Choose at least one environment");
    const ok = await v.post(paste, {
      dotenv: "# keys\nAPI_URL=https://api.example\nexport TOKEN='s3cret <value>'\n",
      preview: "on",
    });
    expect(ok.status).toBe(303);
    expect(await env(project.id)).toEqual(["API_URL:preview", "TOKEN:preview"]);
    const page = await v.get(followed(ok));
    expect(page.text).not.toContain("s3cret");
    expect(page.text).not.toContain("api.example");
  });
});

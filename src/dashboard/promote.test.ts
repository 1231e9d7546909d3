// Promote and roll back through the dashboard's handler: the confirmation names both commits, the project page then
// says what production serves now with an Undo, and the notice is only shown while it is still true.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import type { DeploymentTarget } from "../model/entities.ts";
import { testDeps } from "../testing/deps.ts";
import { storedDeployment } from "../testing/store-deployment.ts";
import { signIn, Visitor } from "../testing/visitor.ts";
import { createDashboard } from "./app.ts";

let deps: Deps;
let app: ReturnType<typeof createDashboard>;
beforeAll(async () => {
  deps = await testDeps();
  app = createDashboard(deps);
});
afterAll(() => deps.close());

async function owner() {
  const v = new Visitor(app);
  const user = await signIn(deps.store, v);
  const project = await createProject(deps.store, deps.config, user.id, {
    name: "Promoted",
    gitUrl: "https://example.com/site.git",
  });
  let n = 0;
  const deployment = async (target: DeploymentTarget, message: string, end: "READY" | "FAIL" = "READY") => {
    await Bun.sleep(2);
    n++;
    return storedDeployment(deps.store, {
      projectId: project.id,
      userId: user.id,
      target,
      branch: target === "production" ? "main" : "feature",
      commit: { sha: String(n).repeat(40).slice(0, 40), message, author: "Ada" },
      status: end,
      reason: "exit 1",
    });
  };
  const production = async () => (await deps.store.projects.find(project.id))?.productionDeploymentId;
  return { v, user, project, deployment, production };
}

describe("promote and roll back", () => {
  test("the confirmation names the target and what production serves now; nothing moves until confirmed", async () => {
    const { v, deployment, production } = await owner();
    const first = await deployment("production", "First <version>");
    const second = await deployment("production", "Second version");
    const page = await v.get(`/deployments/${first.id}/promote`);
    expect(page.status).toBe(200);
    expect(page.text).toContain("<h1>Roll back production</h1>");
    const target = /id="confirm-target">([\s\S]*?)<\/div>/.exec(page.text)?.[1] ?? "";
    const current = /id="confirm-current">([\s\S]*?)<\/div>/.exec(page.text)?.[1] ?? "";
    expect(target).toContain("First &lt;version>");
    expect(target).toContain("1111111");
    expect(current).toContain("Second version");
    expect(current).toContain("2222222");
    expect(page.text).toContain("Roll back to 1111111");
    expect(page.text).toContain(`action="/deployments/${first.id}/promote"`);
    expect(await production()).toBe(second.id);

    // A preview is promoted, not rolled back to.
    const preview = await deployment("preview", "Try it");
    const promote = await v.get(`/deployments/${preview.id}/promote`);
    expect(promote.text).toContain("<h1>Promote to production</h1>");
    expect(promote.text).toContain("Promote 3333333 to production");
  });

  test("the result says what production serves now and Undo puts the previous one back", async () => {
    const { v, project, deployment, production } = await owner();
    const first = await deployment("production", "First version");
    const second = await deployment("production", "Second version");
    await v.get(`/deployments/${first.id}/promote`);
    const done = await v.post(`/deployments/${first.id}/promote`);
    expect(done.status).toBe(303);
    const location = done.headers.get("location") ?? "";
    expect(location).toBe(`/projects/${project.id}?promoted=${first.id}&from=${second.id}`);
    expect(await production()).toBe(first.id);

    const result = await v.get(location);
    const card =
      /<section class="card notice-card success" id="promoted"[\s\S]*?<\/section>/.exec(result.text)?.[0] ??
      "";
    expect(card).toContain("Production now serves <strong>First version</strong>");
    expect(card).toContain(`action="/deployments/${second.id}/promote"`);
    expect(card).toContain("Undo: serve 2222222 again");
    // No permanent rollback card any more.
    expect(result.text).not.toContain("rollback-button");

    const undo = await v.post(`/deployments/${second.id}/promote`);
    expect(await production()).toBe(second.id);
    const after = await v.get(undo.headers.get("location") ?? "");
    expect(after.text).toContain("Production now serves <strong>Second version</strong>");
    // The first address again, now untrue: no notice.
    expect((await v.get(location)).text).not.toContain('id="promoted"');
  });

  test("the project's Roll back (API parity route) ends on the same result", async () => {
    const { v, project, deployment, production } = await owner();
    const first = await deployment("production", "First version");
    const second = await deployment("production", "Second version");
    await v.get(`/projects/${project.id}`);
    const res = await v.post(`/projects/${project.id}/rollback`);
    expect(res.headers.get("location")).toBe(
      `/projects/${project.id}?promoted=${first.id}&from=${second.id}`,
    );
    expect(await production()).toBe(first.id);
  });

  test("a deployment that cannot serve production says why, with no button", async () => {
    const { v, deployment } = await owner();
    const current = await deployment("production", "Live");
    const failed = await deployment("preview", "Broken", "FAIL");
    const notReady = await v.get(`/deployments/${failed.id}/promote`);
    expect(notReady.status).toBe(200);
    expect(notReady.text).toContain("Only a READY deployment can serve production (this one is failed).");
    expect(notReady.text).not.toContain('id="confirm-button"');
    const already = await v.get(`/deployments/${current.id}/promote`);
    expect(already.text).toContain("Production already serves this deployment.");
    // Forced anyway: refused, and said so.
    const forced = await v.post(`/deployments/${failed.id}/promote`);
    expect(forced.status).toBe(409);
  });

  test("another account: not found for the confirmation, the promote and the notice", async () => {
    const { project, deployment, production } = await owner();
    const first = await deployment("production", "First version");
    const second = await deployment("production", "Second version");
    const stranger = new Visitor(app);
    await signIn(deps.store, stranger);
    expect((await stranger.get(`/deployments/${first.id}/promote`)).status).toBe(404);
    expect((await stranger.post(`/deployments/${first.id}/promote`)).status).toBe(404);
    expect((await stranger.get(`/projects/${project.id}?promoted=${second.id}`)).status).toBe(404);
    expect(await production()).toBe(second.id);
    // The notice never shows another project's deployment.
    const { v, project: mine } = await owner();
    const page = await v.get(`/projects/${mine.id}?promoted=${second.id}&from=${first.id}`);
    expect(page.text).not.toContain('id="promoted"');
    expect(page.text).not.toContain("Second version");
  });
});

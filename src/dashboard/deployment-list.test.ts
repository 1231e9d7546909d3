// A project's deployment list through the dashboard's handler: commit subject first, the row menu's actions
// (forms with the session's CSRF token, on the same routes and authorization as the deployment page), filters
// by branch, environment and status, and paging that keeps them.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import type { DeploymentTarget } from "../model/entities.ts";
import type { DeploymentStatus } from "../model/status.ts";
import { deploymentHostId } from "../model/urls.ts";
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
    name: "Listed",
    gitUrl: "https://example.com/site.git",
  });
  /** A deployment brought to `status` the way the worker does, with the commit its build read. */
  const deployment = async (
    target: DeploymentTarget,
    branch: string,
    status: Exclude<DeploymentStatus, "NOT_STARTED">,
    commit: { message: string; author: string } | null = null,
  ) => {
    // One millisecond apart, so "newest" is well defined (created_at orders the list and moves production).
    await Bun.sleep(2);
    return storedDeployment(deps.store, {
      projectId: project.id,
      userId: user.id,
      target,
      branch,
      ...(commit && { commit: { sha: "c".repeat(40), ...commit } }),
      status,
    });
  };
  return { v, user, project, deployment, path: `/projects/${project.id}` };
}

/** The row of a deployment in a page's HTML. */
const row = (html: string, id: string): string =>
  new RegExp(`<li class="deployment-row" id="row-${id}">[\\s\\S]*?</li>`).exec(html)?.[0] ?? "";

describe("deployment list", () => {
  test("each row leads with the commit subject (as text), then branch, author, environment; a menu per row", async () => {
    const { v, deployment, path } = await owner();
    const ready = await deployment("production", "main", "READY", {
      message: "Fix <img src=x onerror=alert(1)> header",
      author: "Ada <Lovelace>",
    });
    const page = await v.get(path);
    expect(page.status).toBe(200);
    const html = row(page.text, ready.id);
    expect(html).toContain('<span class="row-title">Fix &lt;img src=x onerror=alert(1)> header</span>');
    expect(html).toContain("Ada &lt;Lovelace>");
    expect(html).not.toContain("<img");
    // Subject before branch before author before age.
    const order = ["row-title", "row-branch", "row-author", "<time"].map((s) => html.indexOf(s));
    expect(order.every((at, i) => at > 0 && (i === 0 || at > (order[i - 1] ?? 0)))).toBe(true);
    expect(html).toContain("Production");
    expect(html).toContain("Current");
    expect(html).toContain(`aria-label="Actions for deployment ${ready.id.slice(0, 8)}"`);
  });

  test("the menu offers what fits each deployment; changes are forms with the session's CSRF token", async () => {
    const { v, deployment, path } = await owner();
    const old = await deployment("production", "main", "READY");
    const current = await deployment("production", "main", "READY");
    const preview = await deployment("preview", "feature", "READY");
    const building = await deployment("preview", "feature", "IN_PROGRESS");
    const failed = await deployment("preview", "broken", "FAIL");
    const page = await v.get(path);
    const actions = (id: string) =>
      [...row(page.text, id).matchAll(/data-action="([a-z]+)"/g)].map((m) => m[1]).join(",");
    expect(actions(old.id)).toBe("rollback,redeploy");
    expect(actions(current.id)).toBe("redeploy");
    expect(actions(preview.id)).toBe("promote,redeploy");
    expect(actions(building.id)).toBe("redeploy,cancel");
    expect(actions(failed.id)).toBe("redeploy");
    // Visit and Copy URL only where the URL works.
    const host = (id: string) => `--${deploymentHostId(id)}.localhost`;
    expect(row(page.text, preview.id)).toMatch(
      new RegExp(`href="http://listed-[a-z0-9]+${host(preview.id)}:`),
    );
    expect(row(page.text, preview.id)).toContain("Copy URL");
    expect(row(page.text, failed.id)).not.toContain(host(failed.id));
    expect(row(page.text, failed.id)).not.toContain("Copy URL");
    // Promote and roll back lead to their confirmation; the other changes are forms with the session's token,
    // posting to the deployment's own route.
    expect(row(page.text, old.id)).toContain(
      `<a class="menu-item" href="/deployments/${old.id}/promote" data-action="rollback">Roll back to this…</a>`,
    );
    expect(row(page.text, preview.id)).toContain(
      `href="/deployments/${preview.id}/promote" data-action="promote"`,
    );
    const forms = [
      ...page.text.matchAll(/<form method="post" action="([^"]+)" class="menu-form">(.*?)<\/form>/g),
    ];
    expect(forms.length).toBe(6);
    for (const [, action, body] of forms) {
      expect(action).toMatch(/^\/deployments\/[0-9a-f-]{36}\/(redeploy|cancel)$/);
      expect(body).toContain(`name="_csrf" value="${v.csrf}"`);
    }
  });

  test("Roll back to this moves production to an older deployment; Cancel stops a running one", async () => {
    const { v, deployment, project, path } = await owner();
    const old = await deployment("production", "main", "READY");
    const current = await deployment("production", "main", "READY");
    expect((await deps.store.projects.find(project.id))?.productionDeploymentId).toBe(current.id);
    await v.get(path);
    expect((await v.post(`/deployments/${old.id}/promote`)).status).toBe(303);
    expect((await deps.store.projects.find(project.id))?.productionDeploymentId).toBe(old.id);
    // Without the token nothing moves.
    expect((await v.post(`/deployments/${current.id}/promote`, { _csrf: "forged" })).status).toBe(403);
    expect((await deps.store.projects.find(project.id))?.productionDeploymentId).toBe(old.id);

    const building = await deployment("preview", "feature", "IN_PROGRESS");
    expect((await v.post(`/deployments/${building.id}/cancel`)).status).toBe(303);
    expect((await deps.store.deployments.find(building.id))?.status).toBe("CANCELED");
  });

  test("another account sees no list and can use no row action", async () => {
    const { deployment, project, path } = await owner();
    const old = await deployment("production", "main", "READY");
    await deployment("production", "main", "READY");
    const building = await deployment("preview", "feature", "IN_PROGRESS");
    const stranger = new Visitor(app);
    await signIn(deps.store, stranger);
    expect((await stranger.get(path)).status).toBe(404);
    expect((await stranger.get(`${path}?branch=main`)).status).toBe(404);
    for (const [id, action] of [
      [old.id, "promote"],
      [old.id, "redeploy"],
      [building.id, "cancel"],
    ] as const)
      expect((await stranger.post(`/deployments/${id}/${action}`)).status).toBe(404);
    expect((await deps.store.projects.find(project.id))?.productionDeploymentId).not.toBe(old.id);
    expect((await deps.store.deployments.find(building.id))?.status).toBe("IN_PROGRESS");
    // Signed out: to the sign-in page.
    const anonymous = new Visitor(app);
    expect((await anonymous.get(path)).status).toBe(303);
  });

  test("filters by branch, environment and status; a wrong value is named inline", async () => {
    const { v, deployment, path } = await owner();
    const main = await deployment("production", "main", "READY");
    const feature = await deployment("preview", "feature", "READY");
    const broken = await deployment("preview", "feature", "FAIL");
    const ids = (html: string) => [...html.matchAll(/id="row-([0-9a-f-]{36})"/g)].map((m) => m[1]);

    expect(ids((await v.get(path)).text)).toEqual([broken.id, feature.id, main.id]);
    expect(ids((await v.get(`${path}?branch=feature`)).text)).toEqual([broken.id, feature.id]);
    expect(ids((await v.get(`${path}?target=production`)).text)).toEqual([main.id]);
    const failed = await v.get(`${path}?branch=feature&status=FAIL`);
    expect(ids(failed.text)).toEqual([broken.id]);
    // The form shows what was asked.
    expect(failed.text).toContain('value="feature"');
    expect(failed.text).toContain('<option value="FAIL" selected>Failed</option>');
    const none = await v.get(`${path}?branch=${encodeURIComponent("<b>nope</b>")}`);
    expect(none.text).toContain("No deployments match these filters.");
    expect(none.text).toContain('value="&lt;b>nope&lt;/b>"');

    const wrong = await v.get(`${path}?status=DONE&target=staging`);
    expect(wrong.status).toBe(400);
    expect(wrong.text).toContain('id="filter-error"');
    expect(wrong.text).toContain("environment must be production or preview");
    expect(wrong.text).toContain("status must be one of");
  });

  test("pages of 20, newest first; the next page keeps the filters", async () => {
    const { v, deployment, path } = await owner();
    const made = [];
    for (let i = 0; i < 23; i++) made.push(await deployment("preview", "many", "READY"));
    await deployment("production", "main", "READY");
    const first = await v.get(`${path}?branch=many`);
    const rows = (html: string) => [...html.matchAll(/id="row-([0-9a-f-]{36})"/g)].map((m) => m[1]);
    expect(rows(first.text)).toHaveLength(20);
    const href = /<a class="button" href="([^"]+)" id="older-button">/.exec(first.text)?.[1] ?? "";
    expect(href).toContain("branch=many");
    // As a browser follows it: entities decoded, the fragment kept to itself.
    const second = await v.get(href.replaceAll("&amp;", "&").replace(/#.*$/, ""));
    const rest = rows(second.text);
    expect(new Set([...rows(first.text), ...rest])).toEqual(new Set(made.map((d) => d.id)));
    expect(rest).toHaveLength(3);
    expect(second.text).toContain("Newest deployments");
    expect(second.text).not.toContain('id="older-button"');
  });
});

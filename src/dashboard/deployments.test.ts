// The deployment page, its polled fragments, the raw log download, cancel and redeploy.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { queueDeployment } from "../deploy/deploy.ts";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import { testDeps } from "../testing/deps.ts";
import { makeVictim } from "../testing/victim.ts";
import { signIn, signInAs, Visitor } from "../testing/visitor.ts";
import { createDashboard } from "./app.ts";

let deps: Deps;
let app: ReturnType<typeof createDashboard>;
beforeAll(async () => {
  deps = await testDeps();
  app = createDashboard(deps);
});
afterAll(() => deps.close());

async function queued() {
  const v = new Visitor(app);
  const user = await signIn(deps.store, v);
  const project = await createProject(deps.store, deps.config, user.id, {
    name: "Deployed",
    gitUrl: "https://example.com/site.git",
  });
  const deployment = await queueDeployment(deps, user.id, { projectId: project.id });
  return { v, user, project, deployment, path: `/deployments/${deployment.id}` };
}

describe("deployment page", () => {
  test("shows status, branch, URL and the live log viewer; the summary polls while unfinished", async () => {
    const { v, deployment, path } = await queued();
    const page = await v.get(path);
    expect(page.status).toBe(200);
    expect(page.text).toContain(`data-stream="/api/deployments/${deployment.id}/logs/stream"`);
    expect(page.text).toContain('data-status="QUEUED"');
    expect(page.text).toContain(`deployed--${deployment.id.replaceAll("-", "").slice(0, 12)}.localhost`);
    expect(page.text).toContain(`hx-get="${path}/summary"`);

    const summary = await v.get(`${path}/summary`);
    expect(summary.text).toStartWith('<section class="card summary" id="summary"');
    const badge = await v.get(`${path}/badge`);
    expect(badge.text).toContain("Queued");
    expect(badge.text).toContain('hx-trigger="every 2s"');
  });

  test("the raw log downloads as text, ANSI and markup untouched", async () => {
    const { v, deployment, path } = await queued();
    const at = new Date().toISOString();
    const text = ["\u001b[31mred\u001b[0m", "<script>alert(1)</script>"];
    await deps.logs.append(
      Array.from({ length: 2500 }, (_, i) => ({
        deploymentId: deployment.id,
        seq: i + 1,
        stream: "stdout" as const,
        text: text[i % 2] ?? "",
        at,
      })),
    );
    const res = await v.get(`${path}/log.txt`);
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(res.headers.get("content-disposition")).toMatch(
      /^attachment; filename="deployed(-[0-9a-f]+)?-[0-9a-f]{12}\.log"$/,
    );
    const lines = res.text.split("\n");
    expect(lines.length).toBe(2501);
    expect(lines.slice(0, 2)).toEqual(text);
  });
});

describe("actions", () => {
  test("cancel ends a queued deployment; cancelling again shows why not, in the summary", async () => {
    const { v, user, deployment, path } = await queued();
    await v.get(path);
    expect((await v.post(`${path}/cancel`)).headers.get("location")).toBe(path);
    expect((await deps.store.deployments.get(user.id, deployment.id))?.status).toBe("CANCELED");
    const again = await v.post(`${path}/cancel`, {}, { "hx-request": "true" });
    expect(again.status).toBe(409);
    expect(again.text).toContain("Deployment already finished (CANCELED)");
    const page = await v.get(path);
    expect(page.text).not.toContain("cancel-button");
    expect(page.text).not.toContain(`hx-get="${path}/summary"`);
  });

  test("another account cannot promote a READY deployment of someone else's project: 404 page, production unchanged", async () => {
    const victim = await makeVictim(deps);
    const [older, production] = victim.ready;
    const productionOf = async () =>
      (await deps.store.projects.find(victim.project.id))?.productionDeploymentId;
    const v = new Visitor(app);
    await signIn(deps.store, v);
    const res = await v.post(`/deployments/${older}/promote`);
    expect(res.status).toBe(404);
    expect(res.text).not.toContain(victim.project.name);
    expect(await productionOf()).toBe(production);
    // The deployment itself can be promoted: by its owner.
    const owner = new Visitor(app);
    await signInAs(deps.store, owner, victim.user);
    expect((await owner.post(`/deployments/${older}/promote`)).headers.get("location")).toBe(
      `/projects/${victim.project.id}?promoted=${older}&from=${production}`,
    );
    expect(await productionOf()).toBe(older);
  });

  test("redeploy queues the same branch and commit again", async () => {
    const { v, user, deployment, path } = await queued();
    await v.get(path);
    const res = await v.post(`${path}/redeploy`);
    const next = (res.headers.get("location") ?? "").split("/").pop() ?? "";
    expect(next).not.toBe(deployment.id);
    expect(await deps.store.deployments.get(user.id, next)).toMatchObject({
      status: "QUEUED",
      branch: deployment.branch,
      projectId: deployment.projectId,
    });
  });
});

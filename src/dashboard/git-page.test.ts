// A project's Git page through the dashboard's handler: webhook URLs and the secret the API gives the owner, the
// deliveries real signed (and forged) posts to /api/hooks left, the push remote and the CLI command; others: 404.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { createApi } from "../api/app.ts";
import { createProject } from "../deploy/projects.ts";
import { webhookSecret } from "../deploy/webhooks.ts";
import type { Deps } from "../deps.ts";
import { testDeps } from "../testing/deps.ts";
import { signIn, Visitor } from "../testing/visitor.ts";
import { createDashboard } from "./app.ts";

let deps: Deps;
let app: ReturnType<typeof createDashboard>;
beforeAll(async () => {
  deps = await testDeps();
  app = createDashboard(deps);
});
afterAll(() => deps.close());

const sha = (c: string) => c.repeat(40);

/** A delivery as GitHub sends it, signed with `secret`. */
async function github(projectId: string, secret: string, event: string, payload: unknown) {
  const body = JSON.stringify(payload);
  const res = await createApi(deps).handle(
    new Request(`http://localhost/api/hooks/${projectId}/github`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": event,
        "x-github-delivery": crypto.randomUUID(),
        "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
      },
      body,
    }),
  );
  return res.status;
}

const push = (branch: string, after: string) => ({
  ref: `refs/heads/${branch}`,
  before: sha("a"),
  after,
  created: false,
  deleted: false,
  forced: false,
  repository: { id: 1, name: "site", full_name: "octo/site", clone_url: "https://github.com/octo/site.git" },
  pusher: { name: "octocat", email: "octocat@github.com" },
  head_commit: { id: after, message: "Update", timestamp: "2026-11-28T12:00:00Z" },
  commits: [],
});

describe("git page", () => {
  test("webhook URLs and secret, the last deliveries with what they triggered, the remote and the CLI", async () => {
    const v = new Visitor(app);
    const user = await signIn(deps.store, v);
    const project = await createProject(deps.store, deps.config, user.id, {
      name: "Hooked",
      gitUrl: "https://github.com/octo/site.git",
    });
    const page = await v.get(`/projects/${project.id}/git`);
    expect(page.status).toBe(200);
    // The same secret the API gives the owner.
    const secret = await webhookSecret(deps, user.id, project.id);
    expect(page.text).toContain(`id="hook-secret" class="mono" type="password" value="${secret}"`);
    expect(page.text).toContain(`value="http://localhost/api/hooks/${project.id}/github"`);
    expect(page.text).toContain(`value="http://localhost/api/hooks/${project.id}/gitlab"`);
    expect(page.text).toContain(`git remote add minivercel http://localhost/git/${project.subDomain}.git`);
    expect(page.text).toContain(`minivercel deploy --prod --project ${project.subDomain}`);
    expect(page.text).toContain("No deliveries yet");

    expect(await github(project.id, secret, "ping", { zen: "hi" })).toBe(200);
    expect(await github(project.id, secret, "push", push("main", sha("c")))).toBe(202);
    expect(await github(project.id, "wrong secret", "push", push("main", sha("d")))).toBe(401);
    const deployment = (await deps.store.deployments.list(user.id, project.id, { limit: 5, cursor: null }))
      .items[0];

    const after = await v.get(`/projects/${project.id}/git`);
    const rows = [
      ...after.text.matchAll(/<li class="list-row delivery" data-status="(\d+)">([\s\S]*?)<\/li>/g),
    ].map((m) => [m[1], (m[2] ?? "").replace(/<[^>]+>/g, "")]);
    expect(rows.map(([status]) => status)).toEqual(["401", "202", "200"]);
    expect(rows[0]?.[1]).toContain("refused: webhook signature or token does not match");
    expect(rows[1]?.[1]).toContain("github push");
    expect(rows[1]?.[1]).toContain("deployed (1 deployment)");
    expect(after.text).toContain(`href="/deployments/${deployment?.id}"`);
    expect(rows[2]?.[1]).toContain("ping");
  });

  test("another account: not found, and no secret is made for it", async () => {
    const v = new Visitor(app);
    const user = await signIn(deps.store, v);
    const project = await createProject(deps.store, deps.config, user.id, { name: "Private", gitUrl: null });
    const stranger = new Visitor(app);
    await signIn(deps.store, stranger);
    expect((await stranger.get(`/projects/${project.id}/git`)).status).toBe(404);
    expect(await deps.store.webhooks.secret(project.id)).toBeNull();
    expect((await new Visitor(app).get(`/projects/${project.id}/git`)).status).toBe(303);
  });
});

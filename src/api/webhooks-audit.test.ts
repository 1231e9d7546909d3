// Deployments a git webhook starts or retires are in the project's scope's audit log: the sender the provider names,
// the delivery's address and the commit, listed by the API and the dashboard like every other entry.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { createDashboard } from "../dashboard/app.ts";
import type { Deps } from "../deps.ts";
import { obj, testDeps } from "../testing/deps.ts";
import { makeTeamFixture, type TeamFixture } from "../testing/team-fixture.ts";
import { signInAs, Visitor } from "../testing/visitor.ts";
import { createApi } from "./app.ts";

let deps: Deps;
let team: TeamFixture;
let secret: string;
beforeAll(async () => {
  deps = await testDeps();
  team = await makeTeamFixture(deps);
  const info = await team.people.owner.api("GET", `/api/projects/${team.project.id}/webhook`);
  secret = String(obj(info.body).secret);
});
afterAll(() => deps.close());

const hmac = (body: string) => createHmac("sha256", secret).update(body).digest("hex");
const repository = { full_name: "acme/site", clone_url: "https://git.example.com/acme/site.git" };

/** Posts a delivery through the real route, from the git host's address. */
async function deliver(provider: "github" | "gitlab" | "gitea", event: string, payload: unknown) {
  const body = JSON.stringify(payload);
  const headers: Record<string, string> =
    provider === "github"
      ? { "x-github-event": event, "x-hub-signature-256": `sha256=${hmac(body)}` }
      : provider === "gitea"
        ? { "x-gitea-event": event, "x-gitea-signature": hmac(body) }
        : { "x-gitlab-event": event, "x-gitlab-token": secret };
  const api = createApi(deps, { peer: () => "140.82.115.9" });
  const res = await api.handle(
    new Request(`http://localhost/api/hooks/${team.project.id}/${provider}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
    }),
  );
  return { status: res.status, body: obj(await res.json()) };
}

type Entry = { actorId: string | null; action: string; detail: string | null; address: string | null };

async function teamAudit(): Promise<Entry[]> {
  const res = await team.people.owner.api("GET", `/api/teams/${team.slug}/audit?limit=100`);
  expect(res.status).toBe(200);
  return obj(res.body).items as Entry[];
}

describe("webhook deployments in the audit log", () => {
  test("a GitHub push: deployment.create by the webhook, with the pusher, commit and address", async () => {
    const after = "c0ffee".padEnd(40, "1");
    const res = await deliver("github", "push", {
      ref: "refs/heads/main",
      before: "a".repeat(40),
      after,
      repository,
      pusher: { name: "octocat", email: "octocat@github.com" },
      sender: { login: "octocat" },
    });
    expect(res.status).toBe(202);
    const [id] = res.body.deploymentIds as string[];
    const entry = (await teamAudit()).find((e) => e.detail?.includes(`deployment ${id}`));
    expect(entry).toEqual(
      expect.objectContaining({
        actorId: null,
        action: "deployment.create",
        detail: `github webhook (octocat): main c0ffee1 (deployment ${id})`,
        address: "140.82.115.9",
      }),
    );
  });

  test("GitLab and Gitea pushes name their senders; nothing is logged for an ignored delivery", async () => {
    const before = (await teamAudit()).length;
    const gitlab = await deliver("gitlab", "Push Hook", {
      object_kind: "push",
      ref: "refs/heads/staging",
      after: "b".repeat(40),
      checkout_sha: "b".repeat(40),
      user_username: "<b>jsmith</b>",
      project: { git_http_url: repository.clone_url },
    });
    expect(gitlab.status).toBe(202);
    const gitea = await deliver("gitea", "push", {
      ref: "refs/heads/docs",
      after: "d".repeat(40),
      repository,
      pusher: { login: "gitea-user" },
    });
    expect(gitea.status).toBe(202);
    const tag = await deliver("github", "push", { ref: "refs/tags/v1", after: "e".repeat(40), repository });
    expect(tag.body.ignored).toContain("not a branch push");
    const entries = await teamAudit();
    expect(entries.length).toBe(before + 2);
    expect(entries.map((e) => e.detail)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^gitlab webhook \(<b>jsmith<\/b>\): staging bbbbbbb \(deployment [0-9a-f-]{36}\)$/,
        ),
        expect.stringMatching(/^gitea webhook \(gitea-user\): docs ddddddd \(deployment [0-9a-f-]{36}\)$/),
      ]),
    );
  });

  test("the dashboard's audit page lists them, escaped; a closed pull request's retired previews too", async () => {
    const opened = await deliver("github", "pull_request", pullRequest("opened"));
    expect(opened.status).toBe(202);
    const [preview] = opened.body.deploymentIds as string[];
    await deps.store.deployments.transition(preview ?? "", "IN_PROGRESS", null);
    await deps.store.deployments.markReady(preview ?? "");
    const closed = await deliver("github", "pull_request", pullRequest("closed"));
    expect(closed.body.expiredDeploymentIds).toEqual([preview]);
    expect((await teamAudit())[0]).toMatchObject({
      action: "deployment.expire",
      detail: "github webhook (hubot): feature/pr closed, 1 preview retired",
    });

    const owner = new Visitor(createDashboard(deps));
    await signInAs(deps.store, owner, team.people.owner.user);
    const page = await owner.get(`/teams/${team.slug}/audit`);
    expect(page.status).toBe(200);
    expect(page.text).toContain("github webhook (octocat): main c0ffee1");
    expect(page.text).toContain("gitlab webhook (&lt;b>jsmith&lt;/b>)");
    expect(page.text).not.toContain("<b>jsmith");
    expect(page.text).toContain("deployment.expire");
    // No account acted: the Who column names the git host's webhook.
    expect(page.text).toContain('<td>github webhook</td><td class="mono">deployment.expire</td>');
    expect(page.text).toContain("140.82.115.9");
  });
});

function pullRequest(action: string) {
  return {
    action,
    pull_request: {
      head: { ref: "feature/pr", sha: "f".repeat(40), repo: { full_name: "acme/site" } },
      base: { ref: "main", repo: { full_name: "acme/site" } },
    },
    repository,
    sender: { login: "hubot" },
  };
}

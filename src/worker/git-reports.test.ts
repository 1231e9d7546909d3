// Commit statuses and pull-request comments through the real pieces: a repository served by a real git server, a
// provider's signed webhook delivery to the API, the real build (launcher, local runner, builder), the store's
// outbox and the worker's dispatcher, to local stand-ins of GitHub, GitLab and Gitea that check every request
// against the provider's documented shapes. Redelivery changes nothing; a provider that is down gets the retries
// and never holds up the deployment.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { createApi } from "../api/app.ts";
import type { Deps } from "../deps.ts";
import { deploymentUrl } from "../model/urls.ts";
import { startRoles } from "../roles.ts";
import type { GitProviderKind } from "../store/git-reports.ts";
import { apiClient, type Client, obj, testDeps, testUser } from "../testing/deps.ts";
import { type FakeProvider, fakeGitProvider } from "../testing/fake-git-providers.ts";
import { type GitDaemon, gitDaemon } from "../testing/git-daemon.ts";
import { type FixtureRepo, fixtureRepo } from "../testing/repos.ts";
import { commentMarker } from "./git-reports.ts";

let deps: Deps;
let api: Client;
let userId: string;
let roles: { stop(): Promise<void> };
let repo: FixtureRepo;
let daemon: GitDaemon;

beforeAll(async () => {
  // The providers and the git server are on 127.0.0.1 (allowed here); retries after 50 ms, 150, 450...
  deps = await testDeps({
    MINIVERCEL_ROLE: "worker",
    MINIVERCEL_ALLOW_PRIVATE_HOOKS: "1",
    MINIVERCEL_ALLOW_PRIVATE_GIT: "1",
    OUTGOING_HOOK_RETRY_BASE_MS: "50",
    BUILD_SANDBOX: "none",
  });
  const owner = await testUser(deps);
  userId = owner.user.id;
  api = apiClient(deps, owner.token);
  roles = await startRoles(deps);
  repo = fixtureRepo({ "index.html": "<h1>main</h1>" });
  daemon = await gitDaemon({ "octo/site": repo.dir });
});
afterAll(async () => {
  await roles.stop();
  await daemon.stop();
  await deps.close();
});

async function until<T>(what: string, check: () => Promise<T | null | undefined | false>, ms = 30_000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

const hmac = (secret: string, body: string) => createHmac("sha256", secret).update(body).digest("hex");

/** A provider's push delivery for `branch` at `after`, signed or tokened as that provider does. */
function pushDelivery(
  kind: GitProviderKind,
  secret: string,
  gitUrl: string,
  branch: string,
  after: string,
): { body: string; headers: Record<string, string> } {
  const common = { ref: `refs/heads/${branch}`, before: "a".repeat(40), after };
  const id = crypto.randomUUID();
  if (kind === "github") {
    const body = JSON.stringify({ ...common, repository: { full_name: "octo/site", git_url: gitUrl } });
    return {
      body,
      headers: {
        "x-github-event": "push",
        "x-github-delivery": id,
        "x-hub-signature-256": `sha256=${hmac(secret, body)}`,
      },
    };
  }
  if (kind === "gitlab") {
    const body = JSON.stringify({ ...common, checkout_sha: after, project: { git_http_url: gitUrl } });
    return {
      body,
      headers: { "x-gitlab-event": "Push Hook", "x-gitlab-token": secret, "x-gitlab-event-uuid": id },
    };
  }
  const body = JSON.stringify({ ...common, repository: { full_name: "octo/site", clone_url: gitUrl } });
  return {
    body,
    headers: { "x-gitea-event": "push", "x-gitea-delivery": id, "x-gitea-signature": hmac(secret, body) },
  };
}

async function deliver(kind: GitProviderKind, projectId: string, d: ReturnType<typeof pushDelivery>) {
  const res = await createApi(deps).handle(
    new Request(`http://localhost/api/hooks/${projectId}/${kind}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...d.headers },
      body: d.body,
    }),
  );
  return { status: res.status, body: obj(await res.json()) };
}

async function deploymentOf(projectId: string, sha: string) {
  const page = await deps.store.deployments.list(userId, projectId, { limit: 100, cursor: null });
  return page.items.filter((d) => d.commitSha === sha);
}

const ours = (fake: FakeProvider, n: number, projectId: string) =>
  (fake.comments.get(n) ?? []).filter((c) => c.body.includes(commentMarker(projectId)));

/** A project on the served repository with `fake` as its provider, and its webhook secret. */
async function setUp(kind: GitProviderKind, fake: FakeProvider) {
  const gitUrl = daemon.url("octo/site");
  const created = await api("POST", "/api/projects", {
    name: `Site ${kind}`,
    gitUrl,
    subDomain: `site-${kind}-${crypto.randomUUID().slice(0, 6)}`,
  });
  expect(created.status).toBe(201);
  const id = String(obj(created.body).id);
  const secret = String(obj((await api("GET", `/api/projects/${id}/webhook`)).body).secret);
  const set = await api("PUT", `/api/projects/${id}/git-provider`, {
    kind,
    token: fake.token,
    apiUrl: fake.apiUrl,
  });
  expect(set.status).toBe(200);
  expect(JSON.stringify(set.body)).not.toContain(fake.token);
  return { id, secret, gitUrl };
}

describe.each(["github", "gitlab", "gitea"] as const)("%s", (kind) => {
  test("statuses and one preview comment per pull request, through a real build; redelivery changes nothing", async () => {
    const fake = fakeGitProvider(kind);
    try {
      const p = await setUp(kind, fake);
      const branch = `feature-${kind}`;
      const first = repo.commit({ "index.html": `<h1>${kind} one</h1>` }, branch);
      fake.openRequest(7, branch);
      const delivery = pushDelivery(kind, p.secret, p.gitUrl, branch, first);
      expect((await deliver(kind, p.id, delivery)).status).toBe(202);
      const [d1] = await until("the first deployment", () =>
        deploymentOf(p.id, first).then((l) => l.length > 0 && l),
      );
      if (!d1) throw new Error("unreachable");
      await until("success on the first commit", async () =>
        fake.statuses.some((s) => s.sha === first && s.state === "success"),
      );
      await until("the comment", async () => ours(fake, 7, p.id).length > 0);
      const ready = await deps.store.deployments.find(d1.id);
      expect(ready?.status).toBe("READY");
      const project = await deps.store.projects.find(p.id);
      if (!project) throw new Error("unreachable");
      const url = deploymentUrl(project, d1.id, deps.config);
      const states = fake.statuses.filter((s) => s.sha === first).map((s) => s.state);
      // Queued, then building (GitLab: running; the outbox may merge them into the later one), then success once.
      expect(states.at(-1)).toBe("success");
      expect(states.slice(0, -1).every((s) => s === "pending" || s === "running")).toBe(true);
      expect(states.filter((s) => s === "success")).toHaveLength(1);
      const descriptions = fake.statuses
        .filter((s) => s.sha === first)
        .map((s) => `${s.state} ${s.description}`);
      expect(new Set(descriptions).size).toBe(descriptions.length);
      const done = fake.statuses.filter((s) => s.sha === first).at(-1);
      expect(done).toMatchObject({ targetUrl: url, context: `minivercel/${project.subDomain}` });
      const [comment] = ours(fake, 7, p.id);
      expect(comment?.body).toContain(`--git-${branch}.`);
      expect(comment?.body).toContain(first.slice(0, 7));
      // The same delivery again (a provider's retry): no second deployment, status or comment.
      const before = { statuses: fake.statuses.length, requests: fake.requests.length };
      const again = await deliver(kind, p.id, delivery);
      expect(again.body.duplicate).toBe(true);
      await Bun.sleep(1200);
      expect(fake.statuses.length).toBe(before.statuses);
      expect(fake.requests.length).toBe(before.requests);
      expect(await deploymentOf(p.id, first)).toHaveLength(1);

      // A new push: its commit gets its statuses, the same comment is edited (one of ours, the reviewer's kept).
      const second = repo.commit({ "index.html": `<h1>${kind} two</h1>` }, branch);
      expect((await deliver(kind, p.id, pushDelivery(kind, p.secret, p.gitUrl, branch, second))).status).toBe(
        202,
      );
      await until("success on the second commit", async () =>
        fake.statuses.some((s) => s.sha === second && s.state === "success"),
      );
      await until("the comment edited", async () =>
        ours(fake, 7, p.id)[0]?.body.includes(second.slice(0, 7)),
      );
      expect(ours(fake, 7, p.id)).toHaveLength(1);
      expect(fake.comments.get(7)?.[0]?.body).toBe("Looks good to me (a reviewer)");
      expect(fake.comments.get(7)).toHaveLength(2);
      expect(fake.problems).toEqual([]);
    } finally {
      fake.stop();
    }
  }, 90_000);
});

test("a provider that is down: the deployment goes READY anyway, the reports are retried and then sent", async () => {
  const fake = fakeGitProvider("github");
  try {
    const p = await setUp("github", fake);
    const branch = "feature-down";
    fake.openRequest(12, branch);
    fake.down = true;
    const sha = repo.commit({ "index.html": "<h1>down</h1>" }, branch);
    expect(
      (await deliver("github", p.id, pushDelivery("github", p.secret, p.gitUrl, branch, sha))).status,
    ).toBe(202);
    const [d] = await until("the deployment", () => deploymentOf(p.id, sha).then((l) => l.length > 0 && l));
    if (!d) throw new Error("unreachable");
    await until(
      "READY while the provider is down",
      async () => (await deps.store.deployments.find(d.id))?.status === "READY",
    );
    const retried = await until("a retried report", async () => {
      const shown = obj((await api("GET", `/api/projects/${p.id}/git-provider`)).body);
      const reports = (shown.reports as Record<string, unknown>[]) ?? [];
      return reports.find((r) => Number(r.attempts) >= 2 && r.status === "pending");
    });
    expect(String(retried.lastError)).toContain("503");
    expect(fake.statuses).toEqual([]);
    fake.down = false;
    await until("the status once it is back", async () =>
      fake.statuses.some((s) => s.sha === sha && s.state === "success"),
    );
    await until("the comment once it is back", async () => ours(fake, 12, p.id).length === 1);
    expect(fake.problems).toEqual([]);
  } finally {
    fake.stop();
  }
}, 60_000);

test("a failed build: failure with the dashboard's log as its link, and the comment says so", async () => {
  const fake = fakeGitProvider("gitea");
  try {
    const p = await setUp("gitea", fake);
    expect((await api("PATCH", `/api/projects/${p.id}`, { buildCommand: "exit 3" })).status).toBe(200);
    const branch = "feature-broken";
    fake.openRequest(3, branch);
    const sha = repo.commit({ "index.html": "<h1>broken</h1>" }, branch);
    expect(
      (await deliver("gitea", p.id, pushDelivery("gitea", p.secret, p.gitUrl, branch, sha))).status,
    ).toBe(202);
    const failure = await until("failure", async () =>
      fake.statuses.find((s) => s.sha === sha && s.state === "failure"),
    );
    const [d] = await deploymentOf(p.id, sha);
    expect(d?.status).toBe("FAIL");
    expect(failure.targetUrl).toBe(`${deps.config.protection.dashboardUrl}/deployments/${d?.id}`);
    await until("the comment", async () => ours(fake, 3, p.id)[0]?.body.includes("failed"));
    expect(fake.problems).toEqual([]);
  } finally {
    fake.stop();
  }
}, 60_000);

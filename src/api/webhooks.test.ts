// Git webhooks through the handler, with payloads shaped as GitHub, GitLab and Gitea document them.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import type { Deps } from "../deps.ts";
import type { Deployment } from "../model/entities.ts";
import { apiClient, type Client, obj, testDeps, testUser } from "../testing/deps.ts";
import { createApi } from "./app.ts";

let deps: Deps;
let alice: Client;
let bob: Client;
let userId: string;

beforeAll(async () => {
  deps = await testDeps();
  const owner = await testUser(deps);
  userId = owner.user.id;
  alice = apiClient(deps, owner.token);
  bob = apiClient(deps, (await testUser(deps)).token);
});
afterAll(() => deps.close());

const sha = (c: string) => c.repeat(40);
const ZERO = "0".repeat(40);
const hmac = (secret: string, body: string) => createHmac("sha256", secret).update(body).digest("hex");

/** A project with a git URL and its webhook secret, as the owner gets them. */
const projectAt = (gitUrl: string) => project(gitUrl);

async function project(gitUrl = "https://github.com/octo/site.git"): Promise<{ id: string; secret: string }> {
  const created = await alice("POST", "/api/projects", {
    name: "Hooked",
    gitUrl,
    subDomain: `hooked-${crypto.randomUUID().slice(0, 8)}`,
  });
  const id = String(obj(created.body).id);
  const info = obj((await alice("GET", `/api/projects/${id}/webhook`)).body);
  return { id, secret: String(info.secret) };
}

async function post(path: string, body: string, headers: Record<string, string>) {
  const res = await createApi(deps).handle(
    new Request(`http://localhost${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
    }),
  );
  return { status: res.status, body: obj(await res.json()) };
}

function github(p: { id: string; secret: string }, event: string, payload: unknown, sign?: string) {
  const body = JSON.stringify(payload);
  return post(`/api/hooks/${p.id}/github`, body, {
    "x-github-event": event,
    "x-github-delivery": crypto.randomUUID(),
    "x-hub-signature-256": `sha256=${hmac(p.secret, sign ?? body)}`,
  });
}

async function deployments(projectId: string): Promise<Deployment[]> {
  return (await deps.store.deployments.list(userId, projectId, { limit: 100, cursor: null })).items;
}

const repository = {
  id: 1296269,
  name: "site",
  full_name: "octo/site",
  html_url: "https://github.com/octo/site",
  clone_url: "https://github.com/octo/site.git",
  git_url: "git://github.com/octo/site.git",
  ssh_url: "git@github.com:octo/site.git",
};

function githubPush(branch: string, after: string, extra: Record<string, unknown> = {}) {
  return {
    ref: `refs/heads/${branch}`,
    before: sha("a"),
    after,
    created: false,
    deleted: false,
    forced: false,
    repository,
    pusher: { name: "octocat", email: "octocat@github.com" },
    head_commit: { id: after, message: "Update README", timestamp: "2026-11-28T12:00:00Z" },
    commits: [],
    ...extra,
  };
}

function pullRequest(action: string, branch: string, head: string, fork = false) {
  return {
    action,
    number: 42,
    pull_request: {
      number: 42,
      state: action === "closed" ? "closed" : "open",
      merged: false,
      head: { ref: branch, sha: head, repo: { full_name: fork ? "mallory/site" : "octo/site" } },
      base: { ref: "main", sha: sha("b"), repo: { full_name: "octo/site" } },
    },
    repository,
  };
}

describe("webhook secret", () => {
  test("made once, shown to the owner only, with the URLs", async () => {
    const p = await project();
    const again = obj((await alice("GET", `/api/projects/${p.id}/webhook`)).body);
    expect(again.secret).toBe(p.secret);
    expect(p.secret).toMatch(/^[0-9a-f]{64}$/);
    expect(obj(again.urls).github).toBe(`http://localhost/api/hooks/${p.id}/github`);
    expect((await bob("GET", `/api/projects/${p.id}/webhook`)).status).toBe(404);
    // Stored sealed, not as the plaintext.
    expect(await deps.store.webhooks.secret(p.id)).not.toContain(p.secret);
  });
});

describe("GitHub", () => {
  test("push to the production branch queues a production deployment of that commit", async () => {
    const p = await project();
    const res = await github(p, "push", githubPush("main", sha("c")));
    expect(res.status).toBe(202);
    const [d] = await deployments(p.id);
    expect(res.body.deploymentIds).toEqual([d?.id]);
    expect(d).toMatchObject({
      target: "production",
      branch: "main",
      commitSha: sha("c"),
      status: "QUEUED",
      userId,
    });
  });

  test("push to another branch queues a preview", async () => {
    const p = await project();
    expect((await github(p, "push", githubPush("feature/login", sha("d")))).status).toBe(202);
    expect((await deployments(p.id))[0]).toMatchObject({ target: "preview", branch: "feature/login" });
  });

  test("wrong, missing, or another body's signature: 401 and nothing queued", async () => {
    const p = await project();
    const body = JSON.stringify(githubPush("main", sha("e")));
    const headers = { "x-github-event": "push", "x-github-delivery": crypto.randomUUID() };
    const cases = [
      { ...headers, "x-hub-signature-256": `sha256=${hmac("not the secret", body)}` },
      headers,
      { ...headers, "x-hub-signature-256": `sha256=${hmac(p.secret, `${body} `)}` },
      { ...headers, "x-hub-signature-256": hmac(p.secret, body) },
    ];
    for (const h of cases) expect((await post(`/api/hooks/${p.id}/github`, body, h)).status).toBe(401);
    expect(await deployments(p.id)).toEqual([]);
  });

  test("unknown project or provider: 404", async () => {
    const p = await project();
    const res = await github(
      { id: crypto.randomUUID(), secret: p.secret },
      "push",
      githubPush("main", sha("e")),
    );
    expect(res.status).toBe(404);
    expect((await post(`/api/hooks/${p.id}/bitbucket`, "{}", {})).status).toBe(404);
  });

  test("a duplicate delivery is ignored", async () => {
    const p = await project();
    const body = JSON.stringify(githubPush("main", sha("f")));
    const headers = {
      "x-github-event": "push",
      "x-github-delivery": crypto.randomUUID(),
      "x-hub-signature-256": `sha256=${hmac(p.secret, body)}`,
    };
    expect((await post(`/api/hooks/${p.id}/github`, body, headers)).status).toBe(202);
    const again = await post(`/api/hooks/${p.id}/github`, body, headers);
    expect(again.status).toBe(200);
    expect(again.body.duplicate).toBe(true);
    expect((await deployments(p.id)).length).toBe(1);
  });

  test("a captured delivery resent under a new delivery id is a duplicate; another push deploys", async () => {
    const p = await project();
    const push = githubPush("main", sha("f"));
    // github() signs the body and sends a fresh X-GitHub-Delivery each time, as a replaying attacker would.
    expect((await github(p, "push", push)).status).toBe(202);
    for (let i = 0; i < 2; i++) {
      const replay = await github(p, "push", push);
      expect(replay.status).toBe(200);
      expect(replay.body).toEqual({ ok: true, duplicate: true });
    }
    expect((await deployments(p.id)).length).toBe(1);
    const next = await github(p, "push", githubPush("main", sha("e")));
    expect(next.status).toBe(202);
    expect((await deployments(p.id)).map((d) => d.commitSha)).toEqual([sha("e"), sha("f")]);
  });

  test("branch deletion and tag pushes are ignored", async () => {
    const p = await project();
    const deleted = await github(p, "push", githubPush("old", ZERO, { deleted: true, head_commit: null }));
    expect(deleted.status).toBe(200);
    expect(deleted.body.ignored).toBe("branch deleted");
    const tag = await github(p, "push", { ...githubPush("main", sha("1")), ref: "refs/tags/v1.0.0" });
    expect(tag.status).toBe(200);
    expect(String(tag.body.ignored)).toContain("not a branch push");
    expect(await deployments(p.id)).toEqual([]);
  });

  test("a failed delivery is handled when redelivered; an oversized body is refused", async () => {
    const p = await project();
    await deps.store.projects.update(userId, p.id, { gitUrl: null });
    const body = JSON.stringify(githubPush("main", sha("9")));
    const headers = {
      "x-github-event": "push",
      "x-github-delivery": crypto.randomUUID(),
      "x-hub-signature-256": `sha256=${hmac(p.secret, body)}`,
    };
    expect((await post(`/api/hooks/${p.id}/github`, body, headers)).status).toBe(400);
    await deps.store.projects.update(userId, p.id, { gitUrl: "https://github.com/octo/site.git" });
    expect((await post(`/api/hooks/${p.id}/github`, body, headers)).status).toBe(202);
    // Acting recorded it again: the same body under another id is now a duplicate.
    const replay = { ...headers, "x-github-delivery": crypto.randomUUID() };
    expect((await post(`/api/hooks/${p.id}/github`, body, replay)).body.duplicate).toBe(true);
    expect((await deployments(p.id)).length).toBe(1);
    const huge = JSON.stringify({ ...githubPush("main", sha("9")), padding: "x".repeat(1024 * 1024) });
    expect((await github(p, "push", JSON.parse(huge))).status).toBe(413);
  });

  test("a push signed with the secret but from another repository deploys nothing", async () => {
    const p = await project();
    const fork = {
      id: 99,
      name: "site",
      full_name: "mallory/site",
      html_url: "https://github.com/mallory/site",
      clone_url: "https://github.com/mallory/site.git",
      ssh_url: "git@github.com:mallory/site.git",
    };
    const res = await github(p, "push", githubPush("main", sha("d"), { repository: fork }));
    expect(res.status).toBe(200);
    expect(String(res.body.ignored)).toContain("not for this project's repository");
    const none = await github(p, "push", githubPush("main", sha("d"), { repository: { id: 1 } }));
    expect(String(none.body.ignored)).toContain("not for this project's repository");
    expect(await deployments(p.id)).toEqual([]);
    // Not recorded as delivered: the same body is not a duplicate once it is right.
    expect((await github(p, "push", githubPush("main", sha("d")))).status).toBe(202);
  });

  test("the project's repository by any of its URL forms: SSH, no .git, other letter case", async () => {
    for (const gitUrl of [
      "git@github.com:octo/site.git",
      "https://github.com/Octo/Site",
      "ssh://git@github.com/octo/site",
    ]) {
      const p = await project(gitUrl);
      const res = await github(p, "push", githubPush("main", sha("e")));
      expect({ gitUrl, status: res.status }).toEqual({ gitUrl, status: 202 });
    }
  });

  test("a project whose owner never asked for a secret accepts no webhooks", async () => {
    const created = await alice("POST", "/api/projects", {
      name: "Quiet",
      gitUrl: "https://github.com/octo/quiet.git",
      subDomain: `quiet-${crypto.randomUUID().slice(0, 8)}`,
    });
    const res = await github(
      { id: String(obj(created.body).id), secret: "" },
      "push",
      githubPush("main", sha("a")),
    );
    expect(res.status).toBe(404);
  });

  test("ping answers 200", async () => {
    const p = await project();
    const res = await github(p, "ping", { zen: "Keep it logically awesome.", hook_id: 1, hook: {} });
    expect(res.status).toBe(200);
  });

  test("pull request opened -> preview at its branch; closed -> that preview expired", async () => {
    const p = await project();
    const opened = await github(p, "pull_request", pullRequest("opened", "feature/pr", sha("2")));
    expect(opened.status).toBe(202);
    const [preview] = await deployments(p.id);
    expect(preview).toMatchObject({ target: "preview", branch: "feature/pr", commitSha: sha("2") });
    if (!preview) throw new Error("no preview queued");
    // The build runs and the preview serves at its branch URL.
    await deps.store.deployments.transition(preview.id, "IN_PROGRESS", null);
    await deps.store.deployments.markReady(preview.id);
    expect(await deps.store.deployments.latestForBranch(p.id, "feature-pr", false)).not.toBeNull();

    const closed = await github(p, "pull_request", pullRequest("closed", "feature/pr", sha("2")));
    expect(closed.status).toBe(202);
    expect(closed.body.expiredDeploymentIds).toEqual([preview.id]);
    expect((await deps.store.deployments.find(preview.id))?.expiredAt).not.toBeNull();
    expect(await deps.store.deployments.latestForBranch(p.id, "feature-pr", false)).toBeNull();
  });

  test("pull requests from forks and other actions are ignored", async () => {
    const p = await project();
    const fork = await github(p, "pull_request", pullRequest("opened", "patch-1", sha("3"), true));
    expect(fork.body.ignored).toBe("pull request from a fork");
    const labeled = await github(p, "pull_request", pullRequest("labeled", "x", sha("3")));
    expect(labeled.status).toBe(200);
    expect(await deployments(p.id)).toEqual([]);
  });
});

describe("GitLab", () => {
  const project_ = {
    id: 15,
    name: "site",
    path_with_namespace: "octo/site",
    default_branch: "main",
    web_url: "https://gitlab.com/octo/site",
    git_ssh_url: "git@gitlab.com:octo/site.git",
    git_http_url: "https://gitlab.com/octo/site.git",
  };
  const project = () => projectAt("https://gitlab.com/octo/site.git");
  /** A GitLab delivery with a fresh X-Gitlab-Event-UUID, or none (GitLab before 15.x sends none) when null. */
  const gitlab = (
    p: { id: string },
    event: string,
    payload: unknown,
    token: string,
    uuid: string | null = crypto.randomUUID(),
  ) =>
    post(`/api/hooks/${p.id}/gitlab`, JSON.stringify(payload), {
      "x-gitlab-event": event,
      "x-gitlab-token": token,
      ...(uuid !== null && { "x-gitlab-event-uuid": uuid }),
    });
  const push = (branch: string, after: string) => ({
    object_kind: "push",
    event_name: "push",
    before: sha("a"),
    after,
    ref: `refs/heads/${branch}`,
    checkout_sha: after === ZERO ? null : after,
    user_username: "jsmith",
    project: project_,
    commits: [],
    total_commits_count: 0,
  });
  const mergeRequest = (action: string, branch: string, head: string, oldrev?: string) => ({
    object_kind: "merge_request",
    event_type: "merge_request",
    project: project_,
    object_attributes: {
      iid: 7,
      action,
      state: action === "close" ? "closed" : action === "merge" ? "merged" : "opened",
      source_branch: branch,
      target_branch: "main",
      source_project_id: 15,
      target_project_id: 15,
      last_commit: { id: head, message: "fix", timestamp: "2026-11-28T12:00:00Z" },
      ...(oldrev && { oldrev }),
    },
  });

  test("push with the right token deploys; a wrong or missing token is 401", async () => {
    const p = await project();
    expect((await gitlab(p, "Push Hook", push("main", sha("4")), "wrong")).status).toBe(401);
    expect((await gitlab(p, "Push Hook", push("main", sha("4")), "")).status).toBe(401);
    expect(await deployments(p.id)).toEqual([]);
    expect((await gitlab(p, "Push Hook", push("main", sha("4")), p.secret)).status).toBe(202);
    expect((await deployments(p.id))[0]).toMatchObject({
      target: "production",
      branch: "main",
      commitSha: sha("4"),
    });
  });

  test("a push resent under a new event UUID, or without one, is a duplicate; another push deploys", async () => {
    const p = await project();
    const withId = push("main", sha("4"));
    expect((await gitlab(p, "Push Hook", withId, p.secret)).status).toBe(202);
    for (const uuid of [crypto.randomUUID(), null]) {
      const replay = await gitlab(p, "Push Hook", withId, p.secret, uuid);
      expect(replay.status).toBe(200);
      expect(replay.body).toEqual({ ok: true, duplicate: true });
    }
    // Old GitLab: no id at all, so the body alone tells a replay from a new push.
    const withoutId = push("feature", sha("5"));
    expect((await gitlab(p, "Push Hook", withoutId, p.secret, null)).status).toBe(202);
    expect((await gitlab(p, "Push Hook", withoutId, p.secret, null)).body.duplicate).toBe(true);
    expect((await deployments(p.id)).length).toBe(2);
    expect((await gitlab(p, "Push Hook", push("feature", sha("6")), p.secret, null)).status).toBe(202);
    expect((await deployments(p.id)).map((d) => d.commitSha)).toEqual([sha("6"), sha("5"), sha("4")]);
  });

  test("without an event UUID, a failed delivery is handled when sent again", async () => {
    const p = await project();
    await deps.store.projects.update(userId, p.id, { gitUrl: null });
    const body = push("main", sha("7"));
    expect((await gitlab(p, "Push Hook", body, p.secret, null)).status).toBe(400);
    await deps.store.projects.update(userId, p.id, { gitUrl: "https://gitlab.com/octo/site.git" });
    expect((await gitlab(p, "Push Hook", body, p.secret, null)).status).toBe(202);
    expect((await deployments(p.id)).length).toBe(1);
  });

  test("branch deletion and tag pushes are ignored", async () => {
    const p = await project();
    expect((await gitlab(p, "Push Hook", push("gone", ZERO), p.secret)).body.ignored).toBe("branch deleted");
    const tag = { ...push("main", sha("5")), object_kind: "tag_push", ref: "refs/tags/v2" };
    expect((await gitlab(p, "Tag Push Hook", tag, p.secret)).status).toBe(200);
    expect(await deployments(p.id)).toEqual([]);
  });

  test("merge request open -> preview; update with new commits -> rebuild; merge -> expired", async () => {
    const p = await project();
    expect(
      (await gitlab(p, "Merge Request Hook", mergeRequest("open", "mr-7", sha("6")), p.secret)).status,
    ).toBe(202);
    const labelOnly = await gitlab(
      p,
      "Merge Request Hook",
      mergeRequest("update", "mr-7", sha("6")),
      p.secret,
    );
    expect(labelOnly.status).toBe(200);
    const pushed = mergeRequest("update", "mr-7", sha("7"), sha("6"));
    expect((await gitlab(p, "Merge Request Hook", pushed, p.secret)).status).toBe(202);
    const [newest, older] = await deployments(p.id);
    expect(newest).toMatchObject({
      target: "preview",
      branch: "mr-7",
      commitSha: sha("7"),
      status: "QUEUED",
    });
    // The newer push superseded the waiting build of the same branch.
    expect(older?.status).toBe("CANCELED");

    const merged = await gitlab(p, "Merge Request Hook", mergeRequest("merge", "mr-7", sha("7")), p.secret);
    expect(merged.status).toBe(202);
    for (const d of await deployments(p.id)) {
      expect(d.expiredAt).not.toBeNull();
      expect(d.status).toBe("CANCELED");
    }
  });
});

describe("Gitea", () => {
  const project = () => projectAt("https://gitea.example.com/octo/site.git");
  // Gitea's push payload has GitHub's shape, with its own host in the repository's URLs.
  const giteaPush = (branch: string, after: string) => ({
    ...githubPush(branch, after),
    repository: {
      id: 7,
      name: "site",
      full_name: "octo/site",
      html_url: "https://gitea.example.com/octo/site",
      clone_url: "https://gitea.example.com/octo/site.git",
      ssh_url: "git@gitea.example.com:octo/site.git",
    },
  });
  test("push signed with the secret deploys; a bad signature is 401", async () => {
    const p = await project();
    const body = JSON.stringify(giteaPush("staging", sha("8")));
    const headers = { "x-gitea-event": "push", "x-gitea-delivery": crypto.randomUUID() };
    const bad = await post(`/api/hooks/${p.id}/gitea`, body, {
      ...headers,
      "x-gitea-signature": hmac("nope", body),
    });
    expect(bad.status).toBe(401);
    expect(await deployments(p.id)).toEqual([]);
    const good = await post(`/api/hooks/${p.id}/gitea`, body, {
      ...headers,
      "x-gitea-signature": hmac(p.secret, body),
    });
    expect(good.status).toBe(202);
    expect((await deployments(p.id))[0]).toMatchObject({
      target: "preview",
      branch: "staging",
      commitSha: sha("8"),
    });
  });

  test("a signed push resent under a new delivery id is a duplicate; another push deploys", async () => {
    const p = await project();
    const gitea = (body: string) =>
      post(`/api/hooks/${p.id}/gitea`, body, {
        "x-gitea-event": "push",
        "x-gitea-delivery": crypto.randomUUID(),
        "x-gitea-signature": hmac(p.secret, body),
      });
    const body = JSON.stringify(giteaPush("main", sha("8")));
    expect((await gitea(body)).status).toBe(202);
    const replay = await gitea(body);
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual({ ok: true, duplicate: true });
    expect((await deployments(p.id)).length).toBe(1);
    expect((await gitea(JSON.stringify(giteaPush("main", sha("9"))))).status).toBe(202);
    expect((await deployments(p.id)).length).toBe(2);
  });

  test("a delivery without a signature, or with an empty one, is 401 and queues nothing", async () => {
    const p = await project();
    const body = JSON.stringify(giteaPush("main", sha("9")));
    const headers = { "x-gitea-event": "push", "x-gitea-delivery": crypto.randomUUID() };
    for (const h of [headers, { ...headers, "x-gitea-signature": "" }]) {
      const res = await post(`/api/hooks/${p.id}/gitea`, body, h);
      expect({ signature: h, status: res.status }).toEqual({ signature: h, status: 401 });
    }
    expect(await deployments(p.id)).toEqual([]);
  });
});

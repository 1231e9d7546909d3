// Push to deploy end to end: a real `git push` to the built-in remote deploys the pushed commit.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Deps } from "../deps.ts";
import { type Running, startRoles } from "../roles.ts";
import { apiClient, type Client, obj, tempDir, testDeps, testUser } from "../testing/deps.ts";
import { fixtureRepo } from "../testing/repos.ts";

let deps: Deps;
let roles: Running;
let api: Client;
let token: string;
let otherToken: string;
let port: string;

beforeAll(async () => {
  // Local git stays off: the push remote must build without that opt-in.
  deps = await testDeps({
    PORT: "0",
    PROXY_PORT: "0",
    MINIVERCEL_ROLE: "api,worker",
    MINIVERCEL_ALLOW_LOCAL_GIT: "0",
  });
  roles = await startRoles(deps);
  ({ token } = await testUser(deps));
  ({ token: otherToken } = await testUser(deps));
  api = apiClient(deps, token);
  port = new URL(roles.urls.api ?? "").port;
});
afterAll(async () => {
  await roles.stop();
  await deps.close();
}, 60_000);

type Deployment = { id: string; status: string; commitSha: string | null; url: string; target: string };

// Async: the server under test runs in this process, so a blocking spawn would deadlock it.
async function git(cwd: string, ...args: string[]): Promise<{ code: number; output: string }> {
  const proc = Bun.spawn(["git", ...args], {
    stdout: "pipe",
    stderr: "pipe",
    cwd,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: cwd,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_TERMINAL_PROMPT: "0",
      GIT_ASKPASS: "/bin/false",
      GIT_COMMITTER_NAME: "Test",
      GIT_COMMITTER_EMAIL: "test@example.com",
    },
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, output: `${out}${err}` };
}

const remote = (sub: string, secret: string) => `http://x:${secret}@127.0.0.1:${port}/git/${sub}.git`;

async function newProject(): Promise<{ id: string; subDomain: string }> {
  const res = await api("POST", "/api/projects", { name: `push-${crypto.randomUUID().slice(0, 6)}` });
  expect(res.status).toBe(201);
  return obj(res.body) as { id: string; subDomain: string };
}

async function deployments(projectId: string): Promise<Deployment[]> {
  const res = await api("GET", `/api/projects/${projectId}/deployments`);
  return obj(res.body).items as Deployment[];
}

async function finished(projectId: string, id: string): Promise<Deployment> {
  const until = Date.now() + 120_000;
  for (;;) {
    const d = (await api("GET", `/api/deployments/${id}`)).body as Deployment;
    if (["READY", "FAIL", "CANCELED"].includes(d.status)) return d;
    if (Date.now() > until) throw new Error(`deployment ${id} of ${projectId} stuck in ${d.status}`);
    await Bun.sleep(100);
  }
}

async function served(id: string, path: string): Promise<string | null> {
  const file = (await deps.artifacts.getManifest(id))?.files[path];
  if (!file) return null;
  return (await deps.artifacts.getBlob(file.hash))?.text() ?? null;
}

describe("push to deploy", () => {
  test("a push deploys the pushed commit and prints its URL; a second push deploys again", async () => {
    const project = await newProject();
    const repo = fixtureRepo({ "index.html": "<h1>pushed</h1>" });
    const sha = (await git(repo.dir, "rev-parse", "HEAD")).output.trim();
    const push = await git(repo.dir, "push", remote(project.subDomain, token), "main");
    expect(push.code).toBe(0);
    const [queued] = await deployments(project.id);
    expect(queued?.commitSha).toBe(sha);
    expect(push.output).toContain(
      `remote: minivercel: production deployment of main (${sha.slice(0, 12)}) QUEUED`,
    );
    expect(push.output).toContain(queued?.url ?? "no deployment");
    // In the scope's audit log: who pushed what, from where.
    const audit = obj((await api("GET", "/api/audit")).body).items as {
      action: string;
      detail: string | null;
      address: string | null;
    }[];
    expect(
      audit.find((e) => e.detail === `git push: main ${sha.slice(0, 7)} (deployment ${queued?.id})`),
    ).toMatchObject({
      action: "deployment.create",
      address: "127.0.0.1",
    });
    const first = await finished(project.id, queued?.id ?? "");
    expect({ status: first.status, commitSha: first.commitSha }).toEqual({ status: "READY", commitSha: sha });
    expect(await served(first.id, "/index.html")).toBe("<h1>pushed</h1>");

    const next = repo.commit({ "index.html": "<h1>again</h1>" });
    expect((await git(repo.dir, "push", remote(project.subDomain, token), "main")).code).toBe(0);
    const [latest] = await deployments(project.id);
    expect(latest?.commitSha).toBe(next);
    const second = await finished(project.id, latest?.id ?? "");
    expect(second.status).toBe("READY");
    expect(await served(second.id, "/index.html")).toBe("<h1>again</h1>");

    // The settings form sends the platform-set git URL back with every save.
    const settings = obj((await api("GET", `/api/projects/${project.id}`)).body);
    expect(String(settings.gitUrl)).toStartWith("file://");
    const saved = await api("PATCH", `/api/projects/${project.id}`, {
      name: "renamed",
      gitUrl: settings.gitUrl,
    });
    expect(saved.status).toBe(200);

    // Another branch is a preview; a valid token can clone what was pushed.
    repo.commit({ "index.html": "<h1>feature</h1>" }, "feature");
    const preview = await git(repo.dir, "push", remote(project.subDomain, token), "feature");
    expect(preview.output).toContain("preview deployment of feature");
    // Many annotated tags make the clone's request big enough that git gzips it.
    for (let i = 0; i < 40; i++) await git(repo.dir, "tag", "-a", "-m", `release ${i}`, `v${i}`);
    const tags = await git(repo.dir, "push", remote(project.subDomain, token), "--tags");
    expect(tags.code).toBe(0);
    expect(tags.output).not.toContain("deployment");
    // Nothing deployed, so nothing in the audit log for it.
    const logged = obj((await api("GET", "/api/audit")).body).items as { detail: string | null }[];
    const pushes = logged.filter((e) => e.detail?.startsWith("git push:")).map((e) => e.detail);
    expect(pushes).toHaveLength(3);
    expect(pushes.join("\n")).not.toContain("refs/tags");
    const clone = tempDir();
    const cloned = await git(clone, "clone", "--quiet", remote(project.subDomain, token), "copy");
    expect(cloned.code).toBe(0);
    expect((await git(`${clone}/copy`, "rev-parse", "HEAD")).output.trim()).toBe(next);
  }, 240_000);

  test("a wrong token, another user's token or none cannot push and queue nothing", async () => {
    const project = await newProject();
    const repo = fixtureRepo({ "index.html": "x" });
    for (const secret of ["mv_wrong", otherToken, ""]) {
      const url = secret
        ? remote(project.subDomain, secret)
        : `http://127.0.0.1:${port}/git/${project.subDomain}.git`;
      const push = await git(repo.dir, "push", url, "main");
      expect(push.code).not.toBe(0);
    }
    expect(await deployments(project.id)).toEqual([]);
    const missing = await fetch(
      `http://127.0.0.1:${port}/git/${project.subDomain}.git/info/refs?service=git-upload-pack`,
    );
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toBe('Basic realm="minivercel"');
    const other = await fetch(
      `http://127.0.0.1:${port}/git/${project.subDomain}.git/info/refs?service=git-upload-pack`,
      {
        headers: { authorization: `Basic ${btoa(`x:${otherToken}`)}` },
      },
    );
    expect(other.status).toBe(404);
  }, 60_000);

  test("a read-only token cannot push (a push deploys); a deploy token can", async () => {
    const project = await newProject();
    const repo = fixtureRepo({ "index.html": "scoped" });
    const read = obj((await api("POST", "/api/tokens", { name: "reader", scope: "read" })).body).token;
    const refused = await git(repo.dir, "push", remote(project.subDomain, String(read)), "main");
    expect(refused.code).not.toBe(0);
    expect(refused.output).toContain("read-only");
    expect(await deployments(project.id)).toEqual([]);
    const deploy = obj((await api("POST", "/api/tokens", { name: "ci", scope: "deploy" })).body).token;
    const pushed = await git(repo.dir, "push", remote(project.subDomain, String(deploy)), "main");
    expect(pushed.code).toBe(0);
    expect((await deployments(project.id)).length).toBe(1);
  }, 60_000);
});

// A remote builder's fetch of a push remote (ECS): a deployment's fetch token reads that project's repository
// while the deployment builds, and nothing else: no other project, no push, not after it expired or ended.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Deps } from "../deps.ts";
import { apiClient, obj, tempDir, testDeps, testUser } from "../testing/deps.ts";
import { createGitBackend } from "./http-backend.ts";

let deps: Deps;
let server: ReturnType<typeof Bun.serve>;
let token: string;
let base: string;

beforeAll(async () => {
  deps = await testDeps({ MINIVERCEL_ALLOW_LOCAL_GIT: "0" });
  ({ token } = await testUser(deps));
  // No worker: a pushed deployment stays QUEUED until the test claims it, as a worker would.
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: createGitBackend(deps) });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  server.stop(true);
  await deps.close();
});

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
      GIT_AUTHOR_NAME: "Test",
      GIT_AUTHOR_EMAIL: "test@example.com",
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

/** A project with one pushed commit, its deployment claimed (IN_PROGRESS) as a worker would. */
async function pushedProject() {
  const api = apiClient(deps, token);
  const res = await api("POST", "/api/projects", { name: `fetch-${crypto.randomUUID().slice(0, 6)}` });
  const project = obj(res.body) as { id: string; subDomain: string };
  const work = tempDir();
  await git(work, "init", "--quiet", "--initial-branch=main");
  writeFileSync(join(work, "index.html"), "<p>hello</p>");
  await git(work, "add", "--all");
  await git(work, "commit", "--quiet", "-m", "first");
  const sha = (await git(work, "rev-parse", "HEAD")).output.trim();
  const pushed = await git(
    work,
    "push",
    "--quiet",
    `http://x:${token}@127.0.0.1:${server.port}/git/${project.subDomain}.git`,
    "main",
  );
  expect(pushed.code).toBe(0);
  const claimed = await deps.store.deployments.claimNext("worker-test", new Date().toISOString());
  if (claimed?.project.id !== project.id) throw new Error("the push queued no deployment of this project");
  return { ...project, sha, deploymentId: claimed.deployment.id };
}

/** Fetches the commit as a remote builder does (builder/git.ts): the token in a header scoped to /git/. */
async function fetchWith(subDomain: string, fetchToken: string, sha: string) {
  const dir = tempDir();
  await git(dir, "init", "--quiet");
  return git(
    dir,
    "-c",
    `http.${base}/git/.extraHeader=Authorization: Bearer ${fetchToken}`,
    "fetch",
    "--depth=1",
    `${base}/git/${subDomain}.git`,
    sha,
  );
}

test("a building deployment's fetch token clones its own push remote, and only while it builds", async () => {
  const p = await pushedProject();
  const fetchToken = deps.buildTokens.issueFetch(p.deploymentId, Date.now() + 60_000);
  const ok = await fetchWith(p.subDomain, fetchToken, p.sha);
  expect(ok.output).toContain(`${p.sha} -> FETCH_HEAD`);
  expect(ok.code).toBe(0);

  // Another project's repository looks missing, whoever owns it.
  const other = await pushedProject();
  expect((await fetchWith(other.subDomain, fetchToken, other.sha)).code).not.toBe(0);

  // A build token (the build API's) or an expired fetch token is no fetch token.
  expect((await fetchWith(p.subDomain, deps.buildTokens.issue(p.deploymentId), p.sha)).code).not.toBe(0);
  const expired = deps.buildTokens.issueFetch(p.deploymentId, Date.now() - 1000);
  expect((await fetchWith(p.subDomain, expired, p.sha)).code).not.toBe(0);

  // Once the deployment ended, its token reads nothing.
  await deps.store.deployments.transition(p.deploymentId, "FAIL", "test");
  expect((await fetchWith(p.subDomain, fetchToken, p.sha)).code).not.toBe(0);
});

test("a fetch token never pushes", async () => {
  const p = await pushedProject();
  const fetchToken = deps.buildTokens.issueFetch(p.deploymentId, Date.now() + 60_000);
  const res = await fetch(`${base}/git/${p.subDomain}.git/info/refs?service=git-receive-pack`, {
    headers: { authorization: `Bearer ${fetchToken}` },
  });
  expect(res.status).toBe(403);
  expect(await res.text()).toContain("cannot push");
  const refs = await fetch(`${base}/git/${p.subDomain}.git/info/refs?service=git-upload-pack`, {
    headers: { authorization: `Bearer ${fetchToken}` },
  });
  expect(refs.status).toBe(200);
  // A forged one is answered like a missing repository.
  const forged = await fetch(`${base}/git/${p.subDomain}.git/info/refs?service=git-upload-pack`, {
    headers: { authorization: `Bearer ${fetchToken.slice(0, -2)}AA` },
  });
  expect(forged.status).toBe(404);
});

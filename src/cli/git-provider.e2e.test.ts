// `minivercel git-provider` as a user runs it, against a real api role: set (token from stdin, never printed
// back), show, mistakes as one line and exit 2, rm.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { resolve } from "node:path";
import type { Deps } from "../deps.ts";
import { type Running, startRoles } from "../roles.ts";
import { apiClient, obj, tempDir, testDeps, testUser } from "../testing/deps.ts";

const MAIN = resolve(import.meta.dir, "..", "main.ts");

let deps: Deps;
let roles: Running;
let env: Record<string, string>;
let subDomain: string;

beforeAll(async () => {
  deps = await testDeps({ PORT: "0", LISTEN_HOST: "127.0.0.1", MINIVERCEL_ROLE: "api" });
  roles = await startRoles(deps);
  const { token } = await testUser(deps);
  const api = apiClient(deps, token);
  const created = obj(
    (
      await api("POST", "/api/projects", {
        name: "Cli provider",
        gitUrl: "https://gitlab.com/group/sub/site.git",
      })
    ).body,
  );
  subDomain = String(created.subDomain);
  env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: tempDir("minivercel-cli-home-"),
    MINIVERCEL_URL: (roles.urls.api ?? "").replace("localhost", "127.0.0.1"),
    MINIVERCEL_TOKEN: token,
  };
});

afterAll(async () => {
  await roles.stop();
  await deps.close();
});

async function cli(args: string[], stdin?: string) {
  const proc = Bun.spawn([process.execPath, MAIN, "git-provider", ...args, "--project", subDomain], {
    cwd: env.HOME,
    env,
    stdin: stdin === undefined ? "ignore" : new Blob([stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { stdout, stderr, code };
}

test("git-provider: set with the token on stdin, show (hint only), mistakes exit 2, rm", async () => {
  expect((await cli([])).stdout).toContain("no git provider");
  const token = "glpat-secret-token-9Z8Y";
  const set = await cli(["set", "gitlab"], `${token}\n`);
  expect([set.code, set.stderr]).toEqual([0, ""]);
  expect(set.stdout).toContain("gitlab (https://gitlab.com/api/v4), token …9Z8Y");
  const shown = await cli(["show"]);
  expect(shown.stdout).toContain(
    "gitlab  https://gitlab.com/api/v4  (repository from the git URL)  token …9Z8Y",
  );
  expect(shown.stdout + set.stdout).not.toContain(token);

  for (const [args, message] of [
    [["set", "bitbucket", "--token", "0123456789"], "give the provider: github, gitlab, gitea"],
    [["set", "gitea", "--token", "0123456789"], "apiUrl is required for Gitea"],
    [["set", "github", "--token", "0123456789", "--repository", "no"], "repository must be owner/name"],
    [["frobnicate"], "unknown subcommand 'git-provider frobnicate'"],
  ] as const) {
    const bad = await cli([...args]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    expect(bad.stderr).toContain(message);
  }
  expect((await cli(["show"])).stdout).toContain("token …9Z8Y");
  expect((await cli(["rm"])).code).toBe(0);
  expect((await cli(["show"])).stdout).toContain("no git provider");
  const again = await cli(["rm"]);
  expect(again.code).toBe(2);
});

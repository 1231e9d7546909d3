// The hardened git environment, as git itself reads it.

import { expect, test } from "bun:test";
import { join } from "node:path";
import { tempDir } from "../testing/deps.ts";
import { hardenedGitEnv } from "./git-env.ts";

function git(args: string[], env: Record<string, string>) {
  const home = tempDir("minivercel-git-env-");
  const result = Bun.spawnSync(["git", ...args], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, ...env },
    cwd: home,
    stdin: "ignore",
  });
  return { code: result.exitCode, out: result.stdout.toString().trim(), err: result.stderr.toString() };
}

test("git sees the hardening: no hooks, no fsmonitor, no ext:: transport, no stored credentials", () => {
  const env = hardenedGitEnv(false);
  expect(git(["config", "--get", "core.hooksPath"], env).out).toBe("/dev/null");
  expect(git(["config", "--get", "core.fsmonitor"], env).out).toBe("false");
  expect(git(["config", "--get", "protocol.ext.allow"], env).out).toBe("never");
  expect(git(["config", "--get-all", "credential.helper"], env)).toMatchObject({ code: 0, out: "" });
});

test("a local repository is read only when local repositories are allowed", () => {
  const repo = join(tempDir("minivercel-git-env-repo-"), "r.git");
  expect(git(["init", "--bare", "--quiet", repo], {}).code).toBe(0);
  const refused = git(["ls-remote", `file://${repo}`], hardenedGitEnv(false));
  expect(refused.code).not.toBe(0);
  expect(refused.err).toContain("transport 'file' not allowed");
  expect(git(["ls-remote", `file://${repo}`], hardenedGitEnv(true)).code).toBe(0);
});

test("a caller's settings come after the common ones: a later one wins", () => {
  const env = hardenedGitEnv(false, [
    ["http.followRedirects", "false"],
    ["core.fsmonitor", "true"],
  ]);
  expect(git(["config", "--get", "http.followRedirects"], env).out).toBe("false");
  expect(git(["config", "--get", "core.fsmonitor"], env).out).toBe("true");
  expect(git(["config", "--get", "core.hooksPath"], env).out).toBe("/dev/null");
});

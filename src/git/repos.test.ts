// Push repositories: what a backup keeps of one, and the config restore gives it back, read by real git.

import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../testing/deps.ts";
import { repoFileRole, restoredRepoConfig } from "./repos.ts";

const encode = (text: string) => new TextEncoder().encode(text);

function git(cwd: string, ...args: string[]): string {
  const result = Bun.spawnSync(["git", ...args], {
    cwd,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: cwd,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_AUTHOR_NAME: "Test",
      GIT_AUTHOR_EMAIL: "test@example.com",
      GIT_COMMITTER_NAME: "Test",
      GIT_COMMITTER_EMAIL: "test@example.com",
    },
  });
  if (result.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${result.stderr.toString()}`);
  return result.stdout.toString().trim();
}

describe("push repository files", () => {
  test("a backup keeps refs, objects and reflogs; never hooks or what makes git look elsewhere", () => {
    for (const path of ["HEAD", "packed-refs", "refs/heads/main", "objects/pack/pack-1.pack", "logs/HEAD"])
      expect(repoFileRole(path)).toBe("data");
    expect(repoFileRole("config")).toBe("config");
    for (const path of [
      "hooks/pre-receive",
      "hooks/post-receive",
      "commondir",
      ".git",
      "gitdir",
      "objects/info/alternates",
      "objects/info/http-alternates",
      "info/attributes",
      "worktrees/x/gitdir",
      "refs",
      "description",
    ])
      expect(repoFileRole(path)).toBe("other");
  });
});

describe("restored config", () => {
  test("git's defaults and ours, whatever the archived one says", () => {
    const safe = restoredRepoConfig(null);
    expect(safe).toBe(
      "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n[receive]\n\tfsckObjects = true\n",
    );
    const hostile = [
      "[core]",
      "\trepositoryformatversion = 0",
      "\tbare = false",
      "\thooksPath = /tmp/evil",
      "\tfsmonitor = /tmp/evil/run",
      "\tsshCommand = /tmp/evil/run",
      '[filter "lfs"]',
      "\tsmudge = /tmp/evil/run",
      "[receive]",
      "\tfsckObjects = false",
      "",
    ].join("\n");
    expect(restoredRepoConfig(encode(hostile))).toBe(safe);
  });

  test("keeps a sha256 repository readable, and follows no include", () => {
    const dir = tempDir("minivercel-sha256-");
    const work = join(dir, "work");
    const bare = join(dir, "site.git");
    git(dir, "init", "--quiet", "--object-format=sha256", "--initial-branch=main", work);
    writeFileSync(join(work, "index.html"), "<h1>sha256</h1>");
    git(work, "add", "--all");
    git(work, "commit", "--quiet", "-m", "first");
    git(dir, "clone", "--quiet", "--bare", work, bare);
    const head = git(work, "rev-parse", "HEAD");
    expect(head).toMatch(/^[0-9a-f]{64}$/);

    const included = join(dir, "included");
    writeFileSync(included, "[core]\n\thooksPath = /tmp/evil\n");
    const archived = `${readFileSync(join(bare, "config"), "utf8")}[include]\n\tpath = ${included}\n`;
    const config = restoredRepoConfig(encode(archived));
    expect(config).toContain("repositoryformatversion = 1");
    expect(config).toContain("[extensions]\n\tobjectformat = sha256\n");
    expect(config).not.toContain("hooksPath");
    expect(config).not.toContain("include");
    writeFileSync(join(bare, "config"), config ?? "");
    expect(git(dir, "--git-dir", bare, "rev-parse", "main")).toBe(head);
  });

  test("without git on the machine: a 400 that says so", () => {
    const path = process.env.PATH;
    process.env.PATH = "/nonexistent";
    try {
      expect(() => restoredRepoConfig(encode("[core]\n"))).toThrow(/git is needed to restore/);
    } finally {
      process.env.PATH = path;
    }
  });

  test("null for a file git cannot read, or a format it does not know", () => {
    expect(restoredRepoConfig(encode("[core\n\tbare = true\n"))).toBeNull();
    expect(restoredRepoConfig(encode("[extensions]\n\tobjectformat = md5\n"))).toBeNull();
  });
});

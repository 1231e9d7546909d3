// Test fixtures: real local git repositories made from a map of files, for deploying in tests and benches.

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { tempDir } from "./deps.ts";

function git(cwd: string, ...args: string[]): string {
  const result = Bun.spawnSync(["git", ...args], {
    cwd,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: cwd,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_AUTHOR_NAME: "Fixture",
      GIT_AUTHOR_EMAIL: "fixture@example.com",
      GIT_COMMITTER_NAME: "Fixture",
      GIT_COMMITTER_EMAIL: "fixture@example.com",
    },
  });
  if (result.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${result.stderr.toString()}`);
  return result.stdout.toString().trim();
}

export interface FixtureRepo {
  /** file:// URL to deploy from (needs MINIVERCEL_ALLOW_LOCAL_GIT). */
  url: string;
  dir: string;
  /** Writes files and commits them on `branch` (with `message`, "fixture" by default); returns the new commit id. */
  commit(files: Record<string, string>, branch?: string, message?: string): string;
}

export function fixtureRepo(files: Record<string, string>, branch = "main"): FixtureRepo {
  const dir = tempDir("minivercel-repo-");
  git(dir, "init", "--quiet", `--initial-branch=${branch}`);
  const repo: FixtureRepo = {
    url: `file://${dir}`,
    dir,
    commit(changes, onBranch = branch, message = "fixture") {
      // symbolic-ref works before the first commit too.
      const current = git(dir, "symbolic-ref", "--short", "HEAD");
      if (current !== onBranch) {
        const exists =
          Bun.spawnSync(["git", "rev-parse", "--verify", "--quiet", onBranch], { cwd: dir }).exitCode === 0;
        git(dir, "checkout", "--quiet", ...(exists ? [] : ["-b"]), onBranch);
      }
      for (const [path, content] of Object.entries(changes)) {
        const full = join(dir, path);
        mkdirSync(dirname(full), { recursive: true });
        writeFileSync(full, content);
      }
      git(dir, "add", "--all");
      git(dir, "commit", "--quiet", "--allow-empty", "-m", message);
      return git(dir, "rev-parse", "HEAD");
    },
  };
  repo.commit(files);
  return repo;
}

/** A minimal Vite app whose dependency (vite) comes from the npm registry. */
export const VITE_APP: Record<string, string> = {
  "package.json": JSON.stringify({
    name: "vite-fixture",
    private: true,
    type: "module",
    scripts: { build: "vite build" },
    devDependencies: { vite: "5.4.11" },
  }),
  "index.html":
    '<!doctype html><html><body><div id="app"></div><script type="module" src="/main.js"></script></body></html>',
  "main.js": 'document.querySelector("#app").textContent = "hello from vite";\n',
};

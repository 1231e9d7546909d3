// Push remotes: one bare repository per project under <dataDir>/git, with the hook that reports pushes.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Where every project's bare repository lives (GIT_PROJECT_ROOT for git http-backend). */
export const gitRoot = (dataDir: string): string => join(dataDir, "git");

export const pushRepoPath = (dataDir: string, projectId: string): string =>
  join(gitRoot(dataDir), `${projectId}.git`);

/**
 * The git URL a project gets when its first push deploys. The launcher lets a build clone this one local
 * path (and no other) even with MINIVERCEL_ALLOW_LOCAL_GIT off, because the platform owns the repository.
 */
export const pushRepoUrl = (dataDir: string, projectId: string): string =>
  `file://${pushRepoPath(dataDir, projectId)}`;

/** Environment variable naming the directory through which the hook and the platform talk during a push. */
export const PUSH_DIR_ENV = "MINIVERCEL_PUSH_DIR";

// The hook hands the updated refs to the platform (refs), waits for its answer (reply) and prints it, which git
// shows the pusher as "remote:" lines. Both files appear by rename, so neither side reads a half-written one.
const POST_RECEIVE = `#!/bin/sh
# minivercel post-receive: report the updated refs to the platform and print the deployments it queued.
dir="$${PUSH_DIR_ENV}"
[ -n "$dir" ] && [ -d "$dir" ] || exit 0
cat > "$dir/refs.tmp" && mv "$dir/refs.tmp" "$dir/refs" || exit 0
i=0
while [ ! -f "$dir/reply" ] && [ "$i" -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
[ -f "$dir/reply" ] && cat "$dir/reply"
exit 0
`;

/** git with no user or system configuration, never prompting. */
export function gitEnv(home: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
  };
}

function git(args: string[], home: string): void {
  const result = Bun.spawnSync(["git", ...args], { env: gitEnv(home), stdin: "ignore" });
  if (result.exitCode !== 0) throw new Error(`git ${args[0]} failed: ${result.stderr.toString().trim()}`);
}

/** Creates the project's bare repository on first use (idempotent) and returns its path. */
export function ensurePushRepo(dataDir: string, projectId: string, defaultBranch: string): string {
  const root = gitRoot(dataDir);
  const path = pushRepoPath(dataDir, projectId);
  mkdirSync(root, { recursive: true, mode: 0o700 });
  if (!existsSync(join(path, "HEAD"))) {
    // The path is absolute and the branch validated (branchProblem), so neither reads as an option.
    git(["init", "--bare", "--quiet", `--initial-branch=${defaultBranch}`, path], root);
    git(["--git-dir", path, "config", "receive.fsckObjects", "true"], root);
  }
  const hook = join(path, "hooks", "post-receive");
  const current = existsSync(hook) ? readFileSync(hook, "utf8") : null;
  if (current !== POST_RECEIVE) {
    mkdirSync(join(path, "hooks"), { recursive: true });
    writeFileSync(hook, POST_RECEIVE, { mode: 0o755 });
  }
  return path;
}

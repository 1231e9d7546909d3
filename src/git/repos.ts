// Push remotes: one bare repository per project under <dataDir>/git, with the hook that reports pushes, and
// what of such a repository a backup carries (its data, never its hooks or its config as is).

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { badRequest } from "../errors.ts";

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

/**
 * A push repository's folder name under <dataDir>/git (`<project id>.git`). Anything else there is not a
 * repository the platform serves.
 */
export const PUSH_REPO_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*\.git$/;

/** Folders holding a repository's data: objects, refs and reflogs. */
const DATA_DIRS = new Set(["objects", "refs", "logs", "reftable"]);
export const isRepoDataDir = (name: string): boolean => DATA_DIRS.has(name);
/** Files inside those that make git read elsewhere (another repository's objects, over the file system or HTTP). */
const REDIRECTS = new Set(["objects/info/alternates", "objects/info/http-alternates"]);

/**
 * What a backup keeps of a file inside a push repository (`path` relative to the repository): its data, its
 * config (which restore replaces with `restoredRepoConfig`), or nothing. Everything git could run or follow is
 * left out: hooks (the platform writes its own, see ensurePushRepo), `commondir`, a `.git` file, alternates,
 * worktrees, info/ and anything unknown.
 */
export function repoFileRole(path: string): "data" | "config" | "other" {
  if (path === "config") return "config";
  if (path === "HEAD" || path === "packed-refs") return "data";
  const slash = path.indexOf("/");
  if (slash > 0 && DATA_DIRS.has(path.slice(0, slash)) && !REDIRECTS.has(path)) return "data";
  return "other";
}

/** The folders git needs to see a repository (a backup has no empty folders: an unpushed repository has none). */
export const REPO_SKELETON = ["objects/info", "objects/pack", "refs/heads", "refs/tags"];

/** The values of a config file as git reads them (includes not followed), or null when git cannot read it. */
function readConfig(bytes: Uint8Array): Map<string, string> | null {
  // From an empty folder it cannot leave: git looks for a repository around it, and there must be none.
  const home = mkdtempSync(join(tmpdir(), "minivercel-git-config-"));
  let result: ReturnType<typeof Bun.spawnSync>;
  try {
    result = Bun.spawnSync(["git", "config", "--file", "-", "--no-includes", "--list", "-z"], {
      env: { ...gitEnv(home), GIT_CEILING_DIRECTORIES: dirname(home) },
      cwd: home,
      stdin: bytes,
    });
  } catch (error) {
    // No git on this machine: push-to-deploy needs it anyway.
    throw badRequest(
      `git is needed to restore push-to-deploy repositories (${error instanceof Error ? error.message : String(error)}): install it`,
    );
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  if (result.exitCode !== 0 || !result.stdout) return null;
  const values = new Map<string, string>();
  for (const record of result.stdout.toString().split("\0")) {
    const newline = record.indexOf("\n");
    if (newline > 0) values.set(record.slice(0, newline), record.slice(newline + 1));
  }
  return values;
}

/** Repository formats kept from an archived config: git cannot read the data without them. */
const FORMATS: Record<string, { fallback: string; known: string[] }> = {
  objectformat: { fallback: "sha1", known: ["sha1", "sha256"] },
  refstorage: { fallback: "files", known: ["files", "reftable"] },
};

/**
 * The config a restored push repository gets: what `git init --bare` and ensurePushRepo write, plus only the
 * object and ref formats of the archived one (a sha256 or reftable repository cannot be read without them).
 * Nothing else of it survives: hooksPath, fsmonitor, sshCommand, filters, includes and the like would run or
 * read what the archive chose. Null when the archived file is not a config git can read; a 400 without git.
 */
export function restoredRepoConfig(archived: Uint8Array | null): string | null {
  const values = archived === null ? new Map<string, string>() : readConfig(archived);
  if (values === null) return null;
  const extensions: string[] = [];
  for (const [name, format] of Object.entries(FORMATS)) {
    const value = values.get(`extensions.${name}`)?.toLowerCase() ?? format.fallback;
    if (!format.known.includes(value)) return null;
    if (value !== format.fallback) extensions.push(`\t${name} = ${value}\n`);
  }
  return [
    "[core]\n",
    // Extensions are only read at format version 1.
    `\trepositoryformatversion = ${extensions.length > 0 ? 1 : 0}\n`,
    "\tfilemode = true\n",
    "\tbare = true\n",
    "[receive]\n",
    "\tfsckObjects = true\n",
    ...(extensions.length > 0 ? ["[extensions]\n", ...extensions] : []),
  ].join("");
}

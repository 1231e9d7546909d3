// Reading a repository's settings before its first build: a shallow, tree-only fetch of one branch inside the build
// sandbox, the few files detection reads, and the build's own detector (builder/detect.ts) on a skeleton of the top
// level. Nothing of the repository is cloned on the host: git talks to the remote from the sandbox's network (never
// the host's loopback or LAN), and the host only reads plain files the sandbox wrote, each capped.

import { lstat, mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import { type BuildPlan, DETECTION_FILES, detectBuild, KNOWN_FRAMEWORKS } from "../../builder/detect.ts";
import type { Config } from "../config/config.ts";
import { AppError } from "../errors.ts";
import { gitAddressProblem, gitUrlHost } from "../model/git-address.ts";
import { gitUrlProblem } from "../model/settings.ts";
import { hardenedGitEnv } from "../sandbox/git-env.ts";
import { runSandboxed, type SandboxMode } from "../sandbox/sandbox.ts";

/** What detection found, in the shape of a project's settings (a form's fields, the API's answer). */
export interface DetectedSettings {
  framework: string;
  frameworkName: string;
  packageManager: string | null;
  installCommand: string | null;
  buildCommand: string | null;
  outputDirectory: string;
  /** A server the project says how to start: run after every build, or only when the build leaves no output. */
  startCommand: string | null;
  startAlways: boolean;
  notes: string[];
  commitSha: string;
}

/** Which setting a problem is about: the form field (and the API's `field`) to show it on. */
export type DetectField = "gitUrl" | "branch" | "rootDirectory";

export type Detection =
  | { ok: true; settings: DetectedSettings }
  | { ok: false; problem: string; field: DetectField };

/** The options from the platform's settings: the git URL rules and the build sandbox. */
export function detectOptions(
  config: Pick<Config, "allowLocalGit" | "allowPrivateGit" | "build">,
): DetectOptions {
  return {
    allowLocal: config.allowLocalGit,
    allowPrivate: config.allowPrivateGit,
    sandbox: {
      mode: config.build.sandbox,
      ...(config.build.sandboxPath !== null && { helperPath: config.build.sandboxPath }),
    },
  };
}

export interface DetectOptions {
  allowLocal: boolean;
  allowPrivate: boolean;
  sandbox: { mode: SandboxMode; helperPath?: string };
  timeoutMs?: number;
}

/** The fetch's whole footprint (trees, the few blobs, git's own files) lives in the sandbox's /tmp, held to this. */
const MEMORY_BYTES = 256 * 1024 * 1024;
const TIMEOUT_MS = 30_000;
/** Bytes of one file detection reads; package.json's own limit is 1 MB. */
const MAX_FILE_BYTES = 1024 * 1024;
/** Top-level entries turned into the skeleton; more are ignored (detection looks for known names only). */
const MAX_ENTRIES = 10_000;
const MAX_LISTING_BYTES = 4 * 1024 * 1024;

// A fixed script: the URL, branch and root directory arrive as "$1" "$2" "$3", the wanted files after them. Git's
// working files live in the private /tmp (so the memory limit bounds them); only the results go to the workspace.
// Trees only (blob:none), then each wanted file is read on its own: git fetches just that blob, so a monorepo's
// other files never travel. The exit code says which step failed.
const SCRIPT = `set -u
out=$PWD url=$1 branch=$2 root=$3
shift 3
mkdir "$TMPDIR/repo" && cd "$TMPDIR/repo" || exit 10
git init --quiet . || exit 10
git remote add origin -- "$url" || exit 11
git fetch --quiet --depth=1 --filter=blob:none --no-tags --no-recurse-submodules origin -- "refs/heads/$branch" 2>"$out/fetch.err" || exit 12
git rev-parse --verify --quiet "FETCH_HEAD^{commit}" >"$out/commit" || exit 12
tree="FETCH_HEAD:$root"
[ "$(git cat-file -t "$tree" 2>/dev/null)" = tree ] || exit 14
git ls-tree -z "$tree" >"$out/listing" || exit 15
mkdir "$out/files"
i=0
for name in "$@"; do
  if [ "$(git cat-file -t "$tree$name" 2>/dev/null)" = blob ]; then
    git cat-file blob "$tree$name" 2>/dev/null | head -c ${MAX_FILE_BYTES + 1} >"$out/files/$i"
  fi
  i=$((i + 1))
done
exit 0`;

const PROBLEM_BY_CODE: Record<number, string> = {
  10: "could not be read (git init failed)",
  11: "could not be read (git remote failed)",
  15: "could not be read (git ls-tree failed)",
};

/** Fetches `branch` of `url` (a project's git URL) in the sandbox and detects its settings; a problem says why not. */
export async function detectRemote(
  url: string,
  branch: string,
  rootDirectory: string,
  options: DetectOptions,
): Promise<Detection> {
  const problem =
    gitUrlProblem(url, options.allowLocal) ?? (await gitAddressProblem(url, options.allowPrivate));
  if (problem) return { ok: false, problem: `Git repository URL ${problem}`, field: "gitUrl" };
  // git's own rules for a ref name, roughly; the script takes it after "--" either way.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are refused
  if (!/^[^\s~^:?*[\\\u0000-\u001f\u007f]{1,255}$/.test(branch) || /^[-/]|\.\.|\/$/.test(branch))
    return { ok: false, problem: "Branch is not a valid branch name", field: "branch" };
  const root = rootDirectory.replace(/^\/+|\/+$/g, "");
  if (root.split("/").some((part) => part === "." || part === "..") || root.includes("\0"))
    return { ok: false, problem: "Root directory must stay inside the repository", field: "rootDirectory" };

  const workspace = await mkdtemp(join(tmpdir(), "minivercel-detect-"));
  try {
    const local = gitUrlHost(url) === null;
    // As for builds (builder/git.ts): a remote repository is read from the sandbox's own network; a local one (the
    // platform's push remotes, tests: MINIVERCEL_ALLOW_LOCAL_GIT) and hosts the operator allows on private networks
    // (which the sandbox's network cannot reach) are read by git on the host, still with its own env and limits.
    const mode = local || options.allowPrivate ? "none" : options.sandbox.mode;
    const result = await runSandboxed({
      mode,
      ...(options.sandbox.helperPath !== undefined && { helperPath: options.sandbox.helperPath }),
      workspace,
      cwd: "",
      command: SCRIPT,
      args: [url, branch, root === "" ? "" : `${root}/`, ...DETECTION_FILES],
      env: gitEnv(options.allowLocal),
      network: "registry",
      limits: { memoryBytes: MEMORY_BYTES, pids: 64, timeoutMs: options.timeoutMs ?? TIMEOUT_MS },
      onOutput: () => {},
    });
    const fail = (problem: string, field: DetectField = "gitUrl"): Detection => ({
      ok: false,
      problem,
      field,
    });
    if (result.timedOut) return fail("Git repository could not be read in time (timed out)");
    if (result.memoryExceeded) return fail("Git repository is too large to inspect");
    if (result.exitCode === 12) {
      const reason = await fetchReason(workspace, branch);
      return fail(`Git repository could not be read: ${reason.text}`, reason.field);
    }
    if (result.exitCode === 14)
      return fail("Root directory is not a folder of the repository on that branch", "rootDirectory");
    if (result.exitCode !== 0)
      return fail(
        `Git repository ${PROBLEM_BY_CODE[result.exitCode ?? 0] ?? `could not be read (exit ${result.exitCode})`}`,
      );
    return { ok: true, settings: await detectIn(workspace) };
  } catch (error) {
    // The repository's own files are wrong (package.json not JSON, a linked package.json): say so, as a build would.
    if (error instanceof AppError && error.status < 500)
      return { ok: false, problem: `The repository's files: ${error.message}`, field: "gitUrl" };
    throw error;
  } finally {
    await rm(workspace, { recursive: true, force: true });
  }
}

/** git's environment in the sandbox: redirects refused, as in a branch listing (src/git/ls-remote.ts). */
function gitEnv(allowLocal: boolean): Record<string, string> {
  return hardenedGitEnv(allowLocal, [
    ["http.followRedirects", "false"],
    ["init.defaultBranch", "main"],
  ]);
}

/** Why the fetch failed, from git's last line, without terminal escapes. */
async function fetchReason(workspace: string, branch: string): Promise<{ text: string; field: DetectField }> {
  const text = await readCapped(workspace, "fetch.err", 64 * 1024);
  const lines = (text ?? "")
    // biome-ignore lint/suspicious/noControlCharactersInRegex: escapes and control characters are removed
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, "")
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const last = (lines[lines.length - 1] ?? "").replace(/^(fatal|error):\s*/, "");
  if (/couldn't find remote ref/i.test(last)) return { text: `it has no branch ${branch}`, field: "branch" };
  return { text: (last || "git fetch failed").slice(0, 300), field: "gitUrl" };
}

/** Builds the top level the sandbox listed, with the files it read, and runs the build's detector on it. */
async function detectIn(workspace: string): Promise<DetectedSettings> {
  const commitSha = ((await readCapped(workspace, "commit", 100)) ?? "").trim();
  const listing = (await readCapped(workspace, "listing", MAX_LISTING_BYTES)) ?? "";
  const skeleton = join(workspace, "skeleton");
  await mkdir(skeleton);
  const wanted = new Map(DETECTION_FILES.map((name, i) => [name, i]));
  for (const entry of listing.split("\0").slice(0, MAX_ENTRIES)) {
    // "<mode> <type> <object>\t<name>"
    const match = /^(\d{6}) (\w+) [0-9a-f]+\t(.+)$/s.exec(entry);
    const [, mode, type, name] = match ?? [];
    if (!mode || !type || !name || name === "." || name === ".." || name.includes("/")) continue;
    const where = join(skeleton, name);
    if (type === "tree" || type === "commit") await mkdir(where);
    else if (mode === "120000") await symlink("/nonexistent", where);
    else await writeFile(where, (await wantedFile(workspace, wanted.get(name))) ?? "");
  }
  // public/index.html: the one file below the top level detection looks at.
  const nested = await wantedFile(workspace, wanted.get("public/index.html"));
  if (nested !== null && (await isDir(join(skeleton, "public"))))
    await writeFile(join(skeleton, "public", "index.html"), nested);
  const plan = await detectBuild(skeleton, {
    installCommand: null,
    buildCommand: null,
    outputDirectory: null,
  });
  return settingsOf(plan, commitSha);
}

function settingsOf(plan: BuildPlan, commitSha: string): DetectedSettings {
  const known = KNOWN_FRAMEWORKS.find((f) => f.id === plan.framework);
  const names: Record<string, string> = { static: "Static files", node: "Node.js (build script)" };
  return {
    framework: plan.framework,
    frameworkName: known?.name ?? names[plan.framework] ?? plan.framework,
    packageManager: plan.packageManager,
    installCommand: plan.installCommand,
    buildCommand: plan.buildCommand,
    outputDirectory: plan.outputDirectory,
    startCommand: plan.startCandidate?.command ?? null,
    startAlways: plan.startCandidate !== null && !plan.startCandidate.withoutOutput,
    notes: plan.notes,
    commitSha,
  };
}

/**
 * `relative` inside the workspace the sandbox wrote, as a real path still inside it; null otherwise (the sandbox
 * may have made `files` a symlink to a host directory: lstat checks only the last component).
 */
export async function inside(workspace: string, relative: string): Promise<string | null> {
  const [root, real] = await Promise.all([
    realpath(workspace).catch(() => null),
    realpath(join(workspace, relative)).catch(() => null),
  ]);
  if (root === null || real === null) return null;
  return real.startsWith(root + sep) ? real : null;
}

async function wantedFile(workspace: string, index: number | undefined): Promise<Uint8Array | null> {
  if (index === undefined) return null;
  const path = await inside(workspace, join("files", String(index)));
  if (path === null) return null;
  const stat = await lstat(path).catch(() => null);
  // One byte over the limit is kept: the detector then says the file is too large.
  if (stat === null || !stat.isFile() || stat.size > MAX_FILE_BYTES + 1) return null;
  return new Uint8Array(await readFile(path));
}

/** A regular file the sandbox wrote, at most `max` bytes; null when missing or anything else. */
async function readCapped(workspace: string, name: string, max: number): Promise<string | null> {
  const path = await inside(workspace, name);
  if (path === null) return null;
  const stat = await lstat(path).catch(() => null);
  if (stat === null || !stat.isFile()) return null;
  return await Bun.file(path).slice(0, max).text();
}

async function isDir(path: string): Promise<boolean> {
  const stat = await lstat(path).catch(() => null);
  return stat?.isDirectory() ?? false;
}

// Clone step: fetch exactly one branch or commit of an untrusted repository, shallow, with git's risky features off.
// A network clone runs inside the build sandbox when there is one, so its connections (and every redirect) leave
// through the build's network, which cannot reach the host's loopback, its addresses or its LAN; local paths (the
// platform's own push remotes, tests) and hosts the operator allows on private networks are cloned on the host.

import { gitAddressProblem, gitUrlHost } from "../src/model/git-address.ts";
import { gitUrlProblem } from "../src/model/settings.ts";
import { type GitSettings, hardenedGitEnv } from "../src/sandbox/git-env.ts";
import { runSandboxed, type SandboxLimits, type SandboxMode } from "../src/sandbox/sandbox.ts";

export interface CloneRequest {
  url: string;
  branch: string | null;
  commitSha: string | null;
  dir: string;
  allowLocal: boolean;
  /** Hosts on loopback, private or link-local addresses are allowed (MINIVERCEL_ALLOW_PRIVATE_GIT). */
  allowPrivate: boolean;
  /**
   * A bearer token git sends to URLs under `urlPrefix` only (the platform's own push remote, for a remote
   * builder): through the environment, never the command line or the URL, so no log line can show it.
   */
  auth?: { urlPrefix: string; token: string };
  /** The build's sandbox: a network clone runs in it (mode "bwrap"), held to the build's limits. */
  sandbox: { mode: SandboxMode; limits: SandboxLimits; helperPath?: string };
}

/**
 * git's environment: no platform secrets, hardened (src/sandbox/git-env.ts) so that a hostile repository runs
 * no code and reads no file through git itself; a bearer token only for the platform's own push remote.
 */
function gitEnv(home: string, allowLocal: boolean, auth?: CloneRequest["auth"]): Record<string, string> {
  const settings: GitSettings = [
    ["core.symlinks", "true"],
    ["submodule.recurse", "false"],
    ["advice.detachedHead", "false"],
  ];
  if (auth) settings.push([`http.${auth.urlPrefix}.extraHeader`, `Authorization: Bearer ${auth.token}`]);
  return { HOME: home, ...hardenedGitEnv(allowLocal, settings) };
}

export type GitOutput = (stream: "stdout" | "stderr", text: string) => void;

async function git(
  args: string[],
  cwd: string,
  allowLocal: boolean,
  output: GitOutput,
  signal: AbortSignal,
  auth?: CloneRequest["auth"],
) {
  const proc = Bun.spawn(["git", ...args], {
    cwd,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...gitEnv(cwd, allowLocal, auth) },
    signal,
  });
  const pump = async (stream: ReadableStream<Uint8Array>, name: "stdout" | "stderr") => {
    const decoder = new TextDecoder();
    let out = "";
    for await (const chunk of stream) {
      const text = decoder.decode(chunk, { stream: true });
      out += text;
      output(name, text);
    }
    return out;
  };
  const [stdout] = await Promise.all([pump(proc.stdout, "stdout"), pump(proc.stderr, "stderr")]);
  const code = await proc.exited;
  return { code, stdout };
}

// The steps as one fixed script: the URL and the ref arrive as "$1" and "$2", never as shell text. The exit code
// says which step failed.
const CLONE_SCRIPT = `git init --quiet . || exit 10
git remote add origin -- "$1" || exit 11
git fetch --depth=1 --no-tags --no-recurse-submodules origin -- "$2" || exit 12
git checkout --quiet --detach FETCH_HEAD || exit 13`;

const STEP_BY_CODE: Record<number, string> = { 10: "init", 11: "remote", 12: "fetch", 13: "checkout" };

function failure(step: string, req: CloneRequest): Error {
  if (step === "fetch")
    return new Error(`could not fetch ${req.commitSha ?? `branch ${req.branch}`} from the repository`);
  return new Error(`git ${step} failed`);
}

/** Runs CLONE_SCRIPT in the build sandbox with the build's network. */
async function cloneSandboxed(req: CloneRequest, ref: string, output: GitOutput, signal: AbortSignal) {
  const result = await runSandboxed({
    mode: req.sandbox.mode,
    ...(req.sandbox.helperPath !== undefined && { helperPath: req.sandbox.helperPath }),
    workspace: req.dir,
    cwd: "",
    command: CLONE_SCRIPT,
    args: [req.url, ref],
    env: gitEnv("/tmp/home", false, req.auth),
    network: "registry",
    limits: req.sandbox.limits,
    onOutput: output,
    signal,
  });
  if (result.canceled || signal.aborted) throw new Error("the clone was canceled");
  if (result.timedOut) throw new Error("the clone timed out");
  if (result.memoryExceeded) throw new Error("the clone ran out of memory");
  if (result.exitCode !== 0) throw failure(STEP_BY_CODE[result.exitCode ?? 0] ?? "clone", req);
}

/** The same steps on the host: for local repositories, and hosts allowed on private networks. */
async function cloneOnHost(req: CloneRequest, ref: string, output: GitOutput, signal: AbortSignal) {
  const steps: string[][] = [
    ["init", "--quiet", "."],
    ["remote", "add", "origin", "--", req.url],
    ["fetch", "--depth=1", "--no-tags", "--no-recurse-submodules", "origin", "--", ref],
    ["checkout", "--quiet", "--detach", "FETCH_HEAD"],
  ];
  for (const args of steps) {
    const { code } = await git(args, req.dir, req.allowLocal, output, signal, req.auth);
    if (code !== 0) throw failure(args[0] ?? "clone", req);
  }
}

/** Whether the clone runs in the build sandbox: a network URL, a sandbox to run in, no private hosts allowed. */
export function clonesInSandbox(req: Pick<CloneRequest, "url" | "allowPrivate" | "sandbox">): boolean {
  return req.sandbox.mode === "bwrap" && gitUrlHost(req.url) !== null && !req.allowPrivate;
}

/** Clones into `dir` (must exist and be empty) and returns the commit checked out. */
export async function cloneRepository(
  req: CloneRequest,
  output: GitOutput,
  signal: AbortSignal,
): Promise<string> {
  const problem =
    gitUrlProblem(req.url, req.allowLocal) ?? (await gitAddressProblem(req.url, req.allowPrivate));
  if (problem) throw new Error(`git URL ${problem}`);
  // init + fetch of one ref works for branches and commits alike, and user input only ever follows "--".
  const ref = req.commitSha ?? `refs/heads/${req.branch ?? "main"}`;
  if (clonesInSandbox(req)) await cloneSandboxed(req, ref, output, signal);
  else await cloneOnHost(req, ref, output, signal);
  // Reading HEAD is local: no network, no hooks (core.hooksPath), nothing of the repository runs.
  const head = await git(["rev-parse", "HEAD"], req.dir, req.allowLocal, () => {}, signal);
  const sha = head.stdout.trim();
  if (head.code !== 0 || !/^[0-9a-f]{40}$/.test(sha))
    throw new Error("could not read the checked-out commit");
  return sha;
}

/** A commit's subject line and author name, read from the checkout (local: no network, nothing runs). */
export async function readCommitDetails(
  dir: string,
  allowLocal: boolean,
  signal: AbortSignal,
): Promise<{ message: string | null; author: string | null }> {
  const log = await git(["log", "-1", "--format=%an%x00%s", "HEAD"], dir, allowLocal, () => {}, signal);
  if (log.code !== 0) return { message: null, author: null };
  const [author = "", message = ""] = log.stdout.trim().split("\u0000");
  return { message: message.trim() || null, author: author.trim() || null };
}

// Reading a repository before it becomes a project: `git ls-remote` lists its branches and the one HEAD names, under
// the same URL rules as any project's git URL (no option-like URLs, no local paths unless allowed, no hosts on
// the platform's own network), argv only, with git's risky features and redirects off, and a time limit.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gitAddressProblem } from "../model/git-address.ts";
import { gitUrlProblem } from "../model/settings.ts";
import { hardenedGitEnv } from "../sandbox/git-env.ts";

/** What a repository offers: its branches (sorted, at most MAX_BRANCHES) and the default one (HEAD), if any. */
export type RemoteBranches =
  | { ok: true; branches: string[]; defaultBranch: string | null }
  | { ok: false; problem: string };

const MAX_BRANCHES = 200;
const MAX_OUTPUT = 1024 * 1024;
const TIMEOUT_MS = 10_000;

export async function listBranches(
  url: string,
  options: { allowLocal: boolean; allowPrivate: boolean; timeoutMs?: number },
): Promise<RemoteBranches> {
  const listed = await lsRemote(url, ["--symref", "--", url, "HEAD", "refs/heads/*"], options);
  return "problem" in listed ? { ok: false, problem: listed.problem } : { ok: true, ...parse(listed.stdout) };
}

/**
 * The commit a branch points at now (40 or 64 hex digits), or null when it cannot be read: what a build of the
 * branch would check out, so the worker can tell whether an earlier build already made it (src/worker/reuse.ts).
 */
export async function branchHead(
  url: string,
  branch: string,
  options: { allowLocal: boolean; allowPrivate: boolean; timeoutMs?: number },
): Promise<string | null> {
  // No git on this machine (an ECS-only worker) is no head either.
  const listed = await lsRemote(url, ["--", url, `refs/heads/${branch}`], options).catch(() => null);
  if (listed === null || "problem" in listed) return null;
  const line = listed.stdout.split("\n").find((l) => l.endsWith(`\trefs/heads/${branch}`));
  const sha = line?.split("\t")[0] ?? "";
  return /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(sha) ? sha : null;
}

/** `git ls-remote <args>` under the URL rules, in an empty home, within the time limit: its output or why not. */
async function lsRemote(
  url: string,
  args: string[],
  options: { allowLocal: boolean; allowPrivate: boolean; timeoutMs?: number },
): Promise<{ stdout: string } | { problem: string }> {
  const problem =
    gitUrlProblem(url, options.allowLocal) ?? (await gitAddressProblem(url, options.allowPrivate));
  if (problem) return { problem };
  const home = mkdtempSync(join(tmpdir(), "minivercel-ls-remote-"));
  try {
    const proc = Bun.spawn(["git", "ls-remote", ...args], {
      cwd: home,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: gitEnv(home, options.allowLocal),
      signal: AbortSignal.timeout(options.timeoutMs ?? TIMEOUT_MS),
    });
    const [stdout, stderr, code] = await Promise.all([capped(proc.stdout), capped(proc.stderr), proc.exited]);
    if (proc.signalCode) return { problem: "could not be read in time (git ls-remote timed out)" };
    if (code !== 0) return { problem: `could not be read: ${reason(stderr)}` };
    return { stdout };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** git's environment: nothing of the platform's, hardened (src/sandbox/git-env.ts), redirects refused. */
function gitEnv(home: string, allowLocal: boolean): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    // A redirect could lead to the platform's own network after the address check; so none is followed.
    ...hardenedGitEnv(allowLocal, [["http.followRedirects", "false"]]),
  };
}

async function capped(stream: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of stream) {
    if (text.length < MAX_OUTPUT) text += decoder.decode(chunk, { stream: true });
  }
  return text.slice(0, MAX_OUTPUT);
}

/** The last line git printed (its reason), without terminal escapes, cut short. */
function reason(stderr: string): string {
  const lines = stderr
    // biome-ignore lint/suspicious/noControlCharactersInRegex: escapes and control characters are removed
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, "")
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const last = (lines[lines.length - 1] ?? "git ls-remote failed").replace(/^fatal:\s*/, "");
  return last.slice(0, 300);
}

function parse(out: string): { branches: string[]; defaultBranch: string | null } {
  let defaultBranch: string | null = null;
  const branches = new Set<string>();
  for (const line of out.split("\n")) {
    const symref = /^ref: refs\/heads\/(\S+)\tHEAD$/.exec(line);
    if (symref?.[1]) defaultBranch = symref[1];
    const head = /^[0-9a-f]{40,64}\trefs\/heads\/(\S+)$/.exec(line);
    if (head?.[1]) branches.add(head[1]);
  }
  const sorted = [...branches].sort((a, b) =>
    a === defaultBranch ? -1 : b === defaultBranch ? 1 : a.localeCompare(b),
  );
  return { branches: sorted.slice(0, MAX_BRANCHES), defaultBranch };
}

// Clone step: fetch exactly one branch or commit of an untrusted repository, shallow, with git's risky features off.

import { gitUrlProblem } from "../src/deploy/settings.ts";

export interface CloneRequest {
  url: string;
  branch: string | null;
  commitSha: string | null;
  dir: string;
  allowLocal: boolean;
}

/** Options that keep a hostile repository from running code or reading files through git itself. */
function hardening(allowLocal: boolean): string[] {
  return [
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.symlinks=true",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "submodule.recurse=false",
    "-c",
    "protocol.ext.allow=never",
    "-c",
    `protocol.file.allow=${allowLocal ? "always" : "never"}`,
    "-c",
    "advice.detachedHead=false",
  ];
}

export type GitOutput = (stream: "stdout" | "stderr", text: string) => void;

async function git(args: string[], cwd: string, allowLocal: boolean, output: GitOutput, signal: AbortSignal) {
  const proc = Bun.spawn(["git", ...hardening(allowLocal), ...args], {
    cwd,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    // git sees no platform secrets and never prompts for credentials.
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: cwd,
      GIT_TERMINAL_PROMPT: "0",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_SSH_COMMAND: "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new",
      GIT_ALLOW_PROTOCOL: allowLocal ? "file:https:http:ssh:git" : "https:http:ssh:git",
    },
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

/** Clones into `dir` (must exist and be empty) and returns the commit checked out. */
export async function cloneRepository(
  req: CloneRequest,
  output: GitOutput,
  signal: AbortSignal,
): Promise<string> {
  const problem = gitUrlProblem(req.url, req.allowLocal);
  if (problem) throw new Error(`git URL ${problem}`);
  const run = (args: string[]) => git(args, req.dir, req.allowLocal, output, signal);
  // init + fetch of one ref works for branches and commits alike, and user input only ever follows "--".
  const steps: string[][] = [
    ["init", "--quiet", "."],
    ["remote", "add", "origin", "--", req.url],
    [
      "fetch",
      "--depth=1",
      "--no-tags",
      "--no-recurse-submodules",
      "origin",
      "--",
      req.commitSha ?? `refs/heads/${req.branch ?? "main"}`,
    ],
    ["checkout", "--quiet", "--detach", "FETCH_HEAD"],
  ];
  for (const args of steps) {
    const { code } = await run(args);
    if (code !== 0) {
      const what =
        args[0] === "fetch"
          ? `could not fetch ${req.commitSha ?? `branch ${req.branch}`} from the repository`
          : `git ${args[0]} failed`;
      throw new Error(what);
    }
  }
  const head = await git(["rev-parse", "HEAD"], req.dir, req.allowLocal, () => {}, signal);
  const sha = head.stdout.trim();
  if (head.code !== 0 || !/^[0-9a-f]{40}$/.test(sha))
    throw new Error("could not read the checked-out commit");
  return sha;
}

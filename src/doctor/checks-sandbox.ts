// `minivercel doctor`, worker role with local builds: the bubblewrap sandbox, step by step, ending with a real
// sandboxed command that has its own network (slirp4netns), as a build's install step would.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Config } from "../config/config.ts";
import { cgroupKind } from "../sandbox/cgroup.ts";
import { BUILD_PROGRAMS, installCommand, missingPrograms } from "../sandbox/packages.ts";
import {
  namespacesProblem,
  platformProblem,
  programsProblem,
  rootProblem,
  stateProblem,
  tunProblem,
} from "../sandbox/probe.ts";
import { HELPER_PATH } from "../sandbox/proc.ts";
import { runSandboxed } from "../sandbox/sandbox.ts";
import { type Check, fail, messageOf, ok, type Result, skip, warn } from "./check.ts";

const asResult = (problem: { reason: string; fix: string } | null, good: string): Result =>
  problem === null ? ok(good) : fail(problem.reason, problem.fix);

/**
 * The checks for the sandbox this config runs untrusted code in: local builds (the worker role without ECS, see
 * services) and function instances (the functions role).
 */
export function sandboxChecks(config: Pick<Config, "roles" | "ecs" | "build">): Check[] {
  const builds = config.roles.includes("worker") && !config.ecs;
  if (!builds && !config.roles.includes("functions")) return [];
  const searchPath = config.build.sandboxPath ?? HELPER_PATH;
  if (config.build.sandbox === "none")
    return [
      {
        name: "build sandbox",
        run: () =>
          warn(
            "off (BUILD_SANDBOX=none): builds run without isolation and can read this host",
            "unset BUILD_SANDBOX to build in the bubblewrap sandbox; keep it off only for code you trust",
          ),
      },
      {
        name: "git",
        run: () =>
          missingPrograms(searchPath).includes("git")
            ? fail("git is missing (the clone step needs it)", installCommand(["git"]))
            : ok("found"),
      },
    ];
  // What the later steps need first; each of those is its own line above them.
  const blocked = () => platformProblem() ?? programsProblem(searchPath) ?? rootProblem();
  return [
    {
      name: "sandbox programs",
      run: () =>
        asResult(
          platformProblem() ?? programsProblem(searchPath),
          `${BUILD_PROGRAMS.join(", ")} in ${searchPath}`,
        ),
    },
    {
      name: "runs as root",
      run: () => {
        const problem = rootProblem();
        if (problem === null) return ok("yes (each build runs as its own uid)");
        // The check runs as whoever started doctor: say how to check as the service would run.
        return fail(problem.reason, `${problem.fix}; check as the service runs: sudo minivercel doctor`);
      },
    },
    {
      name: "user namespaces",
      run: () =>
        blocked()
          ? skip("needs the lines above first")
          : asResult(namespacesProblem(searchPath), "bwrap creates them"),
    },
    { name: "slirp4netns", run: () => asResult(tunProblem(), "/dev/net/tun is there for a build's network") },
    {
      name: "cgroup limits",
      run: () => {
        if (rootProblem()) return skip("needs root");
        const kind = cgroupKind();
        if (kind === "v2") return ok("cgroup v2, delegated: memory and process limits per build");
        if (kind === "v1") return ok("cgroup v1 memory and pids: memory and process limits per build");
        return warn(
          "no writable cgroups: builds get per-process rlimits only (no limit on a build's whole memory)",
          "run minivercel as root on a host with cgroup v2 (the install.sh service does; in a container, give it its own cgroup namespace, writable)",
        );
      },
    },
    {
      name: "sandbox start",
      run: () =>
        (blocked() ?? tunProblem() ?? stateProblem())
          ? skip("needs the lines above first")
          : runOnce(searchPath),
    },
  ];
}

/** A real sandboxed command with the network a build gets: everything a build's install step needs. */
async function runOnce(searchPath: string): Promise<Result> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "minivercel-doctor-"));
  const workspace = path.join(scratch, "ws");
  fs.mkdirSync(workspace);
  let output = "";
  try {
    const result = await runSandboxed({
      mode: "bwrap",
      helperPath: searchPath,
      workspace,
      cwd: "",
      command: "echo ok > marker",
      env: {},
      network: "registry",
      limits: { memoryBytes: 256 * 1024 * 1024, pids: 64, timeoutMs: 15_000 },
      onOutput: (_stream, text) => {
        output = (output + text).slice(-500);
      },
    });
    if (result.exitCode === 0 && fs.readFileSync(path.join(workspace, "marker"), "utf8") === "ok\n")
      return ok(`a command ran in the sandbox, with its network, in ${result.durationMs} ms`);
    return fail(
      `a command in the sandbox ended with ${result.timedOut ? "a timeout" : `exit code ${result.exitCode}`}: ${output.trim()}`,
      "see the output; the server's log has the same when a build starts",
    );
  } catch (error) {
    return fail(
      `the sandbox did not start: ${messageOf(error)}`,
      "see the message (slirp4netns, bwrap, cgroups)",
    );
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

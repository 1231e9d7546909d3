// Whether this process can run builds, and if not why and what to run: for /api/health, the dashboard's
// banner and serve's start-up lines. The same check fails a deployment at once (launcher.ts).

import type { Config } from "../config/config.ts";
import type { Runner } from "./runner.ts";

export interface BuildsStatus {
  /** true: builds run from here; false: they cannot (see problem and fix); null: this process runs no builds. */
  ready: boolean | null;
  /** Where builds run: a local builder process, or ECS tasks; null without the worker role. */
  runner: "local" | "ecs" | null;
  /** The local runner's sandbox (BUILD_SANDBOX); null for ECS and without the worker role. */
  sandbox: "bwrap" | "none" | null;
  /** Why builds cannot run; null when they can (or this process cannot tell). */
  problem: string | null;
  /** The command (or change) that makes them run. */
  fix: string | null;
  /** One sentence for people. */
  message: string;
}

export function buildsStatus(
  config: Pick<Config, "roles" | "ecs" | "build">,
  runner: Pick<Runner, "problem">,
): BuildsStatus {
  if (!config.roles.includes("worker"))
    return {
      ready: null,
      runner: null,
      sandbox: null,
      problem: null,
      fix: null,
      message:
        "this process runs no builds (no worker role): check the worker processes with 'minivercel doctor' there",
    };
  if (config.ecs)
    return {
      ready: true,
      runner: "ecs",
      sandbox: null,
      problem: null,
      fix: null,
      message: `builds run as ECS tasks in cluster ${config.ecs.cluster}`,
    };
  const { sandbox, sandboxPath } = config.build;
  const problem = runner.problem({ sandbox, ...(sandboxPath !== null && { sandboxPath }) });
  if (problem)
    return {
      ready: false,
      runner: "local",
      sandbox,
      problem: problem.reason,
      fix: problem.fix,
      message: `builds cannot run on this server: ${problem.reason}`,
    };
  return {
    ready: true,
    runner: "local",
    sandbox,
    problem: null,
    fix: null,
    message:
      sandbox === "bwrap"
        ? "builds run in the bubblewrap sandbox"
        : "builds run WITHOUT isolation (BUILD_SANDBOX=none): only for code you trust",
  };
}

// Test support: a real builder process in http mode, the ECS task's code path, reporting through the build API
// with only its deployment's token, as a remote builder does.

import { join } from "node:path";
import type { BuildJob } from "../../builder/job.ts";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import type { Deployment } from "../model/entities.ts";
import { selfCommand } from "../worker/self.ts";
import { endedDeployment, storedDeployment } from "./store-deployment.ts";

/** The job for deployment `deploymentId`, reporting to `apiUrl`: defaults (sandbox none, local git allowed). */
export function httpBuildJob(
  deps: Deps,
  deploymentId: string,
  apiUrl: string,
  settings: Partial<BuildJob> = {},
): BuildJob {
  return {
    deploymentId,
    gitUrl: "",
    branch: "main",
    commitSha: null,
    rootDirectory: null,
    installCommand: null,
    buildCommand: null,
    outputDirectory: null,
    env: {},
    allowLocalGit: true,
    sandbox: "none",
    limits: { memoryMb: 512, pids: 256, timeoutMs: 60_000 },
    workDir: join(deps.config.dataDir, "remote", deploymentId),
    cacheDir: null,
    output: { kind: "http", apiUrl, token: deps.buildTokens.issue(deploymentId) },
    ...settings,
  };
}

/** Runs `minivercel builder` with the job in its environment (and nothing of the platform's): exit code, stdout. */
export async function runBuilder(job: BuildJob): Promise<{ code: number; stdout: string }> {
  const proc = Bun.spawn([...selfCommand(), "builder"], {
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      MINIVERCEL_JOB: Buffer.from(JSON.stringify(job)).toString("base64"),
    },
    stdout: "pipe",
    stderr: "inherit",
  });
  const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  return { code, stdout };
}

export interface RemoteBuild {
  userId: string;
  /** The API the builder reports to (its build routes). */
  apiUrl: string;
  gitUrl: string;
  /** The job's settings over the defaults (root, output directory, commands). */
  settings?: Partial<BuildJob>;
}

/**
 * Builds `gitUrl` as a new deployment of a new project with a real builder process to its end (exit 0 expected),
 * and returns the deployment as the platform recorded it.
 */
export async function remoteBuild(deps: Deps, build: RemoteBuild): Promise<Deployment> {
  const { userId, gitUrl } = build;
  const name = `remote-${crypto.randomUUID().slice(0, 6)}`;
  const project = await createProject(deps.store, deps.config, userId, { name, gitUrl });
  // Claimed as a remote runner would, so the local launcher leaves it alone; with a sign of life, so that its
  // reaper does not take it for lost before the builder's first heartbeat.
  const d = await storedDeployment(deps.store, {
    projectId: project.id,
    userId,
    status: "IN_PROGRESS",
    heartbeat: true,
  });
  const { code } = await runBuilder(httpBuildJob(deps, d.id, build.apiUrl, { gitUrl, ...build.settings }));
  if (code !== 0) throw new Error(`the builder exited with ${code}`);
  return endedDeployment(deps.store, d.id);
}

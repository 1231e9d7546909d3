// Build step "upload", the choice: a project's Build Output (`.vercel/output/config.json`, written by its build or
// committed), else its zero-config `api/` functions turned into one in the sandbox, else its output directory.

import { join, relative } from "node:path";
import { AppError } from "../src/errors.ts";
import type { Artifacts } from "../src/store/artifacts.ts";
import { chooseServer, uploadServer } from "./app-server.ts";
import { BUILD_OUTPUT_DIR, plural, uploadBuildOutput } from "./build-output.ts";
import { realDirInside } from "./contained.ts";
import type { StartCandidate } from "./detect.ts";
import { BuildFailure } from "./failure.ts";
import type { BuildJob } from "./job.ts";
import { uploadOutput } from "./upload.ts";
import { type AssembleRun, assembleBuildOutput, findApiFunctions } from "./zero-config.ts";

const NO_BUILD_OUTPUT = "no build output";

/** The real path of `<project>/.vercel/output` when it holds a config.json; never one outside the checkout. */
export async function findBuildOutput(checkout: string, project: string): Promise<string | null> {
  let dir: string;
  try {
    dir = await realDirInside(
      checkout,
      project,
      BUILD_OUTPUT_DIR,
      "the Build Output directory",
      NO_BUILD_OUTPUT,
    );
  } catch (error) {
    if (error instanceof AppError && error.message === NO_BUILD_OUTPUT) return null;
    throw error;
  }
  return (await Bun.file(join(dir, "config.json")).exists()) ? dir : null;
}

export interface PublishStep {
  job: BuildJob;
  artifacts: Artifacts;
  checkout: string;
  /** Resolves the project's root directory again (the build, and bundling, may have replaced it by a link). */
  project: () => Promise<string>;
  /** Resolves the project's output directory (a plain static site's is the project itself). */
  outputDir: (project: string) => Promise<string>;
  deadline: number;
  signal: AbortSignal;
  onOutput: AssembleRun["onOutput"];
  flush: () => void;
  log: (message: string) => void;
  /** An app server to run: the project's start command, else what detection found before the build. */
  server?: { startCommand: string | null; candidate: StartCandidate | null };
}

const failed = (error: unknown): never => {
  if (error instanceof AppError) throw new BuildFailure(error.message);
  throw error;
};

/** Uploads what the build produced; returns the line the build log ends with. */
export async function publish(step: PublishStep): Promise<string> {
  const { checkout, log } = step;
  let project = await step.project();
  let output = await findBuildOutput(checkout, project).catch(failed);
  const server = await chooseServer(project, {
    startCommand: step.server?.startCommand ?? null,
    candidate: step.server?.candidate ?? null,
    hasBuildOutput: output !== null,
    hasOutputDirectory: () =>
      step.outputDir(project).then(
        () => true,
        () => false,
      ),
  });
  if (server) {
    if (output !== null) log(`Ignoring ${BUILD_OUTPUT_DIR}: the project's start command runs the deployment`);
    const stats = await uploadServer(step.artifacts, step.job.deploymentId, project, server, {
      log,
      within: checkout,
    }).catch(failed);
    return `Deployed an app server (${server.command}) and ${plural(stats.files, "static file")} (${stats.uploaded} new blobs)`;
  }
  if (output === null) {
    const functions = await findApiFunctions(checkout, project).catch(failed);
    const outputDir = await step.outputDir(project);
    if (functions.length === 0) {
      log(`Uploading ${relative(checkout, outputDir) || "."}`);
      const stats = await uploadOutput(step.artifacts, step.job.deploymentId, outputDir, {
        log,
        within: checkout,
      }).catch(failed);
      return `Deployed ${stats.files} files (${stats.uploaded} new)`;
    }
    log(
      `Found ${functions.length} function${functions.length === 1 ? "" : "s"} in api/: writing ${BUILD_OUTPUT_DIR}`,
    );
    const timeoutMs = step.deadline - Date.now();
    if (timeoutMs <= 0)
      throw new BuildFailure(`build timed out after ${Math.round(step.job.limits.timeoutMs / 1000)} s`);
    const problem = await assembleBuildOutput(functions, {
      job: step.job,
      checkout,
      project,
      outputDir,
      timeoutMs,
      signal: step.signal,
      onOutput: step.onOutput,
      log,
    });
    step.flush();
    if (problem) throw new BuildFailure(problem);
    // Bundling ran the project's code: everything is resolved afresh.
    project = await step.project();
    output = await findBuildOutput(checkout, project).catch(failed);
    if (output === null)
      throw new BuildFailure(`${BUILD_OUTPUT_DIR} is missing after bundling the functions`);
  }
  log(`Uploading ${relative(checkout, output)} (Build Output API)`);
  const stats = await uploadBuildOutput(step.artifacts, step.job.deploymentId, output, {
    log,
    within: checkout,
  }).catch(failed);
  return `Deployed ${plural(stats.files, "static file")} and ${plural(stats.functions, "function")} (${stats.uploaded} new blobs)`;
}

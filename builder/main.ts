// The build program: clone -> detect -> install -> build -> upload, reporting every step as events.
// Runs as `minivercel builder` (job on stdin, events as JSON lines on stdout), under a runner.

import { mkdirSync, realpathSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import type { BuildEvent } from "../schema/events.ts";
import { AppError } from "../src/errors.ts";
import { describeProblem, runSandboxed, type SandboxResult, sandboxProblem } from "../src/sandbox/sandbox.ts";
import { type Artifacts, openArtifacts } from "../src/store/artifacts.ts";
import { realDirInside } from "./contained.ts";
import { detectBuild } from "./detect.ts";
import { createEmitter, type Emitter, HEARTBEAT_MS, type StatusExtra } from "./emitter.ts";
import { BuildFailure } from "./failure.ts";
import { type CloneRequest, cloneRepository, readCommitDetails } from "./git.ts";
import { type BuildJob, parseJob } from "./job.ts";
import type { PackageManager } from "./package-manager.ts";
import { publish } from "./publish.ts";
import { httpArtifacts, httpEvents } from "./sink-http.ts";
import { materializeSource } from "./source.ts";

/**
 * The real path of a directory of the checkout, which the host is about to read. The checkout is untrusted (its
 * symlinks come from the repository and from the build's own commands): see builder/contained.ts.
 */
async function checkoutDir(
  checkout: string,
  root: string,
  sub: string | null,
  what: string,
  missing?: string,
): Promise<string> {
  return realDirInside(checkout, root, sub, what, missing).catch((error: unknown) => {
    throw new BuildFailure(error instanceof AppError ? error.message : `could not read ${what}`);
  });
}

function describe(result: SandboxResult, step: string, limits: BuildJob["limits"]): string | null {
  if (result.canceled) return `${step} was canceled`;
  if (result.timedOut) return `build timed out after ${Math.round(limits.timeoutMs / 1000)} s`;
  if (result.memoryExceeded) return `${step} ran out of memory (limit ${limits.memoryMb} MB)`;
  if (result.exitCode !== 0) return `${step} failed with exit code ${result.exitCode ?? "unknown"}`;
  return null;
}

/**
 * Package managers' caches live in /cache (the project's own cache dir) so reinstalls are fast. pnpm's store is
 * set only for pnpm: npm reads every npm_config_* variable too and warns about one it does not know.
 */
function toolEnv(withCache: boolean, packageManager: PackageManager | null): Record<string, string> {
  const env: Record<string, string> = { COREPACK_ENABLE_DOWNLOAD_PROMPT: "0", NO_UPDATE_NOTIFIER: "1" };
  if (!withCache) return env;
  return {
    ...env,
    npm_config_cache: "/cache/npm",
    ...(packageManager === "pnpm" && { npm_config_store_dir: "/cache/pnpm" }),
    YARN_CACHE_FOLDER: "/cache/yarn",
    BUN_INSTALL_CACHE_DIR: "/cache/bun",
    COREPACK_HOME: "/cache/corepack",
  };
}

/**
 * The fetch token of a remote builder cloning its project's push remote from the platform, sent only to the
 * platform's /git/ URLs; undefined for any other clone (a token the job pairs with another host is not used).
 */
function platformRepoAuth(job: BuildJob): CloneRequest["auth"] {
  if (!job.gitToken || job.output.kind !== "http") return undefined;
  const urlPrefix = `${job.output.apiUrl.replace(/\/+$/, "")}/git/`;
  if (!job.gitUrl.startsWith(urlPrefix)) throw new BuildFailure("the job's repository is not the platform's");
  return { urlPrefix, token: job.gitToken };
}

/** Source step: clone the repository (returns the commit), or unpack the uploaded tree (no commit). */
async function fetchSource(
  job: BuildJob,
  out: Emitter,
  artifacts: Artifacts,
  checkout: string,
  signal: AbortSignal,
): Promise<StatusExtra> {
  if (job.source?.kind === "manifest") {
    out.log("system", "Unpacking the uploaded source");
    const count = await materializeSource(artifacts, job.source.manifestId, checkout).catch(
      (error: unknown) => {
        throw new BuildFailure(error instanceof Error ? error.message : "could not unpack the source");
      },
    );
    out.log("system", `Unpacked ${count} files`);
    return {};
  }
  out.log("system", `Cloning ${job.gitUrl} (${job.commitSha ?? `branch ${job.branch ?? "main"}`})`);
  const auth = platformRepoAuth(job);
  const commitSha = await cloneRepository(
    {
      url: job.gitUrl,
      branch: job.branch,
      commitSha: job.commitSha,
      dir: checkout,
      allowLocal: job.allowLocalGit,
      // The platform's own address (PUBLIC_API_URL) is where the operator says builders reach it, private or not.
      allowPrivate: (job.allowPrivateGit ?? false) || auth !== undefined,
      ...(auth && { auth }),
      sandbox: {
        mode: job.sandbox,
        ...(job.sandboxPath !== undefined && { helperPath: job.sandboxPath }),
        limits: {
          memoryBytes: job.limits.memoryMb * 1024 * 1024,
          pids: job.limits.pids,
          timeoutMs: job.limits.timeoutMs,
        },
      },
    },
    (stream, text) => out.chunk(stream, text),
    signal,
  ).catch((error: unknown) => {
    out.flush();
    throw new BuildFailure(error instanceof Error ? error.message : "clone failed");
  });
  out.flush();
  out.log("system", `Checked out ${commitSha.slice(0, 12)}`);
  const { message, author } = await readCommitDetails(checkout, job.allowLocalGit, signal);
  return {
    commitSha,
    ...(message !== null && { commitMessage: message }),
    ...(author !== null && { commitAuthor: author }),
  };
}

export async function runBuild(
  job: BuildJob,
  out: Emitter,
  artifacts: Artifacts,
  signal: AbortSignal,
): Promise<void> {
  const started = Date.now();
  const deadline = started + job.limits.timeoutMs;
  mkdirSync(join(job.workDir, "src"), { recursive: true });
  const checkout = realpathSync(join(job.workDir, "src"));
  if (job.sandbox === "none") {
    out.log(
      "system",
      "WARNING: BUILD_SANDBOX=none: this build runs without isolation and can read the host.",
    );
  } else {
    const problem = sandboxProblem(job.sandboxPath);
    if (problem) throw new BuildFailure(`builds cannot run on this server: ${describeProblem(problem)}`);
  }

  const commit = await fetchSource(job, out, artifacts, checkout, signal);
  const commitSha = commit.commitSha ?? null;
  out.status("IN_PROGRESS", commit);

  const projectDir = await checkoutDir(checkout, checkout, job.rootDirectory, "rootDirectory");
  const plan = await detectBuild(projectDir, job).catch((error: unknown) => {
    throw new BuildFailure(error instanceof AppError ? error.message : "could not read the project");
  });
  for (const note of plan.notes) out.log("system", note);
  if (job.startCommand) out.log("system", `Using the project's start command: ${job.startCommand}`);

  const cwd = relative(checkout, projectDir);
  for (const [step, command] of [
    ["install", plan.installCommand],
    ["build", plan.buildCommand],
  ] as const) {
    if (!command) continue;
    const remaining = deadline - Date.now();
    if (remaining <= 0)
      throw new BuildFailure(`build timed out after ${Math.round(job.limits.timeoutMs / 1000)} s`);
    // "Install: " and "Build: " open the dashboard's steps of the log (views/static/app.js).
    out.log("system", `${step === "install" ? "Install" : "Build"}: Running "${command}"`);
    const result = await runSandboxed({
      mode: job.sandbox,
      ...(job.sandboxPath !== undefined && { helperPath: job.sandboxPath }),
      workspace: checkout,
      cwd,
      command,
      env: {
        ...job.env,
        ...toolEnv(job.cacheDir !== null, plan.packageManager),
        CI: "1",
        ...(job.target !== undefined && { VERCEL_ENV: job.target }),
        ...job.system,
        ...(commitSha && { VERCEL_GIT_COMMIT_SHA: commitSha }),
      },
      ...(job.cacheDir !== null && { cacheDir: job.cacheDir }),
      network: "registry",
      limits: { memoryBytes: job.limits.memoryMb * 1024 * 1024, pids: job.limits.pids, timeoutMs: remaining },
      onOutput: (stream, text) => out.chunk(stream, text),
      signal,
    });
    out.flush();
    const problem = describe(result, step, job.limits);
    if (problem) throw new BuildFailure(problem);
    out.log("system", `${step} finished in ${(result.durationMs / 1000).toFixed(1)} s`);
  }

  // The build may have swapped any directory for a symlink since the project was read: each is resolved again.
  const deployed = await publish({
    job,
    artifacts,
    checkout,
    project: () => checkoutDir(checkout, checkout, job.rootDirectory, "rootDirectory"),
    outputDir: (project) =>
      checkoutDir(
        checkout,
        project,
        plan.outputDirectory,
        "outputDirectory",
        `the output directory ${JSON.stringify(plan.outputDirectory || ".")} does not exist after the build`,
      ),
    deadline,
    signal,
    onOutput: (stream, text) => out.chunk(stream, text),
    flush: () => out.flush(),
    log: (message) => out.log("system", message),
    server: { startCommand: job.startCommand ?? null, candidate: plan.startCandidate },
  });
  out.log("system", `${deployed} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  out.status("READY", commitSha ? { commitSha } : {});
}

/** Reads the job: from MINIVERCEL_JOB (base64 JSON; an ECS task) or the first line of stdin (the local runner). */
async function readJob(reader: ReadableStreamDefaultReader<Uint8Array> | null): Promise<BuildJob> {
  const fromEnv = process.env.MINIVERCEL_JOB;
  if (fromEnv) return parseJob(JSON.parse(Buffer.from(fromEnv, "base64").toString("utf8")));
  if (!reader) throw new Error("no build job given");
  let buffered = "";
  const decoder = new TextDecoder();
  while (!buffered.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += decoder.decode(value, { stream: true });
  }
  return parseJob(JSON.parse(buffered.split("\n")[0] ?? "null"));
}

/** Where events and files go: stdout + the local artifact directory, or the platform's build API. */
async function outputsOf(job: BuildJob) {
  const { output } = job;
  switch (output.kind) {
    case "local":
      return {
        write: (event: BuildEvent) => void process.stdout.write(`${JSON.stringify(event)}\n`),
        flush: async () => {},
        // No blob cache for a builder: it only writes.
        artifacts: await openArtifacts(
          output.artifacts.kind === "s3" ? { kind: "s3", s3: output.artifacts.s3 } : output.artifacts,
        ),
      };
    case "http": {
      const events = httpEvents(output.apiUrl, job.deploymentId, output.token);
      return {
        write: events.write,
        flush: events.flush,
        artifacts: httpArtifacts(output.apiUrl, job.deploymentId, output.token),
      };
    }
  }
}

/** The `builder` subcommand: runs one job; ends with exactly one terminal status. */
export async function builderMain(): Promise<number> {
  const reader = process.env.MINIVERCEL_JOB ? null : Bun.stdin.stream().getReader();
  const job = await readJob(reader);
  // The job's variables are not the builder's own environment: nothing else of it reaches a build.
  delete process.env.MINIVERCEL_JOB;
  const outputs = await outputsOf(job);
  const out = createEmitter(job.deploymentId, outputs.write, Object.values(job.env), job.limits.logBytes);

  const controller = new AbortController();
  const stop = (why: string) => {
    if (!controller.signal.aborted) controller.abort(new Error(why));
  };
  process.on("SIGTERM", () => stop("canceled"));
  process.on("SIGINT", () => stop("canceled"));
  // The local runner keeps stdin open; EOF means it died, so nothing would record this build: stop.
  if (reader) {
    void (async () => {
      while (!(await reader.read()).done) {}
      stop("runner went away");
    })();
  }
  const beat = setInterval(() => out.heartbeat(), HEARTBEAT_MS);

  try {
    await runBuild(job, out, outputs.artifacts, controller.signal);
  } catch (error) {
    out.flush();
    if (controller.signal.aborted) {
      out.log("system", "Build canceled.");
      out.status("CANCELED", { reason: "canceled" });
    } else {
      const message = error instanceof BuildFailure ? error.message : "internal builder error";
      if (!(error instanceof BuildFailure)) console.error("builder:", error);
      out.log("system", `Error: ${message}`);
      out.status("FAIL", { reason: message });
    }
  } finally {
    clearInterval(beat);
    rmSync(job.workDir, { recursive: true, force: true });
  }
  const delivered = await outputs.flush().then(
    () => true,
    (error: unknown) => {
      console.error("builder: could not deliver events:", error);
      return false;
    },
  );
  // Stop watching the lifeline, so nothing keeps the process alive once the events are out.
  await reader?.cancel().catch(() => undefined);
  // 0 only once the final status is out: an ECS runner reads any other exit as a build that ended unreported.
  return delivered ? 0 : 1;
}

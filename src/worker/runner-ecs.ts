// ECS runner: each build is one RunTask of the builder image; the task reports to the build API, we watch it stop.

import {
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RunTaskCommand,
  type RunTaskCommandInput,
  StopTaskCommand,
  type Task,
} from "@aws-sdk/client-ecs";
import type { BuildJob } from "../../builder/job.ts";
import { MAX_LOG_SEQ } from "../../schema/events.ts";
import type { EcsConfig } from "../config/config.ts";
import type { BuildTokens } from "../identity/build-tokens.ts";
import type { Logger } from "../observe/log.ts";
import type { Runner, RunningBuild } from "./runner.ts";

/** ECS refuses overrides whose JSON is longer than this (documented RunTask limit). */
const MAX_OVERRIDES_CHARS = 8192;
/** After StopTask, how long to wait for STOPPED (Fargate's longest stopTimeout) before reporting anyway. */
const STOP_GRACE_MS = 120_000;
/** DescribeTasks is eventually consistent: a task is only taken as gone after this many polls without it. */
const MISSING_POLLS = 3;
/** Longest status reason the event schema accepts. */
const MAX_REASON = 1000;
/**
 * The line number of the runner's own closing line when a task ends without its builder's result: past any line a
 * builder numbers (its byte cap ends it long before), so it never collides with one and reads last.
 */
export const RUNNER_LOG_SEQ = MAX_LOG_SEQ;
/** A task's statuses before its containers run. */
const NOT_STARTED = new Set(["PROVISIONING", "PENDING", "ACTIVATING"]);
/** ECS's own words when the builder's (essential) container exited by itself. */
const ESSENTIAL_EXIT = /^Essential container in task exited/;

export interface EcsRunnerOptions {
  ecs: EcsConfig;
  /** This platform's URL as the task reaches it; the builder posts to `${apiUrl}/api/builds/:id`. */
  apiUrl: string;
  buildTokens: BuildTokens;
  /** ECS endpoint override (moto, LocalStack); default: ecs.endpoint, else AWS's regional endpoint. */
  endpoint?: string;
  /** How often a running task is looked at (DescribeTasks); default 5 s. */
  pollMs?: number;
  /**
   * How long a task may wait to start (PROVISIONING, PENDING, ACTIVATING: no capacity, an image that will not
   * pull) before it is stopped and its deployment failed with that reason; default 10 min, at most the build's
   * time limit.
   */
  startTimeoutMs?: number;
  /** Gets the ECS API's failures while a task is watched or stopped (the build itself reports to its log). */
  log: Logger;
}

/**
 * The job as the task receives it. Built field by field, so nothing else of the worker's job travels: in
 * particular not its artifact store (S3 keys). Its one credential is a token good for this deployment only.
 */
function remoteJob(job: BuildJob, apiUrl: string, tokens: BuildTokens): BuildJob {
  const token = tokens.issue(job.deploymentId);
  // A push remote is a path on the worker's disk: the task fetches it from the platform, with a token for that
  // one repository that lapses with the build's time limit.
  const fromPlatform = job.pushRemote !== undefined && job.source?.kind !== "manifest";
  return {
    deploymentId: job.deploymentId,
    gitUrl: fromPlatform ? `${apiUrl}${job.pushRemote}` : job.gitUrl,
    ...(fromPlatform && {
      gitToken: tokens.issueFetch(job.deploymentId, Date.now() + job.limits.timeoutMs),
    }),
    branch: job.branch,
    commitSha: job.commitSha,
    ...(job.source && { source: job.source }),
    rootDirectory: job.rootDirectory,
    installCommand: job.installCommand,
    buildCommand: job.buildCommand,
    outputDirectory: job.outputDirectory,
    startCommand: job.startCommand ?? null,
    env: job.env,
    // Inside the task a local path could only name the builder image's own files.
    allowLocalGit: false,
    allowPrivateGit: job.allowPrivateGit ?? false,
    // Fargate offers no user namespaces, so bubblewrap cannot run there; the task is the isolation boundary
    // instead (its own kernel-isolated micro-VM, no platform credentials, the memory limit below). The task
    // definition must not carry a task role, or the build could fetch that role's AWS credentials.
    sandbox: "none",
    limits: job.limits,
    // Paths inside the task (builder/Dockerfile): scratch on the task's ephemeral disk, no shared cache.
    workDir: `/build/${job.deploymentId}`,
    cacheDir: null,
    output: { kind: "http", apiUrl, token },
  };
}

function describeError(error: unknown): string {
  if (error instanceof Error)
    return error.name && error.name !== "Error" ? `${error.name}: ${error.message}` : error.message;
  return String(error);
}

/** Whether the builder's container ended by itself with exit code 0: it delivered its final status first. */
function exitedCleanly(task: Task | undefined, containerName: string): boolean {
  const container = task?.containers?.find((c) => c.name === containerName);
  const essential =
    task?.stopCode === "EssentialContainerExited" || ESSENTIAL_EXIT.test(task?.stoppedReason ?? "");
  return essential && container?.exitCode === 0;
}

/** Why a task stopped, in ECS's words plus the builder container's own exit. */
function stopDetails(task: Task | undefined, containerName: string): string {
  if (!task) return "ECS no longer knows the build task";
  const container = task.containers?.find((c) => c.name === containerName);
  const exit = [
    container?.reason,
    container?.exitCode !== undefined ? `exit code ${container.exitCode}` : undefined,
  ].filter((s): s is string => typeof s === "string" && s !== "");
  const why = task.stoppedReason || task.stopCode || "no reason given";
  return exit.length > 0 ? `${why} (builder ${exit.join(", ")})` : why;
}

export function ecsRunner(opts: EcsRunnerOptions): Runner {
  const { ecs, apiUrl, buildTokens, log } = opts;
  const pollMs = opts.pollMs ?? 5000;
  const startTimeoutMs = opts.startTimeoutMs ?? 600_000;
  const endpoint = opts.endpoint ?? ecs.endpoint;
  // Credentials come from the SDK's default chain (env, profile, instance or task role).
  const client = new ECSClient({ region: ecs.region, ...(endpoint && { endpoint }) });

  /** This deployment's builder tasks that ECS still means to run (startedBy is the deployment id), oldest first. */
  const liveTasks = async (deploymentId: string): Promise<string[]> => {
    const { taskArns = [] } = await client.send(
      new ListTasksCommand({ cluster: ecs.cluster, startedBy: deploymentId, desiredStatus: "RUNNING" }),
    );
    return [...taskArns].sort();
  };

  return {
    // The task is the isolation boundary: nothing of this host's sandbox is needed (see remoteJob).
    problem: () => null,
    ...(ecs.count !== null && { concurrency: ecs.count }),
    start(job, publish): RunningBuild {
      let stopReason: "canceled" | "timeout" | null = null;
      let interrupt: (() => void) | null = null;
      const pause = (ms: number) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ms);
          interrupt = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      /**
       * The final status when the builder could not send it. With `say`, the reason also closes the build's log,
       * on a line number of its own (RUNNER_LOG_SEQ) that none of the builder's lines can take.
       */
      const end = (status: "FAIL" | "CANCELED", reason: string, say = false) => {
        const at = new Date().toISOString();
        const text = reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON - 3)}...` : reason;
        const { deploymentId } = job;
        return publish([
          ...(say
            ? [
                {
                  type: "log",
                  deploymentId,
                  seq: RUNNER_LOG_SEQ,
                  stream: "system",
                  text: `Error: ${text}`,
                  at,
                },
              ]
            : []),
          { type: "status", deploymentId, status, reason: text, at },
        ]);
      };
      const timeoutText = () => `build timed out after ${Math.round(job.limits.timeoutMs / 1000)} s`;
      /** The final status when we stopped the build ourselves. */
      const requested = (reason: "canceled" | "timeout") =>
        reason === "canceled" ? end("CANCELED", "canceled") : end("FAIL", timeoutText());

      /** RunTask; the task ARNs, or why no task runs. */
      const launch = async (): Promise<{ arns: string[] } | { problem: string }> => {
        // A builder of this deployment already running (a worker that lost track of it, or one racing us): adopt it.
        const running = await liveTasks(job.deploymentId).catch(() => []);
        if (running.length > 0) {
          log.info("runner: a builder task of this deployment already runs; watching it", {
            deploymentId: job.deploymentId,
            task: running[0],
          });
          return { arns: running.slice(0, 1) };
        }
        const job64 = Buffer.from(JSON.stringify(remoteJob(job, apiUrl, buildTokens))).toString("base64");
        const overrides = {
          containerOverrides: [
            {
              name: ecs.containerName,
              environment: [{ name: "MINIVERCEL_JOB", value: job64 }],
              // The builder container's hard limit; the task definition's size must leave room for it.
              memory: job.limits.memoryMb,
            },
          ],
        };
        const size = JSON.stringify(overrides).length;
        if (size > MAX_OVERRIDES_CHARS)
          return {
            problem: `the build job is too large for ECS (${size} characters of task overrides, at most ${MAX_OVERRIDES_CHARS}): reduce the project's environment variables`,
          };
        const input: RunTaskCommandInput = {
          cluster: ecs.cluster,
          taskDefinition: ecs.taskDefinition,
          launchType: ecs.launchType,
          // One builder per deployment, whatever ECS_COUNT says (that is builds per worker: see concurrency).
          count: 1,
          // Found again by ListTasks (liveTasks): by a worker that adopts it, or one that lost a race for it.
          startedBy: job.deploymentId,
          // Idempotent: an SDK retry after a lost response cannot start a second builder for this deployment.
          clientToken: job.deploymentId,
          tags: [{ key: "deployment", value: job.deploymentId }],
          overrides,
          ...(ecs.subnets.length > 0 && {
            networkConfiguration: {
              awsvpcConfiguration: {
                subnets: ecs.subnets,
                securityGroups: ecs.securityGroups,
                assignPublicIp: ecs.assignPublicIp,
              },
            },
          }),
        };
        try {
          const result = await client.send(new RunTaskCommand(input));
          const arns = (result.tasks ?? []).flatMap((t) => (t.taskArn ? [t.taskArn] : []));
          if (arns.length > 0) return { arns: await settle(arns) };
          const failures = (result.failures ?? []).map(
            (f) => `${f.reason ?? "unknown"}${f.detail ? ` (${f.detail})` : ""}`,
          );
          return {
            problem: `could not start the build task on ECS: ${failures.join("; ") || "no task was started"}`,
          };
        } catch (error) {
          return { problem: `could not start the build task on ECS: ${describeError(error)}` };
        }
      };

      /**
       * Two starts of one deployment that crossed (ListTasks is eventually consistent): every racer that sees
       * several tasks keeps the same one (the first ARN) and stops the others, and watches the one kept.
       */
      const settle = async (mine: string[]): Promise<string[]> => {
        const all = await liveTasks(job.deploymentId).catch(() => mine);
        const keep = all[0];
        if (all.length <= 1 || !keep) return mine;
        const extra = all.slice(1);
        log.warn("runner: stopping duplicate builder tasks of a deployment", {
          deploymentId: job.deploymentId,
          kept: keep,
          stopped: extra,
        });
        await Promise.allSettled(
          extra.map((task) =>
            client.send(
              new StopTaskCommand({
                cluster: ecs.cluster,
                task,
                reason: "duplicate builder of this deployment",
              }),
            ),
          ),
        );
        return [keep];
      };

      /** Watches the tasks until all are STOPPED, stopping them when asked; how they ended when that was not us. */
      const track = async (arns: string[]): Promise<{ why: string; clean: boolean }> => {
        let stopSent = false;
        let stopDeadline = 0;
        let missingPolls = 0;
        let errors = 0;
        const startBy = Date.now() + Math.min(startTimeoutMs, job.limits.timeoutMs);
        /** Why we stopped a task that never started; it then ends with that reason. */
        let unstarted: string | null = null;
        for (;;) {
          // stop() cuts the pause short, so StopTask goes out at once.
          await pause(stopReason ? Math.min(pollMs, 1000) : pollMs);
          if (stopReason && !stopSent) {
            stopDeadline ||= Date.now() + STOP_GRACE_MS;
            const reason = stopReason === "canceled" ? "canceled by user" : "build timed out";
            const results = await Promise.allSettled(
              arns.map((task) => client.send(new StopTaskCommand({ cluster: ecs.cluster, task, reason }))),
            );
            stopSent = results.every((r) => r.status === "fulfilled");
            for (const [i, r] of results.entries())
              if (r.status === "rejected")
                log.warn("runner: StopTask failed", {
                  deploymentId: job.deploymentId,
                  task: arns[i],
                  error: describeError(r.reason),
                });
          }
          try {
            const { tasks = [] } = await client.send(
              new DescribeTasksCommand({ cluster: ecs.cluster, tasks: arns }),
            );
            errors = 0;
            const running = tasks.filter((t) => t.lastStatus !== "STOPPED");
            const missing = arns.length - tasks.length;
            missingPolls = missing > 0 ? missingPolls + 1 : 0;
            if (running.length === 0 && (missing === 0 || missingPolls >= MISSING_POLLS))
              return unstarted
                ? { why: unstarted, clean: false }
                : {
                    why: stopDetails(tasks[0], ecs.containerName),
                    clean: exitedCleanly(tasks[0], ecs.containerName),
                  };
            const waiting = running.find((t) => NOT_STARTED.has(t.lastStatus ?? ""));
            if (!stopReason && waiting && Date.now() >= startBy) {
              const limit = Math.min(startTimeoutMs, job.limits.timeoutMs);
              const seconds = (limit / 1000).toFixed(limit < 10_000 ? 1 : 0);
              unstarted ??= `it did not start within ${seconds} s (last status ${waiting.lastStatus})`;
              // Sent again on every look until ECS has it stopped.
              await Promise.allSettled(
                running.map((t) =>
                  client.send(
                    new StopTaskCommand({
                      cluster: ecs.cluster,
                      task: t.taskArn,
                      reason: `did not start within ${seconds} s`,
                    }),
                  ),
                ),
              );
            }
          } catch (error) {
            // Keep watching through API trouble; the launcher's timeout still ends a build that never reports.
            if (errors++ % 12 === 0)
              log.warn("runner: DescribeTasks failed", {
                deploymentId: job.deploymentId,
                failures: errors,
                error: describeError(error),
              });
          }
          if (stopReason && Date.now() >= stopDeadline)
            return {
              why: `the build task was not confirmed stopped within ${STOP_GRACE_MS / 1000} s`,
              clean: false,
            };
        }
      };

      const done = (async () => {
        const launched = await launch();
        if ("problem" in launched) {
          if (stopReason) return requested(stopReason);
          return end("FAIL", launched.problem, true);
        }
        const { why, clean } = await track(launched.arns);
        if (stopReason) return requested(stopReason);
        // Ignored when the builder already reported READY or FAIL: it delivers its events before its task stops
        // (and exits 0 only once they are out). Anything else (killed, out of memory, never started, a non-zero
        // exit) was cut short: the reason also goes into the build's log.
        return end("FAIL", `the build task stopped without reporting a result: ${why}`, !clean);
      })();

      return {
        stop(reason) {
          if (stopReason) return;
          stopReason = reason;
          interrupt?.();
        },
        done,
      };
    },
  };
}

// ECS runner: each build is one RunTask of the builder image; the task reports to the build API, we watch it stop.

import {
  DescribeTasksCommand,
  ECSClient,
  RunTaskCommand,
  type RunTaskCommandInput,
  StopTaskCommand,
  type Task,
} from "@aws-sdk/client-ecs";
import type { BuildJob } from "../../builder/job.ts";
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

export interface EcsRunnerOptions {
  ecs: EcsConfig;
  /** This platform's URL as the task reaches it; the builder posts to `${apiUrl}/api/builds/:id`. */
  apiUrl: string;
  buildTokens: BuildTokens;
  /** ECS endpoint override (moto, LocalStack); default: ecs.endpoint, else AWS's regional endpoint. */
  endpoint?: string;
  /** How often a running task is looked at (DescribeTasks); default 5 s. */
  pollMs?: number;
  /** Gets the ECS API's failures while a task is watched or stopped (the build itself reports to its log). */
  log: Logger;
}

/**
 * The job as the task receives it. Built field by field, so nothing else of the worker's job travels: in
 * particular not its artifact store (S3 keys). Its one credential is a token good for this deployment only.
 */
function remoteJob(job: BuildJob, apiUrl: string, token: string): BuildJob {
  return {
    deploymentId: job.deploymentId,
    gitUrl: job.gitUrl,
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
  const endpoint = opts.endpoint ?? ecs.endpoint;
  // Credentials come from the SDK's default chain (env, profile, instance or task role).
  const client = new ECSClient({ region: ecs.region, ...(endpoint && { endpoint }) });

  return {
    // The task is the isolation boundary: nothing of this host's sandbox is needed (see remoteJob).
    problem: () => null,
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
      // Only status events: the builder numbers its log lines, and a line of ours could collide with them.
      const end = (status: "FAIL" | "CANCELED", reason: string) =>
        publish([
          {
            type: "status",
            deploymentId: job.deploymentId,
            status,
            reason: reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON - 3)}...` : reason,
            at: new Date().toISOString(),
          },
        ]);
      const timeoutText = () => `build timed out after ${Math.round(job.limits.timeoutMs / 1000)} s`;
      /** The final status when we stopped the build ourselves. */
      const requested = (reason: "canceled" | "timeout") =>
        reason === "canceled" ? end("CANCELED", "canceled") : end("FAIL", timeoutText());

      /** RunTask; the task ARNs, or why no task runs. */
      const launch = async (): Promise<{ arns: string[] } | { problem: string }> => {
        const job64 = Buffer.from(
          JSON.stringify(remoteJob(job, apiUrl, buildTokens.issue(job.deploymentId))),
        ).toString("base64");
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
          count: ecs.count,
          startedBy: "minivercel",
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
          if (arns.length > 0) return { arns };
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

      /** Watches the tasks until all are STOPPED, stopping them when asked; the reason when that was not us. */
      const track = async (arns: string[]): Promise<string> => {
        let stopSent = false;
        let stopDeadline = 0;
        let missingPolls = 0;
        let errors = 0;
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
              return stopDetails(tasks[0], ecs.containerName);
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
            return `the build task was not confirmed stopped within ${STOP_GRACE_MS / 1000} s`;
        }
      };

      const done = (async () => {
        const launched = await launch();
        if ("problem" in launched) {
          if (stopReason) return requested(stopReason);
          return end("FAIL", launched.problem);
        }
        const why = await track(launched.arns);
        if (stopReason) return requested(stopReason);
        // Ignored when the builder already reported READY or FAIL: it delivers its events before its task stops.
        return end("FAIL", `the build task stopped without reporting a result: ${why}`);
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

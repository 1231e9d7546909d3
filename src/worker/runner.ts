// Runner port: where a build runs. Local subprocess (with its sandbox) by default; ECS RunTask when configured.

import type { BuildJob } from "../../builder/job.ts";
import type { SandboxProblem } from "../sandbox/sandbox.ts";

export interface RunningBuild {
  /** Stops the build (cancel or timeout); the builder still reports its final status. */
  stop(reason: "canceled" | "timeout"): void;
  /** Resolves when the build has ended and all its events were handed to `publish`. */
  done: Promise<void>;
}

export interface Runner {
  /**
   * Starts a build. `publish` receives its events in order, several at a time when they come together
   * (untrusted: validated by the worker that applies them);
   * if the build ends without a final status, the runner publishes FAIL with the reason itself.
   */
  start(job: BuildJob, publish: (events: unknown[]) => Promise<void>): RunningBuild;
  /**
   * Why builds with these sandbox settings cannot run from here, with the fix; null when they can. Asked before
   * each build (a deployment that cannot build fails at once with the reason) and by /api/health.
   */
  problem(settings: Pick<BuildJob, "sandbox" | "sandboxPath">): SandboxProblem | null;
  /**
   * How many builds a worker runs through this runner at once, when the runner decides it (ECS_COUNT: builds
   * there use none of this machine's CPU); absent: BUILD_CONCURRENCY.
   */
  concurrency?: number;
}

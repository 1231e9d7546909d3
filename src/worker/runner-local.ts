// Local runner: the builder as a child process of this worker; its stdout is the event stream.

import type { BuildEvent } from "../../schema/events.ts";
import { createLogger, type Logger } from "../observe/log.ts";
import { sandboxProblem } from "../sandbox/sandbox.ts";
import type { Runner, RunningBuild } from "./runner.ts";
import { selfCommand } from "./self.ts";

const KILL_GRACE_MS = 10_000;

/** `log` gets what the builder sent that is dropped; default: text lines on stderr. */
export function localRunner(log: Logger = createLogger({ format: "text", level: "info" })): Runner {
  return {
    // The builder runs on this host: the sandbox it would use is this host's.
    problem: (settings) => (settings.sandbox === "bwrap" ? sandboxProblem(settings.sandboxPath) : null),
    start(job, publish): RunningBuild {
      const child = Bun.spawn([...selfCommand(), "builder"], {
        stdin: "pipe",
        stdout: "pipe",
        stderr: "pipe",
        // The builder starts from an empty environment: no platform secrets, only what the job carries.
        env: { PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin", HOME: job.workDir, LANG: "C.UTF-8" },
        detached: true,
      });
      // The job travels on stdin (not argv, which any local user can read); stdin then stays open as a lifeline.
      child.stdin.write(`${JSON.stringify(job)}\n`);
      child.stdin.flush();

      let lastSeq = 0;
      let finished = false;
      let stopReason: "canceled" | "timeout" | null = null;
      const note = (text: string) => {
        lastSeq++;
        return publish([
          {
            type: "log",
            deploymentId: job.deploymentId,
            seq: lastSeq,
            stream: "system",
            text,
            at: new Date().toISOString(),
          },
        ]);
      };
      const end = (status: "FAIL" | "CANCELED", reason: string) =>
        publish([
          { type: "status", deploymentId: job.deploymentId, status, reason, at: new Date().toISOString() },
        ]);

      const relay = async () => {
        const decoder = new TextDecoder();
        let buffer = "";
        for await (const chunk of child.stdout) {
          buffer += decoder.decode(chunk, { stream: true });
          const lines = buffer.split("\n");
          buffer = lines.pop() ?? "";
          // What one read brought goes on together: a chatty build's lines travel by the thousand.
          const batch: unknown[] = [];
          for (const line of lines) {
            if (line.trim() === "") continue;
            let event: unknown;
            try {
              event = JSON.parse(line);
            } catch {
              log.warn("runner: dropped a non-JSON line from the builder", {
                deploymentId: job.deploymentId,
                // Its length only: the builder holds the job's secrets, and a stray line could carry them.
                chars: line.length,
              });
              continue;
            }
            const e = event as Partial<BuildEvent>;
            // A builder speaks only for its own deployment; anything else is dropped here already.
            if (e.deploymentId !== job.deploymentId) {
              log.warn("runner: dropped an event for another deployment", {
                deploymentId: job.deploymentId,
                eventDeploymentId: typeof e.deploymentId === "string" ? e.deploymentId.slice(0, 100) : null,
              });
              continue;
            }
            if (e.type === "log" && typeof e.seq === "number") lastSeq = Math.max(lastSeq, e.seq);
            if (
              e.type === "status" &&
              (e.status === "READY" || e.status === "FAIL" || e.status === "CANCELED")
            )
              finished = true;
            batch.push(event);
          }
          if (batch.length > 0) await publish(batch);
        }
      };
      const diagnostics = async () => {
        for await (const chunk of child.stderr) process.stderr.write(chunk);
      };

      let killTimer: ReturnType<typeof setTimeout> | null = null;
      const done = (async () => {
        await Promise.all([relay(), diagnostics()]);
        const code = await child.exited;
        if (killTimer) clearTimeout(killTimer);
        child.stdin.end();
        if (finished) return;
        if (stopReason === "timeout") {
          await note(`Error: build timed out after ${Math.round(job.limits.timeoutMs / 1000)} s`);
          await end("FAIL", `build timed out after ${Math.round(job.limits.timeoutMs / 1000)} s`);
        } else if (stopReason === "canceled") {
          await note("Build canceled.");
          await end("CANCELED", "canceled");
        } else {
          const why = child.signalCode
            ? `builder was killed (${child.signalCode})`
            : `builder exited with code ${code}`;
          await note(`Error: ${why}`);
          await end("FAIL", why);
        }
      })();

      return {
        stop(reason) {
          if (stopReason) return;
          stopReason = reason;
          // SIGTERM lets the builder stop its sandbox and report; SIGKILL to the group if it does not.
          child.kill("SIGTERM");
          killTimer = setTimeout(() => {
            try {
              process.kill(-child.pid, "SIGKILL");
            } catch {
              // already gone
            }
          }, KILL_GRACE_MS);
        },
        done,
      };
    },
  };
}

// Build sandbox, mode "none": the command as a plain child process in its own process group.

import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { defaultEnv, exitStatus, killPid, sleep, statFields } from "./proc.ts";
import type { SandboxResult, SandboxRun } from "./sandbox.ts";
import { supervise } from "./supervise.ts";

// No isolation at all: the operator's choice. The command still gets only its own environment, a private
// HOME and TMPDIR, its own process group (so a timeout or cancel kills the tree), and the time limit.
export async function runPlain(run: SandboxRun, cwd: string): Promise<SandboxResult> {
  const started = performance.now();
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "minivercel-run-"));
  try {
    const home = path.join(scratch, "home");
    const tmp = path.join(scratch, "tmp");
    fs.mkdirSync(home);
    fs.mkdirSync(tmp);
    const child = spawn("/bin/sh", ["-c", run.command, "sh", ...(run.args ?? [])], {
      cwd: path.join(run.workspace, cwd),
      env: { ...defaultEnv(home, tmp), ...run.env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const killGroup = () => {
      if (child.pid !== undefined) killPid(-child.pid);
    };
    // Background processes the command leaves behind in its group go when it exits.
    const watch = supervise(child, run, killGroup, killGroup);
    const { code, signal } = await watch.exited;
    if (child.pid !== undefined) await waitGroupGone(child.pid);
    watch.rethrow();
    return {
      exitCode: watch.stopped() ? null : exitStatus(code, signal),
      timedOut: watch.timedOut(),
      canceled: watch.canceled(),
      memoryExceeded: false,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

// Zombies do not count: reaping orphans is up to init, which may take its time.
async function waitGroupGone(group: number): Promise<void> {
  const members = () =>
    fs.readdirSync("/proc").filter((entry) => {
      const fields = /^\d+$/.test(entry) ? statFields(Number(entry)) : null;
      return fields !== null && fields[0] !== "Z" && fields[2] === String(group);
    });
  for (let waited = 0; members().length > 0; waited += 20) {
    if (waited > 10_000) throw new Error(`build: process group ${group} did not exit`);
    killPid(-group);
    await sleep(20);
  }
}

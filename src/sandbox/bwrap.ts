// Build sandbox, mode "bwrap": stages and starts the process chain, waits for every process of it, cleans up.
//
// Process chain for mode "bwrap" (every arrow is an exec, so it is all one pid, a child of ours):
//   unshare --mount [--net]   root: a private mount namespace [and the network namespace slirp4netns serves]
//   -> sh PREPARE             root: joins the run's cgroups, fences the network, stages the workspace
//   -> prlimit -> setpriv     drops to the run's own host uid, no_new_privs
//   -> bwrap                  user/pid/ipc/uts/cgroup(/net) namespaces, read-only /usr, private /tmp
//   -> /bin/sh -c <command>
// plus, for network "registry", a slirp4netns process of ours attached to that network namespace.

import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { Duplex } from "node:stream";
import { bwrapArgs, ETC_FILES, INNER_HOME, PREPARE } from "./bwrap-args.ts";
import { openRunCgroup, type RunCgroup, rlimitFallback } from "./cgroup.ts";
import { type Network, startNetwork, unreachablePrefixes } from "./net.ts";
import {
  deadline,
  defaultEnv,
  duplexAt,
  exitStatus,
  helpers,
  killPid,
  processStartTime,
  STATE_ROOT,
  waitGone,
  writeAll,
} from "./proc.ts";
import type { SandboxResult, SandboxRun } from "./sandbox.ts";
import { supervise } from "./supervise.ts";
import { chownTree, leaseUid } from "./uid.ts";

export async function runBwrap(run: SandboxRun, cwd: string): Promise<SandboxResult> {
  const started = performance.now();
  const workspace = fs.realpathSync(run.workspace);
  const cache = run.cacheDir === undefined ? null : fs.realpathSync(run.cacheDir);
  const owned = [workspace, ...(cache === null ? [] : [cache])].map((dir) => ({
    dir,
    stat: fs.statSync(dir),
  }));
  const helper = helpers(run.helperPath);
  const { tool } = helper;
  const lease = leaseUid();
  let cgroup: RunCgroup | null = null;
  let network: Network | null = null;
  try {
    cgroup = openRunCgroup(`run-${process.pid}-${lease.uid}`, run.limits);
    const opened = cgroup;
    if (opened) run.onMemoryReader?.(() => opened.memoryBytes());
    for (const { dir } of owned) await chownTree(helper, dir, lease.uid, lease.uid);

    const useNet = run.network === "registry";
    // Our descriptors 3, 4, ... in the child, by purpose.
    const extra = ["info", "args", ...Object.keys(ETC_FILES), ...(useNet ? ["block"] : [])];
    const fdOf = (name: string) => String(3 + extra.indexOf(name));
    const stage = path.join(STATE_ROOT, "stage");
    const bwrap = bwrapArgs(run, cwd, stage, cache !== null, fdOf);
    const limits = ["--core=0", ...(cgroup === null ? rlimitFallback(run.limits) : [])];
    const argv = [
      ...["--mount", ...(useNet ? ["--net"] : []), "--propagation", "private"],
      ...["--", "/bin/sh", "-c", PREPARE, "minivercel-sandbox"],
      ...[stage, workspace, cache ?? "", ...(cgroup?.procsFiles ?? []), "--"],
      ...[...(useNet ? unreachablePrefixes() : []), "--"],
      ...[...(run.readOnly ?? []).map((bind) => bind.source), "--"],
      ...[tool("prlimit"), ...limits, "--", tool("setpriv"), `--reuid=${lease.uid}`, `--regid=${lease.uid}`],
      ...["--clear-groups", "--no-new-privs", "--", tool("bwrap"), ...bwrap],
    ];
    const child = spawn(tool("unshare"), argv, {
      stdio: ["ignore", "pipe", "pipe", ...extra.map(() => "pipe" as const)],
      env: helper.env,
      cwd: "/",
    });
    const stream = (name: string) => duplexAt(child, 3 + extra.indexOf(name));
    const env = { ...defaultEnv(INNER_HOME, "/tmp"), ...run.env };
    const setenv = Object.entries(env).flatMap(([key, value]) => ["--setenv", key, value]);
    writeAll(stream("args"), setenv.map((arg) => `${arg}\0`).join(""));
    for (const [file, text] of Object.entries(ETC_FILES)) writeAll(stream(file), text);

    // pid 1 of the sandbox's pid namespace (host pid): killing it ends everything inside at once.
    const init: { pid: number; startTime: string }[] = [];
    const alive = () => child.exitCode === null && child.signalCode === null;
    const runCgroup = cgroup;
    const watch = supervise(child, run, () => {
      // Only while bwrap lives is its pid 1 certainly still that process (a child it has not reaped).
      for (const { pid } of init) if (alive()) killPid(pid);
      killPid(child.pid);
      runCgroup?.killAll();
    });
    const infoPid = readChildPid(stream("info")).then((pid) => {
      const startTime = pid === null ? null : processStartTime(pid);
      if (pid !== null && startTime !== null) init.push({ pid, startTime });
      return pid;
    });
    let setupError: unknown = null;
    if (useNet) {
      // Once bwrap reports in, the namespace exists; our own child's pid cannot be recycled while it lives.
      const pid = await Promise.race([infoPid, watch.exited.then(() => null)]);
      if (pid !== null && child.pid !== undefined && alive() && !watch.stopped()) {
        try {
          network = await startNetwork(helper, child.pid, watch.exited);
          writeAll(stream("block"), "1");
        } catch (error) {
          // A timeout or cancel during setup is not a setup failure.
          if (!watch.stopped()) setupError = error;
          watch.kill();
        }
      }
    }
    const { code, signal } = await watch.exited;
    await Promise.race([infoPid, deadline(1000)]);
    for (const { pid, startTime } of init) await waitGone(pid, startTime);
    await cgroup?.drain();
    watch.rethrow();
    if (setupError !== null) throw setupError;
    if (init.length === 0 && !watch.stopped()) {
      throw new Error(`build sandbox failed to start (exit ${code ?? signal}): ${watch.stderrTail().trim()}`);
    }
    return {
      exitCode: watch.stopped() ? null : exitStatus(code, signal),
      timedOut: watch.timedOut(),
      canceled: watch.canceled(),
      memoryExceeded: cgroup?.oomKilled(code) ?? false,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    await network?.stop();
    cgroup?.remove();
    // Hand the tree back: nothing of the build is left running, and chown clears any setuid bits it set.
    for (const { dir, stat } of owned)
      await chownTree(helper, dir, stat.uid, stat.gid).catch(() => undefined);
    lease.release();
  }
}

/** Reads bwrap's --info-fd JSON for the host pid of the sandbox's pid 1; null if bwrap never wrote it. */
function readChildPid(info: Duplex): Promise<number | null> {
  return new Promise((resolve) => {
    let text = "";
    info.setEncoding("utf8");
    info.on("data", (chunk: string) => {
      text += chunk;
      const match = /"child-pid":\s*(\d+)/.exec(text);
      if (match?.[1] !== undefined) resolve(Number(match[1]));
    });
    info.on("error", () => resolve(null));
    info.on("close", () => resolve(null));
  });
}

// Build sandbox, mode "bwrap": what keeps it from working on this host, step by step, each with its fix.
// sandboxProblem (sandbox.ts) takes the first problem; `minivercel doctor` shows every step on its own line.

import fs from "node:fs";
import path from "node:path";
import { rootLinks, SANDBOX_BASE } from "./bwrap-args.ts";
import { installCommand, missingPrograms } from "./packages.ts";
import { HELPER_PATH, helpers, STATE_ROOT } from "./proc.ts";
import type { SandboxProblem } from "./sandbox.ts";
import { UID_BASE } from "./uid.ts";

const ELSEWHERE =
  "or set BUILD_SANDBOX=none to build without isolation (only for code you trust), or build on ECS";

export function platformProblem(): SandboxProblem | null {
  if (process.platform === "linux") return null;
  return { reason: "the build sandbox needs Linux", fix: `run minivercel on Linux, ${ELSEWHERE}` };
}

/** Programs missing from the search path (BUILD_SANDBOX_PATH), with the command that installs them. */
export function programsProblem(searchPath: string): SandboxProblem | null {
  const missing = missingPrograms(searchPath);
  if (missing.length === 0) return null;
  const where = searchPath === HELPER_PATH ? "" : ` (BUILD_SANDBOX_PATH=${searchPath})`;
  const elsewhere = searchPath === HELPER_PATH ? "" : ", or point BUILD_SANDBOX_PATH at where they are";
  return {
    reason: `missing programs: ${missing.join(", ")}${where}`,
    fix: `${installCommand(missing)}${elsewhere}`,
  };
}

export function rootProblem(): SandboxProblem | null {
  if (process.getuid?.() === 0) return null;
  return {
    reason: "the build sandbox needs the platform to run as root (each build runs as its own uid)",
    fix: `run minivercel as root (install.sh's service does), ${ELSEWHERE}`,
  };
}

export function tunProblem(): SandboxProblem | null {
  if (fs.existsSync("/dev/net/tun")) return null;
  return {
    reason: "no /dev/net/tun for slirp4netns (a build's network)",
    fix: "modprobe tun (in a container: give it the device, e.g. docker run --device /dev/net/tun)",
  };
}

export function stateProblem(): SandboxProblem | null {
  try {
    fs.mkdirSync(path.join(STATE_ROOT, "stage"), { recursive: true, mode: 0o755 });
    return null;
  } catch (error) {
    return {
      reason: `cannot create ${STATE_ROOT}: ${String(error)}`,
      fix: `make ${STATE_ROOT} writable for root`,
    };
  }
}

/** The sysctls that forbid unprivileged user namespaces on this kernel, as `name=allowed value`. */
function blockingSysctls(): string[] {
  const read = (name: string) => {
    try {
      return fs.readFileSync(`/proc/sys/${name.replaceAll(".", "/")}`, "utf8").trim();
    } catch {
      return null;
    }
  };
  const blocking: string[] = [];
  if (read("user.max_user_namespaces") === "0") blocking.push("user.max_user_namespaces=15000");
  if (read("kernel.unprivileged_userns_clone") === "0") blocking.push("kernel.unprivileged_userns_clone=1");
  if (read("kernel.apparmor_restrict_unprivileged_userns") === "1")
    blocking.push("kernel.apparmor_restrict_unprivileged_userns=0");
  return blocking;
}

/** A real, tiny sandbox: the only reliable test for user namespaces (sysctls, AppArmor, a container's seccomp). */
export function namespacesProblem(searchPath: string): SandboxProblem | null {
  const { tool, env } = helpers(searchPath);
  const probe = Bun.spawnSync(
    [
      ...[
        tool("setpriv"),
        `--reuid=${UID_BASE - 1}`,
        `--regid=${UID_BASE - 1}`,
        "--clear-groups",
        "--no-new-privs",
      ],
      ...["--", tool("bwrap"), ...SANDBOX_BASE, "--size", "1048576", "--perms", "1777", "--tmpfs", "/tmp"],
      ...[...rootLinks(), "--remount-ro", "/", "--", "/bin/true"],
    ],
    { env, cwd: "/", stdout: "ignore", stderr: "pipe" },
  );
  if (probe.exitCode === 0) return null;
  const sysctls = blockingSysctls();
  return {
    reason: `bubblewrap cannot create its namespaces: ${probe.stderr.toString().trim().slice(-300)}`,
    fix:
      sysctls.length > 0
        ? `allow unprivileged user namespaces: sysctl -w ${sysctls.join(" ")} (and in /etc/sysctl.d/ to keep it)`
        : "allow unprivileged user namespaces (in a container: run it privileged or with seccomp=unconfined)",
  };
}

/** What keeps mode "bwrap" from working here, or null. Spawns a probe sandbox, so sandboxProblem memoizes it. */
export function findBwrapProblem(searchPath: string): SandboxProblem | null {
  return (
    platformProblem() ??
    programsProblem(searchPath) ??
    rootProblem() ??
    tunProblem() ??
    stateProblem() ??
    namespacesProblem(searchPath)
  );
}

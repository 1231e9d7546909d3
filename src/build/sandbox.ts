// Build step "install/build": runs one untrusted shell command in a bubblewrap sandbox held to cgroup limits.
//
// Process chain for mode "bwrap" (every arrow is an exec, so it is all one pid, a child of ours):
//   unshare --mount [--net]   root: a private mount namespace [and the network namespace slirp4netns serves]
//   -> sh PREPARE             root: joins the run's cgroups, fences the network, stages the workspace
//   -> prlimit -> setpriv     drops to the run's own host uid, no_new_privs
//   -> bwrap                  user/pid/ipc/uts/cgroup(/net) namespaces, read-only /usr, private /tmp
//   -> /bin/sh -c <command>
// plus, for network "registry", a slirp4netns process of ours attached to that network namespace.
//
// Weaker spots, by design or by host: without writable cgroups (v1 memory+pids, or v2) the limits fall back
// to rlimits (per-process memory, no OOM detection); there is no seccomp filter beyond what the namespaces
// and the unprivileged uid give; slirp4netns runs as root (capabilities dropped, seccomp, empty root) because
// it must open /dev/net/tun and enter a root-owned namespace; mode "none" isolates nothing but env and time.

import { type ChildProcess, spawn } from "node:child_process";
import { randomInt } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Duplex } from "node:stream";
import { invalid } from "../errors.ts";

/** "bwrap": the full sandbox. "none": a plain child process (operator opted out with BUILD_SANDBOX=none). */
export type SandboxMode = "bwrap" | "none";

/** Resource limits for one run. */
export interface SandboxLimits {
  /** Memory of the whole process tree (cgroup), page cache and tmpfs /tmp included. */
  memoryBytes: number;
  /** Processes plus threads of the whole tree. */
  pids: number;
  /** Wall clock; on expiry the tree is killed and the result says timedOut. */
  timeoutMs: number;
}

/** One untrusted command to run. */
export interface SandboxRun {
  mode: SandboxMode;
  /** Host dir; the ONLY writable host path, bound at /workspace (see SANDBOX_WORKSPACE). */
  workspace: string;
  /** Path relative to the workspace to run in ("" = its root); must stay inside it. */
  cwd: string;
  /** Run as ["/bin/sh", "-c", command]. */
  command: string;
  /**
   * The ONLY environment the command sees, over defaults: PATH, HOME (private), TMPDIR (private), CI=1, and
   * NODE_EXTRA_CA_CERTS (the system CA bundle) when the host has one.
   */
  env: Record<string, string>;
  /** Optional host dir bound read-write at /cache for package-manager caches; never shared by concurrent runs. */
  cacheDir?: string;
  /**
   * "registry": outbound IPv4 through slirp4netns; unreachable: the host's loopback, the host's own addresses
   * and directly connected subnets, link-local (cloud metadata). "none": loopback only.
   */
  network: "registry" | "none";
  limits: SandboxLimits;
  /** Decoded UTF-8 chunks as they arrive. Must not throw: a throw cancels the run and rejects its promise. */
  onOutput: (stream: "stdout" | "stderr", text: string) => void;
  /** Abort = cancel: the whole process tree is killed at once. */
  signal?: AbortSignal;
}

/** How a run ended. The promise resolves only once every process of the run is gone. */
export interface SandboxResult {
  /** The command's exit status (128+N when killed by signal N); null when we killed it or it never started. */
  exitCode: number | null;
  timedOut: boolean;
  canceled: boolean;
  /** The kernel's OOM killer fired inside the run's memory cgroup. */
  memoryExceeded: boolean;
  durationMs: number;
}

/** Where the command sees the workspace and the cache in mode "bwrap". */
export const SANDBOX_WORKSPACE = "/workspace";
export const SANDBOX_CACHE = "/cache";

const HELPER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
// Helpers we exec get this and nothing of our own environment.
const HELPER_ENV = { PATH: HELPER_PATH };
const STATE_ROOT = "/run/minivercel-sandbox";
// Each run gets its own host uid from this range (above the usual subuid ranges of rootless containers).
const UID_BASE = 2_000_000_000;
const UID_SPAN = 1_000_000;
const INNER_UID = "1000";
const INNER_HOME = "/tmp/home";
const TOOLS = ["bwrap", "setpriv", "unshare", "mount", "chown", "prlimit", "slirp4netns", "ip"] as const;
type Tool = (typeof TOOLS)[number];

// Runs as root inside a private mount namespace: joins the cgroups (before anything untrusted exists), makes
// the given IPv4 prefixes unreachable in the build's network namespace (which the build cannot change), then
// bind-mounts the workspace and cache under a world-searchable tmpfs, because bwrap (already running as the
// unprivileged uid) must be able to resolve its bind sources.
// Arguments: stage workspace cache cgroup-procs-file... -- unreachable-prefix... -- command...
const PREPARE = `set -eu
stage=$1 workspace=$2 cache=$3
shift 3
while [ "$1" != -- ]; do
  echo $$ >"$1" || { echo "sandbox: cannot join cgroup $1" >&2; exit 125; }
  shift
done
shift
while [ "$1" != -- ]; do
  ip route add unreachable "$1" || { echo "sandbox: cannot block $1" >&2; exit 125; }
  shift
done
shift
mount -t tmpfs -o mode=0755,size=64k,nosuid,nodev minivercel-stage "$stage"
mkdir "$stage/workspace" "$stage/cache"
mount --bind "$workspace" "$stage/workspace"
[ -z "$cache" ] || mount --bind "$cache" "$stage/cache"
exec "$@"`;

// Namespaces and the read-only system: the part of every bwrap command line that does not vary.
const SANDBOX_BASE = [
  ...["--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session"],
  ...["--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev"],
];

// Host files the sandbox may read (certificates, dynamic loader, alternatives symlinks, time zone).
const ETC_BINDS = [
  "/etc/ssl/certs",
  "/etc/ssl/openssl.cnf",
  "/etc/ca-certificates",
  "/etc/alternatives",
  "/etc/ld.so.cache",
  "/etc/ld.so.conf",
  "/etc/ld.so.conf.d",
  "/etc/localtime",
  "/etc/protocols",
  "/etc/services",
  "/etc/os-release",
  "/etc/debian_version",
  "/etc/gai.conf",
  "/etc/host.conf",
];

// Files generated for the sandbox instead of the host's own.
const ETC_FILES: Record<string, string> = {
  "/etc/passwd": `root:x:0:0:root:/root:/usr/sbin/nologin\nbuild:x:${INNER_UID}:${INNER_UID}:build:${INNER_HOME}:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`,
  "/etc/group": `root:x:0:\nbuild:x:${INNER_UID}:\nnogroup:x:65534:\n`,
  "/etc/hosts": "127.0.0.1 localhost build\n::1 localhost\n",
  "/etc/resolv.conf": "nameserver 10.0.2.3\n",
  "/etc/nsswitch.conf":
    "passwd: files\ngroup: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n",
};

/**
 * Runs `run.command` per `run.mode` and resolves once every process of the run is gone. Rejects before
 * anything runs on a bad cwd, env, command or limit (AppError "validation_failed") or when mode "bwrap" is
 * unavailable (see sandboxProblem); rejects after cleanup if the sandbox itself failed to start or onOutput threw.
 */
export async function runSandboxed(run: SandboxRun): Promise<SandboxResult> {
  const cwd = relativeCwd(run.cwd);
  checkRun(run);
  if (run.signal?.aborted) {
    return { exitCode: null, timedOut: false, canceled: true, memoryExceeded: false, durationMs: 0 };
  }
  switch (run.mode) {
    case "bwrap": {
      const problem = sandboxProblem();
      if (problem !== null) throw new Error(`build sandbox unavailable: ${problem}`);
      return runBwrap(run, cwd);
    }
    case "none":
      return runPlain(run, cwd);
  }
}

let problemMemo: { value: string | null } | null = null;

/** Whether bwrap mode can work here; when not, what is missing (for a clear refusal message). */
export function sandboxProblem(): string | null {
  problemMemo ??= { value: findProblem() };
  return problemMemo.value;
}

function findProblem(): string | null {
  if (process.platform !== "linux") return "the build sandbox needs Linux";
  if (process.getuid?.() !== 0)
    return "the build sandbox needs the platform to run as root (each build runs as its own uid)";
  const missing = TOOLS.filter((name) => Bun.which(name, { PATH: HELPER_PATH }) === null);
  if (missing.length > 0) {
    return `missing programs: ${missing.join(", ")} (Debian: apt-get install bubblewrap slirp4netns util-linux iproute2)`;
  }
  if (!fs.existsSync("/dev/net/tun")) return "no /dev/net/tun for slirp4netns (load the tun kernel module)";
  try {
    fs.mkdirSync(path.join(STATE_ROOT, "stage"), { recursive: true, mode: 0o755 });
  } catch (error) {
    return `cannot create ${STATE_ROOT}: ${String(error)}`;
  }
  // A real, tiny sandbox: the only reliable test for user namespaces (sysctls, AppArmor, seccomp of a container).
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
    { env: HELPER_ENV, cwd: "/", stdout: "ignore", stderr: "pipe" },
  );
  if (probe.exitCode !== 0) {
    return `bubblewrap cannot create its namespaces: ${probe.stderr.toString().trim()} (unprivileged user namespaces must be allowed: user.max_user_namespaces, kernel.unprivileged_userns_clone, kernel.apparmor_restrict_unprivileged_userns)`;
  }
  return null;
}

// ---- mode "bwrap" --------------------------------------------------------------------------------

async function runBwrap(run: SandboxRun, cwd: string): Promise<SandboxResult> {
  const started = performance.now();
  const workspace = fs.realpathSync(run.workspace);
  const cache = run.cacheDir === undefined ? null : fs.realpathSync(run.cacheDir);
  const owned = [workspace, ...(cache === null ? [] : [cache])].map((dir) => ({
    dir,
    stat: fs.statSync(dir),
  }));
  const lease = leaseUid();
  let cgroup: RunCgroup | null = null;
  let network: Network | null = null;
  try {
    cgroup = openRunCgroup(`run-${process.pid}-${lease.uid}`, run.limits);
    for (const { dir } of owned) await chownTree(dir, lease.uid, lease.uid);

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
      ...[tool("prlimit"), ...limits, "--", tool("setpriv"), `--reuid=${lease.uid}`, `--regid=${lease.uid}`],
      ...["--clear-groups", "--no-new-privs", "--", tool("bwrap"), ...bwrap],
    ];
    const child = spawn(tool("unshare"), argv, {
      stdio: ["ignore", "pipe", "pipe", ...extra.map(() => "pipe" as const)],
      env: HELPER_ENV,
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
          network = await startNetwork(child.pid, watch.exited);
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
    for (const { dir, stat } of owned) await chownTree(dir, stat.uid, stat.gid).catch(() => undefined);
    lease.release();
  }
}

/** bwrap's options; `fdOf` names the descriptors carrying the generated /etc files, the env and the handshakes. */
function bwrapArgs(
  run: SandboxRun,
  cwd: string,
  stage: string,
  withCache: boolean,
  fdOf: (name: string) => string,
): string[] {
  const handshake = [
    "--info-fd",
    fdOf("info"),
    ...(run.network === "registry" ? ["--block-fd", fdOf("block")] : []),
  ];
  return [
    ...SANDBOX_BASE,
    // "registry": the network namespace is the one unshare made (root-owned, so the build cannot reconfigure
    // it); slirp4netns brings up its lo and tap0. bwrap setting up lo at the same time would race with it.
    ...(run.network === "registry" ? ["--share-net"] : []),
    ...rootLinks(),
    ...["--clearenv", "--uid", INNER_UID, "--gid", INNER_UID, "--hostname", "build"],
    // tmpfs pages are charged to the memory cgroup; the size also bounds /tmp when cgroups are unavailable.
    ...["--size", String(run.limits.memoryBytes), "--perms", "1777", "--tmpfs", "/tmp", "--dir", INNER_HOME],
    ...ETC_BINDS.flatMap((file) => ["--ro-bind-try", file, file]),
    ...Object.keys(ETC_FILES).flatMap((file) => ["--ro-bind-data", fdOf(file), file]),
    ...["--bind", `${stage}/workspace`, SANDBOX_WORKSPACE],
    ...(withCache ? ["--bind", `${stage}/cache`, SANDBOX_CACHE] : []),
    ...["--remount-ro", "/", "--chdir", path.posix.join(SANDBOX_WORKSPACE, cwd)],
    // The environment travels through a pipe, not argv, so build secrets never show up in the host's `ps`.
    ...["--args", fdOf("args"), ...handshake],
    ...["--", "/bin/sh", "-c", run.command],
  ];
}

// /bin, /lib, ... as on the host: symlinks into /usr on merged-/usr systems, read-only binds otherwise.
function rootLinks(): string[] {
  return ["bin", "sbin", "lib", "lib32", "lib64", "libx32"].flatMap((name) => {
    const where = `/${name}`;
    const stat = fs.lstatSync(where, { throwIfNoEntry: false });
    if (stat === undefined) return [];
    if (stat.isSymbolicLink()) return ["--symlink", fs.readlinkSync(where), where];
    return stat.isDirectory() ? ["--ro-bind", where, where] : [];
  });
}

// Without cgroups: per-process memory (RLIMIT_DATA) and per-uid processes (RLIMIT_NPROC; exact because each run
// has its own uid). Weaker: a tree of processes can together exceed the memory limit, and OOM is not detected.
function rlimitFallback(limits: SandboxLimits): string[] {
  return [`--data=${limits.memoryBytes}`, `--nproc=${limits.pids}`];
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

interface Network {
  stop(): Promise<void>;
}

// slirp4netns runs as root (it must open /dev/net/tun and enter a namespace owned by the sandbox's user
// namespace), then --enable-sandbox drops its capabilities and pivots it into an empty root, under seccomp.
// slirp4netns connects out from the host, so without these a build could reach the host's services on its
// other addresses (anything listening on 0.0.0.0), its LAN neighbours and the cloud metadata endpoint.
// The host's loopback is covered by --disable-host-loopback; IPv6 is not forwarded at all.
function unreachablePrefixes(): string[] {
  const prefixes = new Set(["169.254.0.0/16"]);
  for (const address of Object.values(os.networkInterfaces()).flat()) {
    if (address === undefined || address.family !== "IPv4" || address.internal) continue;
    prefixes.add(`${address.address}/32`);
    const bits = Number(address.cidr?.split("/")[1] ?? "32");
    prefixes.add(`${ipv4Network(address.address, bits)}/${bits}`);
  }
  return [...prefixes];
}

function ipv4Network(address: string, bits: number): string {
  const value = address.split(".").reduce((sum, octet) => sum * 256 + Number(octet), 0);
  const network = bits === 0 ? 0 : value - (value % 2 ** (32 - bits));
  return [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join(".");
}

/** Attaches slirp4netns to the network namespace `memberPid` is in; resolves once the network is up. */
async function startNetwork(memberPid: number, sandboxExited: Promise<unknown>): Promise<Network> {
  const netns = fs.openSync(`/proc/${memberPid}/ns/net`, "r");
  const slirp = spawn(
    tool("slirp4netns"),
    [
      ...["--configure", "--mtu=65520", "--disable-host-loopback", "--enable-sandbox", "--enable-seccomp"],
      // --exit-fd: our end of that pipe closes if we die, and slirp4netns exits rather than linger.
      ...["--ready-fd=3", "--exit-fd=5", "--netns-type=path", "/proc/self/fd/4", "tap0"],
    ],
    { stdio: ["ignore", "ignore", "pipe", "pipe", netns, "pipe"], env: HELPER_ENV, cwd: "/" },
  );
  fs.closeSync(netns);
  // Held (not left to the garbage collector) until stop: closing it is what tells slirp4netns to exit.
  const exitPipe = duplexAt(slirp, 5);
  const exited = new Promise<void>((resolve) => {
    if (slirp.exitCode !== null || slirp.signalCode !== null) resolve();
    slirp.on("exit", () => resolve());
  });
  const stop = async () => {
    killPid(slirp.pid);
    await exited;
    exitPipe.destroy();
  };
  let stderr = "";
  slirp.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-2000);
  });
  const ready = new Promise<string | null>((resolve) => {
    const fd = duplexAt(slirp, 3);
    fd.on("data", () => resolve(null));
    fd.on("error", (error) => resolve(`ready pipe failed: ${error.message}`));
  });
  const failure = await Promise.race([
    ready,
    exited.then(() => `slirp4netns exited (${slirp.exitCode ?? slirp.signalCode})`),
    sandboxExited.then(() => "the sandbox exited first"),
    deadline(10_000).then(() => "slirp4netns was not ready within 10 s"),
  ]);
  if (failure !== null) {
    await stop();
    throw new Error(`build sandbox network setup failed: ${failure}: ${stderr.trim()}`);
  }
  return { stop };
}

// ---- mode "none" ---------------------------------------------------------------------------------

// No isolation at all: the operator's choice. The command still gets only its own environment, a private
// HOME and TMPDIR, its own process group (so a timeout or cancel kills the tree), and the time limit.
async function runPlain(run: SandboxRun, cwd: string): Promise<SandboxResult> {
  const started = performance.now();
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "minivercel-run-"));
  try {
    const home = path.join(scratch, "home");
    const tmp = path.join(scratch, "tmp");
    fs.mkdirSync(home);
    fs.mkdirSync(tmp);
    const child = spawn("/bin/sh", ["-c", run.command], {
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

// ---- shared: output, time limit, cancel ----------------------------------------------------------

interface Watch {
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): void;
  timedOut(): boolean;
  canceled(): boolean;
  /** We killed the run (timeout, cancel, a throwing onOutput, failed setup). */
  stopped(): boolean;
  stderrTail(): string;
  /** Throws what onOutput threw, if it did. */
  rethrow(): void;
}

function supervise(child: ChildProcess, run: SandboxRun, killTree: () => void, afterExit = () => {}): Watch {
  let stopped = false;
  let timedOut = false;
  let canceled = false;
  let callbackError: { error: unknown } | null = null;
  let tail = "";
  const kill = () => {
    stopped = true;
    killTree();
  };
  const emit = (stream: "stdout" | "stderr", text: string) => {
    if (text === "" || callbackError !== null) return;
    if (stream === "stderr") tail = (tail + text).slice(-2000);
    try {
      run.onOutput(stream, text);
    } catch (error) {
      callbackError = { error };
      kill();
    }
  };
  for (const name of ["stdout", "stderr"] as const) {
    const decoder = new TextDecoder("utf-8");
    const stream = child[name];
    stream?.on("data", (chunk: Buffer) => emit(name, decoder.decode(chunk, { stream: true })));
    stream?.on("end", () => emit(name, decoder.decode()));
  }
  const timer = setTimeout(() => {
    if (stopped) return;
    timedOut = true;
    kill();
  }, run.limits.timeoutMs);
  const onAbort = () => {
    if (!timedOut) canceled = true;
    kill();
  };
  run.signal?.addEventListener("abort", onAbort, { once: true });
  if (run.signal?.aborted) onAbort();

  const closed = new Promise<void>((resolve) => child.on("close", () => resolve()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on("error", (error) => {
      clearTimeout(timer);
      run.signal?.removeEventListener("abort", onAbort);
      reject(error);
    });
    child.on("exit", async (code, signal) => {
      clearTimeout(timer);
      run.signal?.removeEventListener("abort", onAbort);
      afterExit();
      // Output pipes close when the last holder exits; give stragglers a moment, then stop reading.
      if ((await Promise.race([closed.then(() => true), deadline(2000).then(() => false)])) === false) {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }
      resolve({ code, signal });
    });
  });
  return {
    exited,
    kill,
    timedOut: () => timedOut,
    canceled: () => canceled,
    stopped: () => stopped,
    stderrTail: () => tail,
    rethrow: () => {
      if (callbackError !== null) throw callbackError.error;
    },
  };
}

// ---- cgroups -------------------------------------------------------------------------------------

interface RunCgroup {
  /** cgroup.procs files the first process writes itself into. */
  procsFiles: string[];
  killAll(): void;
  /** Waits until no process is left in the cgroup, killing stragglers. */
  drain(): Promise<void>;
  oomKilled(exitCode: number | null): boolean;
  /** Removes the run's cgroups, and the `minivercel` parents once no other run uses them. */
  remove(): void;
}

type CgroupParents = { kind: "v1"; memory: string; pids: string } | { kind: "v2"; parent: string };

/** One cgroup of the run: its parent, what it enables for its children, and the limit files it writes. */
interface CgroupPart {
  parent: string;
  enable?: string;
  limits: { file: string; value: string; optional?: boolean }[];
}

let parentsMemo: { value: CgroupParents | null } | null = null;

/** The run's own cgroup under a `minivercel` parent, or null when this host gives us no writable cgroups. */
function openRunCgroup(name: string, limits: SandboxLimits): RunCgroup | null {
  parentsMemo ??= { value: findCgroupParents() };
  const parents = parentsMemo.value;
  if (parents === null) return null;
  const memory = String(limits.memoryBytes);
  switch (parents.kind) {
    case "v1": {
      const dir = path.join(parents.memory, name);
      const parts: CgroupPart[] = [
        {
          parent: parents.memory,
          limits: [
            { file: "memory.limit_in_bytes", value: memory },
            // With swap accounting on, memory+swap gets the same limit: the run may not swap instead.
            { file: "memory.memsw.limit_in_bytes", value: memory, optional: true },
          ],
        },
        { parent: parents.pids, limits: [{ file: "pids.max", value: String(limits.pids) }] },
      ];
      return createCgroup(name, parts, (exitCode) => {
        const oom = readNumberField(path.join(dir, "memory.oom_control"), "oom_kill");
        // Kernels before 4.13 have no oom_kill counter: hitting the limit and dying of SIGKILL is the sign.
        return oom === null ? readNumber(path.join(dir, "memory.failcnt")) > 0 && exitCode === 137 : oom > 0;
      });
    }
    case "v2": {
      const dir = path.join(parents.parent, name);
      const part: CgroupPart = {
        parent: parents.parent,
        enable: "+memory +pids",
        limits: [
          { file: "memory.max", value: memory },
          { file: "memory.swap.max", value: "0", optional: true },
          // One OOM kill ends the whole run instead of leaving it half-dead.
          { file: "memory.oom.group", value: "1", optional: true },
          { file: "pids.max", value: String(limits.pids) },
        ],
      };
      return createCgroup(
        name,
        [part],
        () => (readNumberField(path.join(dir, "memory.events"), "oom_kill") ?? 0) > 0,
      );
    }
  }
}

function createCgroup(
  name: string,
  parts: CgroupPart[],
  oomSeen: (exitCode: number | null) => boolean,
): RunCgroup {
  const dirs = parts.map((part) => path.join(part.parent, name));
  const members = () => [
    ...new Set(dirs.flatMap((dir) => readLines(path.join(dir, "cgroup.procs")).map(Number))),
  ];
  const killAll = () => {
    for (const dir of dirs) writeIfPresent(path.join(dir, "cgroup.kill"), "1");
    for (const pid of members()) killPid(pid);
  };
  // A parent still holding another run's cgroup refuses (EBUSY); that run removes it later.
  const remove = () => {
    for (const dir of [...dirs, ...parts.map((part) => part.parent)]) tryRemove(dir);
  };
  for (let attempt = 1; ; attempt++) {
    try {
      for (const part of parts) {
        fs.mkdirSync(part.parent, { recursive: true });
        if (part.enable !== undefined)
          fs.writeFileSync(path.join(part.parent, "cgroup.subtree_control"), part.enable);
        const dir = path.join(part.parent, name);
        fs.mkdirSync(dir);
        for (const { file, value, optional } of part.limits) {
          if (optional) writeIfPresent(path.join(dir, file), value);
          else fs.writeFileSync(path.join(dir, file), value);
        }
      }
      break;
    } catch (error) {
      remove();
      // ENOENT: a finishing run removed the empty parent between our mkdirs; try again.
      if (errorCode(error) !== "ENOENT" || attempt >= 5) throw error;
    }
  }
  return {
    procsFiles: dirs.map((dir) => path.join(dir, "cgroup.procs")),
    killAll,
    async drain() {
      for (let waited = 0; members().length > 0; waited += 20) {
        if (waited > 10_000) throw new Error(`build sandbox: processes left in ${dirs.join(", ")}`);
        killAll();
        await sleep(20);
      }
    },
    oomKilled: oomSeen,
    remove,
  };
}

// cgroup v1 with writable memory and pids hierarchies, else v2 with both controllers, else none.
// Parents go under the cgroup we run in (our delegated subtree), so our own limits still hold.
function findCgroupParents(): CgroupParents | null {
  const mounts = readLines("/proc/self/mountinfo").map((line) => {
    const [pre = "", post = ""] = line.split(" - ");
    const fields = pre.split(" ");
    const [fsType = "", , superOptions = ""] = post.split(" ");
    return { root: fields[3] ?? "", point: fields[4] ?? "", fsType, options: superOptions.split(",") };
  });
  // "4:memory:/some/path"; cgroup v2's line is "0::/some/path".
  const own = new Map<string, string>();
  for (const line of readLines("/proc/self/cgroup")) {
    const first = line.indexOf(":");
    const second = line.indexOf(":", first + 1);
    for (const controller of line.slice(first + 1, second).split(","))
      own.set(controller, line.slice(second + 1));
  }
  const under = (mount: { root: string; point: string }, cgroup: string) =>
    path.join(mount.point, cgroup.startsWith(mount.root) ? cgroup.slice(mount.root.length) : "");
  const v1 = (controller: string) => {
    const mount = mounts.find((m) => m.fsType === "cgroup" && m.options.includes(controller));
    const where = own.get(controller);
    return mount === undefined || where === undefined
      ? null
      : tryParent(path.join(under(mount, where), "minivercel"));
  };
  const memory = v1("memory");
  const pids = v1("pids");
  if (memory !== null && pids !== null) return sweep({ kind: "v1", memory, pids });
  for (const half of [memory, pids]) if (half !== null) tryRemove(half);

  const unified = mounts.find((m) => m.fsType === "cgroup2");
  if (unified === undefined) return null;
  const ownDir = under(unified, own.get("") ?? "/");
  for (const base of ownDir === unified.point ? [ownDir] : [ownDir, unified.point]) {
    const available = readLines(path.join(base, "cgroup.controllers")).join(" ").split(" ");
    if (!available.includes("memory") || !available.includes("pids")) continue;
    // The no-internal-processes rule makes this fail for a non-root cgroup we are in; then try the root.
    if (!tryWrite(path.join(base, "cgroup.subtree_control"), "+memory +pids")) continue;
    const parent = tryParent(path.join(base, "minivercel"));
    if (parent !== null && tryWrite(path.join(parent, "cgroup.subtree_control"), "+memory +pids")) {
      return sweep({ kind: "v2", parent });
    }
  }
  return null;
}

function tryRemove(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch {
    // Busy (another run's cgroup is in it), or already gone.
  }
}

function tryParent(dir: string): string | null {
  try {
    fs.mkdirSync(dir, { recursive: true });
    return fs.existsSync(path.join(dir, "cgroup.procs")) ? dir : null;
  } catch {
    return null;
  }
}

// Removes empty run cgroups left by platform processes that died (their names carry the owner's pid).
function sweep(parents: CgroupParents): CgroupParents {
  const dirs = parents.kind === "v1" ? [parents.memory, parents.pids] : [parents.parent];
  for (const dir of dirs) {
    for (const entry of fs.readdirSync(dir)) {
      const owner = /^run-(\d+)-\d+$/.exec(entry)?.[1];
      if (owner === undefined || Number(owner) === process.pid || pidExists(Number(owner))) continue;
      tryRemove(path.join(dir, entry));
    }
  }
  return parents;
}

// ---- small helpers -------------------------------------------------------------------------------

function relativeCwd(cwd: string): string {
  if (cwd.includes("\0")) throw invalid("the working directory contains a NUL byte", "cwd");
  if (path.posix.isAbsolute(cwd))
    throw invalid("the working directory must be relative to the project", "cwd");
  const normal = path.posix.normalize(cwd === "" ? "." : cwd);
  if (normal === ".." || normal.startsWith("../")) {
    throw invalid("the working directory must stay inside the project", "cwd");
  }
  return normal === "." ? "" : normal.replace(/\/$/, "");
}

function checkRun({ command, env, limits }: SandboxRun): void {
  if (command.includes("\0")) throw invalid("the command contains a NUL byte", "command");
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0)
      throw invalid(`limit ${name} must be a positive integer`, "limits");
  }
  for (const [key, value] of Object.entries(env)) {
    if (key === "" || key.includes("=") || key.includes("\0"))
      throw invalid(`bad environment variable name "${key}"`, "env");
    if (value.includes("\0")) throw invalid(`environment variable ${key} contains a NUL byte`, "env");
  }
}

// Node ignores the system CA store unless told; pointing it there makes builds trust what the host trusts
// (e.g. an operator's TLS-inspecting proxy), as git and curl already do.
const SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

function defaultEnv(home: string, tmp: string): Record<string, string> {
  const env: Record<string, string> = { PATH: HELPER_PATH, HOME: home, TMPDIR: tmp, CI: "1" };
  if (fs.existsSync(SYSTEM_CA_BUNDLE)) env.NODE_EXTRA_CA_CERTS = SYSTEM_CA_BUNDLE;
  return env;
}

let toolsMemo: Map<Tool, string> | null = null;

function tool(name: Tool): string {
  toolsMemo ??= new Map(TOOLS.map((t) => [t, Bun.which(t, { PATH: HELPER_PATH }) ?? t]));
  return toolsMemo.get(name) ?? name;
}

/** A per-run uid, exclusive host-wide while leased (an O_EXCL file per uid). */
function leaseUid(): { uid: number; release(): void } {
  const dir = path.join(STATE_ROOT, "uids");
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 64; attempt++) {
    const uid = UID_BASE + randomInt(UID_SPAN);
    const file = path.join(dir, String(uid));
    try {
      fs.writeFileSync(file, String(process.pid), { flag: "wx" });
      return { uid, release: () => fs.rmSync(file, { force: true }) };
    } catch (error) {
      if (errorCode(error) !== "EEXIST") throw error;
    }
  }
  throw new Error("build sandbox: no free uid");
}

// --no-dereference: a symlink in a cloned repository must not hand its target to the build's uid.
async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  const child = spawn(tool("chown"), ["-R", "--no-dereference", "--", `${uid}:${gid}`, dir], {
    stdio: ["ignore", "ignore", "pipe"],
    env: HELPER_ENV,
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", resolve);
  });
  if (code !== 0) throw new Error(`chown of ${dir} failed: ${stderr.trim()}`);
}

function duplexAt(child: ChildProcess, fd: number): Duplex {
  const stream = child.stdio[fd];
  if (!(stream instanceof Duplex)) throw new Error(`no pipe at fd ${fd}`);
  return stream;
}

function writeAll(stream: Duplex, text: string): void {
  // bwrap may be gone already (killed, failed); the exit status reports that.
  stream.on("error", () => undefined);
  stream.end(text);
}

function exitStatus(code: number | null, signal: NodeJS.Signals | null): number | null {
  if (code !== null) return code;
  const number = signal === null ? undefined : os.constants.signals[signal];
  return number === undefined ? null : 128 + number;
}

function killPid(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === "EPERM";
  }
}

// Field 22 of /proc/<pid>/stat, to tell a process from a later one that reuses its pid; null once it is a zombie or gone.
function processStartTime(pid: number): string | null {
  const fields = statFields(pid);
  return fields === null || fields[0] === "Z" ? null : (fields[19] ?? null);
}

/** /proc/<pid>/stat from the state field on (state, ppid, pgrp, ...), or null when there is no such process. */
function statFields(pid: number): string[] | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
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

async function waitGone(pid: number, startTime: string): Promise<void> {
  for (let waited = 0; processStartTime(pid) === startTime; waited += 20) {
    if (waited > 10_000) throw new Error(`build sandbox: pid ${pid} did not exit`);
    killPid(pid);
    await sleep(20);
  }
}

function readLines(file: string): string[] {
  try {
    return fs
      .readFileSync(file, "utf8")
      .split("\n")
      .filter((line) => line !== "");
  } catch {
    return [];
  }
}

function readNumber(file: string): number {
  return Number(readLines(file)[0] ?? "0") || 0;
}

/** The value of a "key value" line in a cgroup stats file, or null when there is no such line. */
function readNumberField(file: string, key: string): number | null {
  for (const line of readLines(file)) {
    const [name, value] = line.split(" ");
    if (name === key && value !== undefined) return Number(value);
  }
  return null;
}

function writeIfPresent(file: string, value: string): void {
  if (fs.existsSync(file)) tryWrite(file, value);
}

function tryWrite(file: string, value: string): boolean {
  try {
    fs.writeFileSync(file, value);
    return true;
  } catch {
    return false;
  }
}

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && "code" in error && typeof error.code === "string" ? error.code : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A timer for races: it does not keep the process alive once the race is decided. */
function deadline(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

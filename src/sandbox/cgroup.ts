// Build sandbox, mode "bwrap": the run's memory and pids limits, as cgroups (v1 or v2) or else as rlimits.

import fs from "node:fs";
import path from "node:path";
import { errorCode, killPid, pidExists, sleep } from "./proc.ts";
import type { SandboxLimits } from "./sandbox.ts";

export interface RunCgroup {
  /** cgroup.procs files the first process writes itself into. */
  procsFiles: string[];
  killAll(): void;
  /** Waits until no process is left in the cgroup, killing stragglers. */
  drain(): Promise<void>;
  oomKilled(exitCode: number | null): boolean;
  /** Memory the run's processes use now (page cache and tmpfs included), in bytes; null when unreadable. */
  memoryBytes(): number | null;
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

/** Which cgroups give builds their limits here: v1 (memory and pids) or v2 (delegated to us); null: rlimits only. */
export function cgroupKind(): "v1" | "v2" | null {
  parentsMemo ??= { value: findCgroupParents() };
  return parentsMemo.value?.kind ?? null;
}

/** The run's own cgroup under a `minivercel` parent, or null when this host gives us no writable cgroups. */
export function openRunCgroup(name: string, limits: SandboxLimits): RunCgroup | null {
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
      return createCgroup(name, parts, path.join(dir, "memory.usage_in_bytes"), (exitCode) => {
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
        path.join(dir, "memory.current"),
        () => (readNumberField(path.join(dir, "memory.events"), "oom_kill") ?? 0) > 0,
      );
    }
  }
}

function createCgroup(
  name: string,
  parts: CgroupPart[],
  usageFile: string,
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
    memoryBytes() {
      try {
        const value = Number(fs.readFileSync(usageFile, "utf8").trim());
        return Number.isFinite(value) ? value : null;
      } catch {
        return null;
      }
    },
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

// Without cgroups: per-process memory (RLIMIT_DATA) and per-uid processes (RLIMIT_NPROC; exact because each run
// has its own uid). Weaker: a tree of processes can together exceed the memory limit, and OOM is not detected.
export function rlimitFallback(limits: SandboxLimits): string[] {
  return [`--data=${limits.memoryBytes}`, `--nproc=${limits.pids}`];
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

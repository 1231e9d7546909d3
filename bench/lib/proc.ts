// Benches: CPU time of processes from /proc, for CPU-per-request figures (steadier than requests/s on a shared VM).

import { readdirSync, readFileSync } from "node:fs";

const TICKS_PER_SECOND = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim()) || 100;

export interface Proc {
  pid: number;
  ppid: number;
  /** User + system CPU seconds so far. */
  cpu: number;
  /** The system (kernel) part of `cpu`: on a server, mostly its sockets' work. */
  system: number;
  /** Its argv joined by spaces. */
  command: string;
}

/** Every process now (those that end while being read are left out). */
export function processes(): Proc[] {
  const all: Proc[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const command = readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0").join(" ").trim();
      // fields[1] is the parent pid; fields[11] and [12] are utime and stime (man 5 proc, from field 3 on).
      all.push({
        pid: Number(name),
        ppid: Number(fields[1]),
        cpu: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND,
        system: Number(fields[12]) / TICKS_PER_SECOND,
        command,
      });
    } catch {
      // Gone meanwhile.
    }
  }
  return all;
}

/** `root` and all its descendants, from one snapshot. */
export function tree(all: Proc[], root: number): Proc[] {
  const children = new Map<number, Proc[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const out: Proc[] = [];
  const visit = (pid: number) => {
    const self = all.find((p) => p.pid === pid);
    if (self) out.push(self);
    for (const child of children.get(pid) ?? []) visit(child.pid);
  };
  visit(root);
  return out;
}

/** Runs `argv` to its end; what it printed and its exit code. */
export async function output(
  argv: string[],
  options: { env?: Record<string, string | undefined> } = {},
): Promise<{ stdout: string; stderr: string; code: number }> {
  const proc = Bun.spawn(argv, { ...options, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { stdout, stderr, code };
}

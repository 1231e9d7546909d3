// Which servers use a data directory: `serve` leaves <data>/run/serve-<pid> while it runs, so restore can refuse.

import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Directory of the markers; never backed up (a restored server writes its own). */
export const RUN_DIR = "run";

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, as another user. Only "no such process" means it is gone.
    return typeof e === "object" && e !== null && "code" in e && e.code === "EPERM";
  }
};

/** Marks this process as a server of `dataDir` until release() (or until it dies: markers of dead pids are ignored). */
export function markServing(dataDir: string): { release(): void } {
  const dir = join(dataDir, RUN_DIR);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const marker = join(dir, `serve-${process.pid}`);
  writeFileSync(marker, `${new Date().toISOString()}\n`, { mode: 0o600 });
  return { release: () => rmSync(marker, { force: true }) };
}

/** Pids of live processes serving from `dataDir`. A marker left by a crash names a dead pid and is skipped. */
export function serversUsing(dataDir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(join(dataDir, RUN_DIR));
  } catch {
    return [];
  }
  return names
    .map((name) => /^serve-(\d+)$/.exec(name)?.[1])
    .filter((pid): pid is string => pid !== undefined)
    .map(Number)
    .filter((pid) => pid !== process.pid && isAlive(pid));
}

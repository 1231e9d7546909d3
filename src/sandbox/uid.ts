// Build sandbox, mode "bwrap": a host uid of its own for each run, and handing the workspace to it and back.

import { spawn } from "node:child_process";
import { randomInt } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { errorCode, type Helpers, STATE_ROOT } from "./proc.ts";

// Each run gets its own host uid from this range (above the usual subuid ranges of rootless containers).
export const UID_BASE = 2_000_000_000;
const UID_SPAN = 1_000_000;

/** A per-run uid, exclusive host-wide while leased (an O_EXCL file per uid). */
export function leaseUid(): { uid: number; release(): void } {
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
export async function chownTree(helpers: Helpers, dir: string, uid: number, gid: number): Promise<void> {
  const child = spawn(helpers.tool("chown"), ["-R", "--no-dereference", "--", `${uid}:${gid}`, dir], {
    stdio: ["ignore", "ignore", "pipe"],
    env: helpers.env,
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

// Which package manager a checkout uses (the "packageManager" field, else its lockfile, else npm) and how to
// install with it, with notes for the build log.

import { join } from "node:path";
import { type Listing, MAX_CONFIG_BYTES, type Manifest, readHead } from "./detect-files.ts";

export type PackageManager = "npm" | "pnpm" | "yarn" | "bun";

/** In priority order when a checkout holds several. */
const LOCKFILES: [string, PackageManager][] = [
  ["bun.lock", "bun"],
  ["bun.lockb", "bun"],
  ["pnpm-lock.yaml", "pnpm"],
  ["yarn.lock", "yarn"],
  ["package-lock.json", "npm"],
  ["npm-shrinkwrap.json", "npm"],
];

export const RUN: Record<PackageManager, string> = {
  npm: "npm",
  pnpm: "corepack pnpm",
  yarn: "corepack yarn",
  bun: "bun",
};
/** Runs a dependency's binary from node_modules/.bin. */
export const EXEC: Record<PackageManager, string> = {
  npm: "npm exec --",
  pnpm: "corepack pnpm exec",
  yarn: "corepack yarn run",
  bun: "bun x",
};

/** The checkout's package manager and its install command (frozen to the lockfile when there is one). */
export async function detectPackageManager(
  dir: string,
  { files, names }: Listing,
  manifest: Manifest,
  notes: string[],
): Promise<{ name: PackageManager; install: string }> {
  const locks = LOCKFILES.filter(([file]) => names.has(file));
  const declared = parsePackageManagerField(manifest.packageManager, notes);
  // corepack refuses to run another manager than the declared one, so the field wins over lockfiles.
  const name = declared?.name ?? locks[0]?.[1] ?? "npm";
  const lockfile = locks.find(([, pm]) => pm === name)?.[0] ?? null;
  if (declared) notes.push(`Using ${name} ("packageManager": ${JSON.stringify(manifest.packageManager)})`);
  else if (lockfile) notes.push(`Using ${name} (${lockfile})`);
  else notes.push("Using npm (no lockfile)");
  const ignored = locks.filter(([, pm]) => pm !== name).map(([file]) => file);
  if (ignored.length > 0) notes.push(`Ignoring ${ignored.join(", ")}: the project uses ${name}`);
  if (!lockfile && (declared || locks.length > 0)) {
    notes.push(`No ${name} lockfile: dependencies are resolved afresh (commit one for reproducible builds)`);
  }

  switch (name) {
    case "npm":
      return { name, install: lockfile ? "npm ci" : "npm install" };
    case "pnpm":
      return { name, install: `corepack pnpm install${lockfile ? " --frozen-lockfile" : ""}` };
    case "bun":
      return { name, install: `bun install${lockfile ? " --frozen-lockfile" : ""}` };
    case "yarn": {
      const berry =
        declared?.major != null ? declared.major >= 2 : await isYarnBerry(dir, { files, names }, lockfile);
      if (berry && !declared && !(await yarnrcSetsYarnPath(dir, files))) {
        notes.push(
          'Warning: Yarn 2+ project without a "packageManager" field; corepack may pick Yarn 1 (add "packageManager": "yarn@4.x")',
        );
      }
      notes.push(berry ? "Yarn Berry (2+)" : "Yarn classic (1.x)");
      const frozen = berry ? " --immutable" : " --frozen-lockfile";
      return { name, install: `corepack yarn install${lockfile ? frozen : ""}` };
    }
  }
}

/** "pnpm@9.1.0+sha512.abc" -> pnpm, major 9; anything else is ignored with a note. */
function parsePackageManagerField(
  value: unknown,
  notes: string[],
): { name: PackageManager; major: number | null } | null {
  if (value === undefined) return null;
  const match = typeof value === "string" ? /^(npm|pnpm|yarn|bun)(?:@(\d+)?|$)/.exec(value) : null;
  const name = match?.[1];
  if (!match || (name !== "npm" && name !== "pnpm" && name !== "yarn" && name !== "bun")) {
    notes.push(
      `Ignoring "packageManager": ${JSON.stringify(value).slice(0, 80)} (expected npm, pnpm, yarn or bun)`,
    );
    return null;
  }
  return { name, major: match[2] === undefined ? null : Number(match[2]) };
}

async function isYarnBerry(
  dir: string,
  { files, names }: Pick<Listing, "files" | "names">,
  lockfile: string | null,
): Promise<boolean> {
  if (names.has(".yarnrc.yml")) return true;
  // Berry lockfiles are YAML with a __metadata block near the top; classic ones say "yarn lockfile v1".
  const head = lockfile && files.has(lockfile) ? await readHead(join(dir, lockfile), 2048) : null;
  return head?.includes("__metadata:") ?? false;
}

async function yarnrcSetsYarnPath(dir: string, files: Set<string>): Promise<boolean> {
  if (!files.has(".yarnrc.yml")) return false;
  return /^yarnPath\s*:/m.test((await readHead(join(dir, ".yarnrc.yml"), MAX_CONFIG_BYTES)) ?? "");
}

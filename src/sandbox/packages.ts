// Build sandbox: which package gives each program local builds need, and the command that installs them here.
// scripts/lib/sandbox.sh holds the same table for run.sh, services.sh and install.sh (a test keeps them equal).

import { HELPER_PATH, TOOLS } from "./proc.ts";

/** Every program a local build runs on the host: the sandbox's helpers, and git for the clone. */
export const BUILD_PROGRAMS = [...TOOLS, "git"] as const;
export type BuildProgram = (typeof BUILD_PROGRAMS)[number];

export const PACKAGE_MANAGERS = ["apt-get", "dnf", "apk"] as const;
export type PackageManager = (typeof PACKAGE_MANAGERS)[number];

const UTIL_LINUX = { setpriv: "util-linux", unshare: "util-linux", prlimit: "util-linux" } as const;
const COMMON = { bwrap: "bubblewrap", slirp4netns: "slirp4netns", chown: "coreutils", git: "git" } as const;

export const PACKAGES: Record<PackageManager, Record<BuildProgram, string>> = {
  // Debian and Ubuntu ship mount on its own.
  "apt-get": { ...COMMON, ...UTIL_LINUX, mount: "mount", ip: "iproute2" },
  dnf: { ...COMMON, ...UTIL_LINUX, mount: "util-linux", ip: "iproute" },
  apk: { ...COMMON, ...UTIL_LINUX, mount: "util-linux", ip: "iproute2" },
};

const INSTALL: Record<PackageManager, string[]> = {
  "apt-get": ["apt-get", "install", "-y"],
  dnf: ["dnf", "install", "-y"],
  apk: ["apk", "add"],
};

/** The programs of BUILD_PROGRAMS missing from `searchPath`. */
export function missingPrograms(searchPath: string): BuildProgram[] {
  return BUILD_PROGRAMS.filter((name) => Bun.which(name, { PATH: searchPath }) === null);
}

/** This host's package manager (looked for where the system keeps it), or null. */
export function packageManager(): PackageManager | null {
  return PACKAGE_MANAGERS.find((name) => Bun.which(name, { PATH: HELPER_PATH }) !== null) ?? null;
}

/**
 * The one command that installs `programs` here, with sudo unless we are root; without a known package
 * manager, a sentence naming Debian's packages.
 */
export function installCommand(programs: readonly BuildProgram[]): string {
  const manager = packageManager();
  const packages = (table: Record<BuildProgram, string>) => [...new Set(programs.map((p) => table[p]))];
  if (manager === null)
    return `install ${packages(PACKAGES["apt-get"]).join(", ")} (Debian's names) with the system's package manager`;
  const sudo = process.getuid?.() === 0 ? [] : ["sudo"];
  return [...sudo, ...INSTALL[manager], ...packages(PACKAGES[manager])].join(" ");
}

// scripts/lib/sandbox.sh, the installer run.sh, services.sh and install.sh share, run by the system's sh
// against package-manager shims (apt-get, dnf, apk stand-ins that record what they are asked and "install"
// by linking the real programs) and a BUILD_SANDBOX_PATH that lacks bwrap and slirp4netns.

import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { BUILD_PROGRAMS, PACKAGE_MANAGERS, PACKAGES } from "../../src/sandbox/packages.ts";
import { HELPER_PATH } from "../../src/sandbox/proc.ts";
import { tempDir } from "../../src/testing/deps.ts";

const LIB = resolve(import.meta.dir, "sandbox.sh");
const INSTALLER = resolve(import.meta.dir, "../../install.sh");
const REMOVED = ["bwrap", "slirp4netns"];
const cleanup: string[] = [];
afterAll(() => {
  for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
});

const real = (name: string) => {
  const found = Bun.which(name, { PATH: HELPER_PATH });
  if (found === null) throw new Error(`${name} is missing here: run 'bash scripts/services.sh sandbox'`);
  return found;
};

/** A sandbox path with every program but bwrap and slirp4netns, and a shim for `manager` (nothing else) on PATH. */
function host(manager: string) {
  const root = tempDir("minivercel-sandbox-sh-");
  cleanup.push(root);
  // Searchable for the unprivileged run below (mkdtemp makes it 0700).
  chmodSync(root, 0o755);
  const helpers = join(root, "helpers");
  const bin = join(root, "bin");
  mkdirSync(helpers);
  mkdirSync(bin);
  for (const name of BUILD_PROGRAMS)
    if (!REMOVED.includes(name)) symlinkSync(real(name), join(helpers, name));
  // What the shim records; when asked for bubblewrap and slirp4netns it links them, as an install would.
  const log = join(root, "requests.log");
  writeFileSync(
    join(bin, manager),
    `#!/bin/sh\necho "$0 $*" >> '${log}'\nfor a; do case $a in\n` +
      `bubblewrap) /bin/ln -sf '${real("bwrap")}' '${helpers}/bwrap' ;;\n` +
      `slirp4netns) /bin/ln -sf '${real("slirp4netns")}' '${helpers}/slirp4netns' ;;\nesac; done\n`,
  );
  chmodSync(join(bin, manager), 0o755);
  // The lib calls id; nothing else of the system is on PATH, so only this shim can be the package manager.
  symlinkSync(real("id"), join(bin, "id"));
  const requests = () => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : []);
  return { helpers, bin, requests };
}

/** Runs `script` after sourcing the lib, in /bin/sh, with that host's PATH and BUILD_SANDBOX_PATH. */
function sh(h: { helpers: string; bin: string }, script: string, asUser?: number) {
  const drop =
    asUser === undefined ? [] : [real("setpriv"), `--reuid=${asUser}`, `--regid=${asUser}`, "--clear-groups"];
  const run = Bun.spawnSync([...drop, "/bin/sh", "-c", `. '${LIB}'; ${script}`], {
    env: { PATH: h.bin, BUILD_SANDBOX_PATH: h.helpers },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: run.exitCode, stdout: run.stdout.toString(), stderr: run.stderr.toString() };
}

describe("scripts/lib/sandbox.sh", () => {
  test("names the same package for every program and package manager as src/sandbox/packages.ts", () => {
    const h = host("apt-get");
    for (const manager of PACKAGE_MANAGERS) {
      const out = sh(h, `for p in $SANDBOX_PROGRAMS; do echo "$p $(sandbox_package ${manager} "$p")"; done`);
      expect(out.code).toBe(0);
      const table = Object.fromEntries(
        out.stdout
          .trim()
          .split("\n")
          .map((line) => line.split(" ")),
      );
      expect(table).toEqual(PACKAGES[manager]);
    }
  });

  test("install.sh carries it verbatim (install.sh is one file in a release)", () => {
    const installer = readFileSync(INSTALLER, "utf8");
    const copy = /^# ---- sandbox\.sh begin[^\n]*\n([\s\S]*?)^# ---- sandbox\.sh end/m.exec(installer)?.[1];
    expect(copy).toBe(readFileSync(LIB, "utf8"));
  });

  for (const [manager, request] of [
    ["apt-get", "install -y --no-install-recommends bubblewrap slirp4netns"],
    ["dnf", "install -y bubblewrap slirp4netns"],
    ["apk", "add --no-cache bubblewrap slirp4netns"],
  ] as const) {
    test(`as root, asks ${manager} for the packages of exactly the missing programs, then finds them`, () => {
      const h = host(manager);
      const out = sh(h, 'sandbox_install test && echo "missing now: [$(sandbox_missing_programs)]"');
      expect(out.stderr).toContain("test: installing bubblewrap slirp4netns (for bwrap slirp4netns)");
      expect(out.code).toBe(0);
      expect(h.requests()).toEqual([`${join(h.bin, manager)} ${request}`]);
      expect(out.stdout).toBe("missing now: []\n");
      // Nothing missing: the package manager is not asked again.
      expect(sh(h, "sandbox_install test").code).toBe(0);
      expect(h.requests()).toHaveLength(1);
    });
  }

  test("as root, a package manager that leaves them missing is a failure that says what is still missing", () => {
    const h = host("apt-get");
    rmSync(join(h.bin, "apt-get"));
    writeFileSync(join(h.bin, "apt-get"), "#!/bin/sh\nexit 0\n");
    chmodSync(join(h.bin, "apt-get"), 0o755);
    const out = sh(h, "sandbox_install test");
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(
      "test: still missing after installing bubblewrap slirp4netns: bwrap slirp4netns",
    );
  });

  test("not as root: one line with the exact command, and the package manager is not run", () => {
    const h = host("apt-get");
    const nobody = 65534;
    const out =
      process.getuid?.() === 0 ? sh(h, "sandbox_install run.sh", nobody) : sh(h, "sandbox_install run.sh");
    expect(out.code).toBe(1);
    expect(out.stderr).toBe(
      "run.sh: local builds need bwrap slirp4netns; install them with: sudo apt-get install -y bubblewrap slirp4netns\n",
    );
    expect(h.requests()).toEqual([]);
  });
});

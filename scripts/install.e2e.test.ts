// install.sh end to end: compiled release binaries served over HTTP, installed into a temporary root, upgraded
// in place (data and settings kept), and refused when the checksum does not match (old binary kept).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  appendFileSync,
  chmodSync,
  existsSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { tempDir } from "../src/testing/deps.ts";

const repo = new URL("..", import.meta.url).pathname;
const installer = join(repo, "install.sh");
const arch = process.arch === "arm64" ? "arm64" : "x64";
const FILE = `minivercel-linux-${arch}`;

const sha256 = (path: string) => new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex");

/** Release directories as GitHub lays them out: <base>/download/v<version>/<file>, <base>/latest/download/<file>. */
const releases = tempDir("minivercel-releases-");
let server: ReturnType<typeof Bun.serve> | null = null;
let baseUrl = "";

/** Builds the binary of `version` into its release directory, with SHA256SUMS (or the given wrong sum). */
async function release(version: string, opts: { from?: string; sum?: string } = {}): Promise<string> {
  const dir = join(releases, "download", `v${version}`);
  await mkdir(dir, { recursive: true });
  const binary = join(dir, FILE);
  if (opts.from) writeFileSync(binary, readFileSync(opts.from));
  else {
    const build = Bun.spawn([process.execPath, "scripts/build.ts", binary, `--version=${version}`], {
      cwd: repo,
      stdout: "pipe",
      stderr: "pipe",
    });
    if ((await build.exited) !== 0)
      throw new Error(`build failed: ${await new Response(build.stderr).text()}`);
  }
  writeFileSync(join(dir, "SHA256SUMS"), `${opts.sum ?? sha256(binary)}  ${FILE}\n`);
  return binary;
}

beforeAll(async () => {
  const v1 = await release("0.1.0");
  await release("0.1.1");
  // A tampered release: the 0.1.0 binary with a byte more, under the 0.1.0 checksum.
  const tampered = await release("0.1.2", { from: v1, sum: sha256(v1) });
  appendFileSync(tampered, "\0");
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      const path = new URL(request.url).pathname.replace("/latest/download/", "/download/v0.1.1/");
      const file = join(releases, path);
      if (path.includes("..") || !existsSync(file)) return new Response("not found", { status: 404 });
      return new Response(Bun.file(file));
    },
  });
  baseUrl = `http://127.0.0.1:${server.port}`;
}, 120_000);

afterAll(() => {
  server?.stop(true);
});

/** Runs install.sh with sh (POSIX), never touching the real system: always under --root. */
async function install(root: string, ...args: string[]) {
  return installWith({}, root, ...args);
}

async function installWith(env: Record<string, string>, root: string, ...args: string[]) {
  const child = Bun.spawn(["sh", installer, "--root", root, ...args], {
    env: { ...process.env, MINIVERCEL_RELEASE_URL: baseUrl, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { code, stdout, stderr };
}

function versionOf(binary: string): string {
  const run = Bun.spawnSync([binary, "--version"], { stdout: "pipe", stderr: "pipe" });
  return run.stdout.toString().trim();
}

describe("install.sh", () => {
  const root = tempDir("minivercel-root-");
  const binary = join(root, "usr/local/bin/minivercel");
  const data = join(root, "var/lib/minivercel");
  const settings = join(root, "etc/default/minivercel");
  const unit = join(root, "etc/systemd/system/minivercel.service");

  test("installs the checked binary, data directory, settings and systemd unit", async () => {
    const result = await install(root, "--no-systemd", "--version", "0.1.0");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("installed minivercel 0.1.0");
    expect(result.stdout).toContain("/setup");
    // It ends with doctor's checks of this host, with the installed settings and data directory.
    expect(result.stdout).toContain(
      "checking this host with: minivercel doctor --env-file /etc/default/minivercel",
    );
    expect(result.stdout).toContain(`minivercel doctor 0.1.0: roles api, worker, proxy; data ${data}\n`);
    expect(result.stdout).toMatch(/\nok {4}data directory +\S+ is writable\n/);
    expect(result.stdout).toMatch(
      /minivercel install: (all checks passed|some checks failed: fix the FAIL lines)/,
    );
    expect(versionOf(binary)).toBe("0.1.0");
    expect(readdirSync(join(root, "usr/local/bin"))).toEqual(["minivercel"]);
    expect(statSync(data).isDirectory()).toBe(true);
    expect(statSync(data).mode & 0o777).toBe(0o750);
    expect(readFileSync(settings, "utf8")).toContain("MINIVERCEL_DATA=/var/lib/minivercel\n");
    expect(statSync(settings).mode & 0o777).toBe(0o640);
    const text = readFileSync(unit, "utf8");
    for (const line of [
      "ExecStart=/usr/local/bin/minivercel serve",
      "EnvironmentFile=/etc/default/minivercel",
      "WorkingDirectory=/var/lib/minivercel",
      "Restart=on-failure",
      "WantedBy=multi-user.target",
    ]) {
      expect(text).toContain(`${line}\n`);
    }
    // The build sandbox runs as root and may need a setuid bwrap: nothing in the unit may forbid that.
    expect(text).not.toMatch(/^(NoNewPrivileges|User|RestrictNamespaces|PrivateDevices)=/m);
  }, 60_000);

  test("re-running upgrades in place: new binary, data and settings kept", async () => {
    writeFileSync(join(data, "minivercel.db"), "precious");
    appendFileSync(settings, "BASE_DOMAIN=example.com\n");
    const before = readFileSync(settings, "utf8");
    const result = await install(root, "--no-systemd", "--version", "v0.1.1");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("upgraded");
    expect(result.stdout).toContain("from 0.1.0 to 0.1.1");
    expect(versionOf(binary)).toBe("0.1.1");
    expect(readFileSync(join(data, "minivercel.db"), "utf8")).toBe("precious");
    expect(readFileSync(settings, "utf8")).toBe(before);
    expect(readdirSync(join(root, "usr/local/bin"))).toEqual(["minivercel"]);
  }, 60_000);

  test("a checksum mismatch stops it with one line, before anything is replaced", async () => {
    const result = await install(root, "--no-systemd", "--version", "0.1.2");
    expect(result.code).not.toBe(0);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("checksum mismatch");
    expect(lines[0]).toContain("nothing was installed");
    expect(versionOf(binary)).toBe("0.1.1");
    expect(readdirSync(join(root, "usr/local/bin"))).toEqual(["minivercel"]);
  }, 60_000);

  test("an unknown version is a clear error", async () => {
    const result = await install(root, "--no-systemd", "--version", "9.9.9");
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("could not download");
    expect(versionOf(binary)).toBe("0.1.1");
  }, 60_000);

  test("installs what local builds need with the host's package manager (a shim here), even under --root", async () => {
    const other = tempDir("minivercel-root-");
    // A host without any of the build programs (BUILD_SANDBOX_PATH is where the server looks for them), and an
    // apt-get ahead of the real one that only records what it was asked.
    const bare = tempDir("minivercel-no-programs-");
    const shims = tempDir("minivercel-shims-");
    const requests = join(shims, "requests.log");
    writeFileSync(join(shims, "apt-get"), `#!/bin/sh\necho "$*" >> '${requests}'\n`);
    chmodSync(join(shims, "apt-get"), 0o755);
    const env = { PATH: `${shims}:${process.env.PATH ?? "/usr/bin:/bin"}`, BUILD_SANDBOX_PATH: bare };
    const result = await installWith(env, other, "--no-systemd");
    expect(result.code).toBe(0);
    expect(readFileSync(requests, "utf8")).toContain(
      "install -y --no-install-recommends bubblewrap util-linux mount coreutils slirp4netns iproute2 git\n",
    );
    // The shim installed nothing: the installer says so, finishes the rest of the install, and its checks at the
    // end say what is still missing and the command that installs it.
    expect(result.stderr).toContain("still missing after installing");
    expect(result.stdout).toContain("local builds fail until that is done");
    expect(result.stdout).toMatch(
      /\nFAIL {2}sandbox programs +missing programs: bwrap, .*; fix: \S*apt-get install -y bubblewrap /,
    );
    expect(result.stdout).toContain("minivercel install: some checks failed: fix the FAIL lines above");
    expect(versionOf(join(other, "usr/local/bin/minivercel"))).toBe("0.1.1");

    // --no-packages: the package manager is left alone.
    const before = readFileSync(requests, "utf8");
    const skipped = await installWith(env, tempDir("minivercel-root-"), "--no-systemd", "--no-packages");
    expect(skipped.code).toBe(0);
    expect(readFileSync(requests, "utf8")).toBe(before);
  }, 60_000);

  test("defaults to the latest release; --prefix moves the binary and the unit follows", async () => {
    const other = tempDir("minivercel-root-");
    // Without --no-systemd under --root it only says what it would run.
    const result = await install(other, "--prefix", "/opt/minivercel");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("would run: systemctl");
    expect(versionOf(join(other, "opt/minivercel/bin/minivercel"))).toBe("0.1.1");
    expect(readFileSync(join(other, "etc/systemd/system/minivercel.service"), "utf8")).toContain(
      "ExecStart=/opt/minivercel/bin/minivercel serve\n",
    );
  }, 60_000);
});

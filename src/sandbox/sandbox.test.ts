// Build sandbox: real bubblewrap runs (as root, after scripts/services.sh sandbox), one test per isolation promise.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  describeProblem,
  platformBinary,
  runSandboxed,
  SANDBOX_BUN_DIR,
  type SandboxResult,
  type SandboxRun,
  sandboxProblem,
} from "./sandbox.ts";

const LIMITS = { memoryBytes: 512 * 1024 * 1024, pids: 256, timeoutMs: 20_000 };
const cleanup: string[] = [];

/** A private (0700) temp dir: the sandbox must work even when the workspace's parents are not searchable. */
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "minivercel-sandbox-test-"));
  cleanup.push(dir);
  const inner = path.join(dir, "ws");
  fs.mkdirSync(inner);
  return inner;
}

interface Outcome extends SandboxResult {
  stdout: string;
  stderr: string;
}

async function run(command: string, options: Partial<SandboxRun> = {}): Promise<Outcome> {
  let stdout = "";
  let stderr = "";
  const result = await runSandboxed({
    mode: "bwrap",
    workspace: options.workspace ?? tempDir(),
    cwd: "",
    command,
    env: {},
    network: "none",
    limits: LIMITS,
    ...options,
    onOutput: (stream, text) => {
      options.onOutput?.(stream, text);
      if (stream === "stdout") stdout += text;
      else stderr += text;
    },
  });
  return { ...result, stdout, stderr };
}

/** Host pids whose command line contains `marker` (how tests find processes started inside a sandbox). */
function hostPidsWith(marker: string): number[] {
  return fs
    .readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
    .filter((entry) => {
      try {
        return fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ").includes(marker);
      } catch {
        return false;
      }
    })
    .map(Number);
}

function parentOf(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return null;
  }
}

/** Whether `pid` is a live process (a zombie waiting for init to reap it is not). */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !check(); waited += 20) {
    if (waited > 10_000) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

// Setup errors are kept and rethrown by every test, so a missing sandbox fails the run instead of skipping it.
let unavailable: Error | null = new Error("beforeAll did not run");

beforeAll(() => {
  const script = new URL("../../scripts/services.sh", import.meta.url).pathname;
  const setup = Bun.spawnSync([script, "sandbox"], { stdout: "pipe", stderr: "pipe" });
  const problem = sandboxProblem();
  unavailable =
    problem === null
      ? null
      : new Error(
          `no build sandbox here: ${describeProblem(problem)} (\`${script} sandbox\`: ${setup.stderr.toString()})`,
        );
});

afterAll(() => {
  for (const dir of cleanup) fs.rmSync(dir, { recursive: true, force: true });
});

function ready(): void {
  if (unavailable !== null) throw unavailable;
}

describe("bwrap", () => {
  test("read-only binds: the platform's binary runs as bun, a bundle is readable and never writable", async () => {
    ready();
    const bundle = tempDir();
    fs.writeFileSync(path.join(bundle, "index.mjs"), "console.log(21 * 2);\n");
    const result = await run(
      "bun /var/task/index.mjs; (echo x >/var/task/new) 2>/dev/null || echo refused; " +
        "(echo x >>/var/task/index.mjs) 2>/dev/null || echo refused; (echo x >/opt/minivercel/bin/bun) 2>/dev/null || echo refused",
      {
        readOnly: [platformBinary(), { source: bundle, target: "/var/task" }],
        env: { PATH: `${SANDBOX_BUN_DIR}:/usr/bin:/bin`, BUN_BE_BUN: "1" },
      },
    );
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("42\nrefused\nrefused\nrefused\n");
    expect(result.exitCode).toBe(0);
    expect(fs.readFileSync(path.join(bundle, "index.mjs"), "utf8")).toBe("console.log(21 * 2);\n");
  });

  test("streams output as it arrives and reports the exit code", async () => {
    ready();
    const arrivals: number[] = [];
    const started = performance.now();
    const result = await run("echo first; sleep 0.4; echo second; printf 'ünïcödé\\n' >&2; exit 7", {
      onOutput: () => arrivals.push(performance.now() - started),
    });
    expect(result.stdout).toBe("first\nsecond\n");
    expect(result.stderr).toBe("ünïcödé\n");
    expect(result).toMatchObject({ exitCode: 7, timedOut: false, canceled: false, memoryExceeded: false });
    // The first line was delivered while the command was still sleeping.
    expect(arrivals[0] ?? Number.POSITIVE_INFINITY).toBeLessThan(result.durationMs - 300);
  });

  test("runs in the validated cwd and rejects escapes before running anything", async () => {
    ready();
    const workspace = tempDir();
    fs.mkdirSync(path.join(workspace, "app"));
    expect((await run("pwd", { workspace, cwd: "app/" })).stdout).toBe("/workspace/app\n");
    for (const cwd of ["../..", "..", "app/../../x", "/etc", "a\0b"]) {
      const outputs: string[] = [];
      const attempt = run("touch /workspace/ran", {
        workspace,
        cwd,
        onOutput: (_, text) => outputs.push(text),
      });
      await expect(attempt).rejects.toThrow(/working directory/);
      expect(outputs).toEqual([]);
    }
    expect(fs.existsSync(path.join(workspace, "ran"))).toBe(false);
  });

  test("sees only the environment it is given, and no inherited descriptors", async () => {
    ready();
    const saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = "postgres://platform:hunter2-secret@127.0.0.1/minivercel";
    try {
      const result = await run("env; echo ---; tr '\\0' '\\n' </proc/1/environ; echo ---; ls /proc/self/fd", {
        env: { FOO: "bar baz", NODE_ENV: "production" },
      });
      expect(result.stdout).not.toContain("hunter2-secret");
      expect(result.stdout).not.toContain("DATABASE_URL");
      expect(result.stdout).toContain("FOO=bar baz\n");
      expect(result.stdout).toContain("NODE_ENV=production\n");
      expect(result.stdout).toContain("HOME=/tmp/home\n");
      expect(result.stdout).toContain("CI=1\n");
      // stdin, stdout, stderr, and the directory `ls` itself opened.
      expect(result.stdout.split("---\n")[2]).toBe("0\n1\n2\n3\n");
    } finally {
      if (saved === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved;
    }
  });

  test("cannot read files outside the workspace", async () => {
    ready();
    const secret = `TOPSECRET-${crypto.randomUUID()}`;
    const secretDir = path.dirname(tempDir());
    const secretFile = path.join(secretDir, "secret.txt");
    const rootFile = `/root/minivercel-sandbox-test-${process.pid}.txt`;
    fs.writeFileSync(secretFile, secret);
    fs.writeFileSync(rootFile, secret);
    try {
      const result = await run(
        `cat ${secretFile} ${rootFile} /etc/shadow; ls -A /; ls /root /home /work /var /run; cat /etc/passwd; id -u`,
      );
      expect(result.stdout + result.stderr).not.toContain(secret);
      expect(result.stdout).toContain(
        ["bin", "dev", "etc", "lib", "lib64", "proc", "sbin", "tmp", "usr", "workspace"].join("\n"),
      );
      expect(result.stderr).toContain("cannot access '/root': No such file or directory");
      expect(result.stderr).toContain("cannot access '/work': No such file or directory");
      expect(result.stdout).not.toContain("postgres:");
      expect(result.stdout).toEndWith("\n1000\n");
    } finally {
      fs.rmSync(rootFile, { force: true });
    }
  });

  test("writes only to the workspace and cache; /tmp is private and vanishes", async () => {
    ready();
    const workspace = tempDir();
    const cacheDir = tempDir();
    const marker = `minivercel-sandbox-${crypto.randomUUID()}`;
    const result = await run(
      [
        "echo built > /workspace/out.txt && mkdir -p /workspace/dist && echo c > /cache/npm.txt",
        `echo private > /tmp/${marker} && echo tmp-ok`,
        "touch /usr/pwned /etc/pwned /pwned 2>&1 | wc -l",
        `ls /tmp/${marker}`,
      ].join("; "),
      { workspace, cacheDir },
    );
    expect(result.stdout).toBe(`tmp-ok\n3\n/tmp/${marker}\n`);
    expect(fs.readFileSync(path.join(workspace, "out.txt"), "utf8")).toBe("built\n");
    expect(fs.readFileSync(path.join(cacheDir, "npm.txt"), "utf8")).toBe("c\n");
    expect(fs.existsSync(`/tmp/${marker}`)).toBe(false);
    expect(fs.existsSync("/usr/pwned") || fs.existsSync("/etc/pwned") || fs.existsSync("/pwned")).toBe(false);
    // Handed back to the caller's owner, who can delete it all.
    expect(fs.statSync(path.join(workspace, "dist")).uid).toBe(fs.statSync(path.dirname(workspace)).uid);
    const again = await run(`ls /tmp/${marker}`, { workspace });
    expect(again.exitCode).not.toBe(0);
    fs.rmSync(workspace, { recursive: true });
  });

  test("cannot create nested user namespaces (bwrap --disable-userns)", async () => {
    ready();
    // A user namespace of its own would make the build root in it: mounts, and the kernel's wider surface.
    const result = await run(
      "unshare --user true && echo NESTED-USERNS; unshare --user --map-root-user id -u && echo NESTED-ROOT",
    );
    expect(result.stdout).not.toContain("NESTED-");
    expect(result.stderr).toContain("unshare failed");
  });

  test("/usr is a read-only mount, not just unwritable to the build uid", async () => {
    ready();
    const marker = `pwned-${crypto.randomUUID()}`;
    const result = await run(
      `cat /proc/self/mountinfo; touch /usr/${marker}; mkdir /usr/${marker}-dir; ls -d /usr/${marker}*`,
    );
    // proc(5): field 5 is the mount point, field 6 its per-mount options; the last /usr entry is the one seen.
    const usr = result.stdout
      .split("\n")
      .map((line) => line.split(" "))
      .filter((fields) => fields[4] === "/usr")
      .at(-1);
    expect(usr?.[5]?.split(",")).toContain("ro");
    // EROFS, not EACCES: a writable bind would be refused by permissions alone, and this would tell.
    expect(result.stderr).toContain(`cannot touch '/usr/${marker}': Read-only file system`);
    expect(result.stderr).toContain(`cannot create directory '/usr/${marker}-dir': Read-only file system`);
    expect(result.stdout).not.toContain(marker);
    expect(fs.existsSync(`/usr/${marker}`) || fs.existsSync(`/usr/${marker}-dir`)).toBe(false);
  });

  test("concurrent runs get distinct uids", async () => {
    ready();
    const [a, b] = [tempDir(), tempDir()];
    const runs = [run("sleep 0.5", { workspace: a }), run("sleep 0.5", { workspace: b })];
    const owner = (dir: string) => fs.statSync(dir).uid;
    await waitFor(() => owner(a) !== 0 && owner(b) !== 0, "both workspaces to be handed to their runs");
    expect(owner(a)).not.toBe(owner(b));
    await Promise.all(runs);
    expect([owner(a), owner(b)]).toEqual([0, 0]);
  });

  for (const network of ["none", "registry"] as const) {
    test(`network "${network}": host services are unreachable (loopback, own addresses, metadata)`, async () => {
      ready();
      let connections = 0;
      // On 0.0.0.0: reachable through every address the host has.
      const listener = Bun.listen({
        hostname: "0.0.0.0",
        port: 0,
        socket: {
          open(socket) {
            connections++;
            socket.end();
          },
          data() {},
        },
      });
      try {
        const workspace = tempDir();
        fs.writeFileSync(
          path.join(workspace, "probe.js"),
          `const [host, port] = process.argv.slice(2);
const socket = require("node:net").connect({ host, port: Number(port), timeout: 5000 });
socket.on("connect", () => { console.log("CONNECTED " + host); socket.destroy(); });
socket.on("timeout", () => { console.log("FAILED " + host + " timeout"); socket.destroy(); });
socket.on("error", (error) => console.log("FAILED " + host + " " + error.code));`,
        );
        const hostAddresses = Object.values(os.networkInterfaces())
          .flat()
          .filter((address) => address?.family === "IPv4" && !address.internal)
          .map((address) => address?.address ?? "");
        const targets = ["127.0.0.1", "10.0.2.2", ...hostAddresses].map((host) => `${host} ${listener.port}`);
        const probes = [...targets, "169.254.169.254 80", "registry.npmjs.org 443"];
        const result = await run(probes.map((target) => `node probe.js ${target}`).join("; "), {
          workspace,
          network,
        });
        expect(result.stdout.trim().split("\n")).toHaveLength(probes.length);
        expect(result.stdout).toContain("FAILED 127.0.0.1 ECONNREFUSED");
        expect(result.stdout).toContain("FAILED 169.254.169.254 ");
        expect(connections).toBe(0);
        if (network === "registry") {
          expect(result.stdout.match(/CONNECTED .*/g)).toEqual(["CONNECTED registry.npmjs.org"]);
          // Everything of the run is gone when its promise resolves, slirp4netns included.
          expect(hostPidsWith("slirp4netns").filter((pid) => parentOf(pid) === process.pid)).toEqual([]);
        } else {
          expect(result.stdout).not.toContain("CONNECTED");
        }
      } finally {
        listener.stop(true);
      }
    });
  }

  test("a command exceeding the memory limit is killed and reported", async () => {
    ready();
    const result = await run("head -c 500M /dev/zero | tail; echo survived", {
      limits: { ...LIMITS, memoryBytes: 64 * 1024 * 1024 },
    });
    expect(result.memoryExceeded).toBe(true);
    expect(result.stdout).toBe("survived\n");
    const plain = await run("head -c 20M /dev/zero | tail -c 1 >/dev/null", {
      limits: { ...LIMITS, memoryBytes: 64 * 1024 * 1024 },
    });
    expect(plain).toMatchObject({ exitCode: 0, memoryExceeded: false });
  });

  test("the process limit contains a fork loop", async () => {
    ready();
    // Unique per run: another checkout's tests may be forking the same loop on this machine.
    const marker = `30.${1000 + Math.floor(Math.random() * 9000)}`;
    const result = await run(
      `i=0; while [ $i -lt 300 ]; do sleep ${marker} & i=$((i+1)); done; echo spawned-all`,
      {
        limits: { ...LIMITS, pids: 32 },
      },
    );
    expect(result.stdout).not.toContain("spawned-all");
    expect(result.stderr).toMatch(/fork/i);
    expect(result.exitCode).not.toBe(0);
    expect(result.durationMs).toBeLessThan(5000);
    expect(hostPidsWith(`sleep ${marker}`)).toEqual([]);
  });

  test("a timeout kills the whole tree, promptly", async () => {
    ready();
    const marker = `30.${1000 + Math.floor(Math.random() * 9000)}`;
    const other = `31.${1000 + Math.floor(Math.random() * 9000)}`;
    const pending = run(`sleep ${marker} & sleep ${other}; echo never`, {
      limits: { ...LIMITS, timeoutMs: 500 },
    });
    await waitFor(() => hostPidsWith(`sleep ${marker}`).length > 0, "the background child to start");
    const result = await pending;
    expect(result).toMatchObject({ exitCode: null, timedOut: true, canceled: false });
    expect(result.durationMs).toBeLessThan(3000);
    expect(result.stdout).toBe("");
    expect(hostPidsWith(`sleep ${marker}`)).toEqual([]);
    expect(hostPidsWith(`sleep ${other}`)).toEqual([]);
  });

  test("abort cancels: the whole tree is gone when the promise resolves", async () => {
    ready();
    const marker = "30.5151";
    const controller = new AbortController();
    const pending = run(`sleep ${marker} & sleep 30.5252`, { signal: controller.signal });
    await waitFor(() => hostPidsWith(`sleep ${marker}`).length > 0, "the background child to start");
    const abortedAt = performance.now();
    controller.abort();
    const result = await pending;
    expect(performance.now() - abortedAt).toBeLessThan(2000);
    expect(result).toMatchObject({ exitCode: null, timedOut: false, canceled: true });
    expect(hostPidsWith(`sleep ${marker}`)).toEqual([]);
    // Already aborted: nothing runs at all.
    const outputs: string[] = [];
    const early = await run("echo ran", {
      signal: controller.signal,
      onOutput: (_, text) => outputs.push(text),
    });
    expect(early).toMatchObject({ exitCode: null, canceled: true });
    expect(outputs).toEqual([]);
  });

  test("a throwing onOutput cancels the run and rejects once the tree is gone", async () => {
    ready();
    const attempt = run("echo hello; sleep 30.8181", {
      onOutput: () => {
        throw new Error("log store down");
      },
    });
    await expect(attempt).rejects.toThrow("log store down");
    expect(hostPidsWith("sleep 30.8181")).toEqual([]);
  });
});

describe("none", () => {
  test("runs the command with only its env, and kills its tree on timeout", async () => {
    const saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = "postgres://platform:hunter2-secret@127.0.0.1/minivercel";
    try {
      const workspace = tempDir();
      fs.mkdirSync(path.join(workspace, "app"));
      const ok = await run("pwd; env; echo oops >&2; exit 3", {
        mode: "none",
        workspace,
        cwd: "app",
        env: { FOO: "bar" },
      });
      expect(ok).toMatchObject({ exitCode: 3, timedOut: false, canceled: false });
      expect(ok.stdout.split("\n")[0]).toBe(fs.realpathSync(path.join(workspace, "app")));
      expect(ok.stdout).toContain("FOO=bar\n");
      expect(ok.stdout).not.toContain("hunter2-secret");
      expect(ok.stderr).toBe("oops\n");

      const slow = await run("sleep 30.6161 & echo $!; sleep 30.6262", {
        mode: "none",
        workspace,
        limits: { ...LIMITS, timeoutMs: 500 },
      });
      expect(slow).toMatchObject({ exitCode: null, timedOut: true });
      const child = Number(slow.stdout.trim());
      expect(child).toBeGreaterThan(0);
      expect(running(child)).toBe(false);
      await expect(run("true", { mode: "none", workspace, cwd: "../.." })).rejects.toThrow(
        /working directory/,
      );
    } finally {
      if (saved === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved;
    }
  });
});

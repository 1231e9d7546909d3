// The clone step against a real remote git host: a network namespace of its own (203.0.113.5, routed through a
// veth pair, so it is neither the host's address nor on a subnet the host is directly connected to) runs
// `git daemon` and an HTTP server. A network clone runs inside the build sandbox: it clones from the remote,
// while a redirect or a URL aimed at the host's loopback or its own address never reaches a host listener.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { tempDir } from "../src/testing/deps.ts";
import { fixtureRepo } from "../src/testing/repos.ts";
import { type CloneRequest, cloneRepository, clonesInSandbox } from "./git.ts";

const REMOTE = "203.0.113.5";
const tag = crypto.randomUUID().slice(0, 6);
const NS = `mvgit-${tag}`;
const HOST_IF = `mvh-${tag}`;
const NS_IF = `mvn-${tag}`;
const LIMITS = { memoryBytes: 512 * 1024 * 1024, pids: 256, timeoutMs: 30_000 };

const servers: Subprocess[] = [];
let hostConnections = 0;
let hostListener: Bun.TCPSocketListener<undefined>;
let commit = "";

function ip(...args: string[]) {
  const run = Bun.spawnSync(["ip", ...args], { stderr: "pipe" });
  if (run.exitCode !== 0) throw new Error(`ip ${args.join(" ")}: ${run.stderr.toString()}`);
}

/** A process inside the namespace, alive until afterAll. */
function inNamespace(argv: string[]): Subprocess {
  const proc = Bun.spawn(["ip", "netns", "exec", NS, ...argv], { stdout: "ignore", stderr: "inherit" });
  servers.push(proc);
  return proc;
}

async function waitForPort(port: number) {
  for (let i = 0; i < 100; i++) {
    const probe = Bun.spawnSync(["ip", "netns", "exec", NS, "bash", "-c", `: </dev/tcp/${REMOTE}/${port}`]);
    if (probe.exitCode === 0) return;
    await Bun.sleep(50);
  }
  throw new Error(`nothing listens on ${REMOTE}:${port} in ${NS}`);
}

beforeAll(async () => {
  ip("netns", "add", NS);
  ip("link", "add", HOST_IF, "type", "veth", "peer", "name", NS_IF);
  ip("link", "set", NS_IF, "netns", NS);
  ip("addr", "add", "198.51.100.1/30", "dev", HOST_IF);
  ip("link", "set", HOST_IF, "up");
  ip("-n", NS, "link", "set", "lo", "up");
  ip("-n", NS, "addr", "add", `${REMOTE}/32`, "dev", "lo");
  ip("-n", NS, "addr", "add", "198.51.100.2/30", "dev", NS_IF);
  ip("-n", NS, "link", "set", NS_IF, "up");
  ip("-n", NS, "route", "add", "default", "via", "198.51.100.1");
  ip("route", "add", `${REMOTE}/32`, "via", "198.51.100.2");

  const repo = fixtureRepo({ "index.html": "<h1>from the remote</h1>" });
  commit = repo.commit({ "about.html": "<h1>about</h1>" });
  const base = tempDir("minivercel-remote-");
  Bun.spawnSync(["git", "clone", "--quiet", "--bare", repo.dir, join(base, "site.git")]);
  inNamespace([
    "git",
    "daemon",
    "--reuseaddr",
    "--export-all",
    `--base-path=${base}`,
    `--listen=${REMOTE}`,
    "--port=9418",
    "--log-destination=none",
    base,
  ]);
  hostListener = Bun.listen({
    hostname: "0.0.0.0",
    port: 0,
    socket: {
      open(socket) {
        hostConnections += 1;
        socket.end();
      },
      data() {},
    },
  });
  // An HTTP "git host" that sends every request to the platform itself: its loopback, then its own address.
  const own =
    Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === "IPv4" && !a.internal && a.address !== "198.51.100.1")?.address ??
    "198.51.100.1";
  const redirector = `Bun.serve({ hostname: "${REMOTE}", port: 80, fetch(req) {
    const path = new URL(req.url).pathname;
    const to = path.startsWith("/own/") ? "http://${own}:${hostListener.port}/x" : "http://127.0.0.1:${hostListener.port}/x";
    return Response.redirect(to + "/info/refs?service=git-upload-pack", 302);
  } });`;
  inNamespace([process.execPath, "-e", redirector]);
  await waitForPort(9418);
  await waitForPort(80);
}, 60_000);

afterAll(async () => {
  for (const proc of servers) proc.kill();
  await Promise.all(servers.map((proc) => proc.exited));
  hostListener?.stop(true);
  Bun.spawnSync(["ip", "route", "del", `${REMOTE}/32`]);
  Bun.spawnSync(["ip", "link", "del", HOST_IF]);
  Bun.spawnSync(["ip", "netns", "del", NS]);
});

function request(url: string, extra: Partial<CloneRequest> = {}): CloneRequest {
  const dir = join(tempDir("minivercel-clone-"), "src");
  mkdirSync(dir);
  return {
    url,
    branch: "main",
    commitSha: null,
    dir,
    allowLocal: false,
    allowPrivate: false,
    sandbox: { mode: "bwrap", limits: LIMITS },
    ...extra,
  };
}

async function clone(req: CloneRequest): Promise<{ sha: string | null; error: string | null; log: string }> {
  let log = "";
  try {
    const sha = await cloneRepository(req, (_, text) => (log += text), new AbortController().signal);
    return { sha, error: null, log };
  } catch (error) {
    return { sha: null, error: error instanceof Error ? error.message : String(error), log };
  }
}

describe("a network clone runs in the build sandbox", () => {
  test("it clones a branch and a commit from a remote host, files owned as before", async () => {
    const branch = request(`git://${REMOTE}/site.git`);
    expect(clonesInSandbox(branch)).toBe(true);
    const cloned = await clone(branch);
    expect(cloned.error).toBeNull();
    expect(cloned.sha).toBe(commit);
    expect(readFileSync(join(branch.dir, "about.html"), "utf8")).toBe("<h1>about</h1>");

    const pinned = request(`git://${REMOTE}/site.git`, { commitSha: commit, branch: null });
    expect((await clone(pinned)).sha).toBe(commit);
  }, 60_000);

  test("redirects to the host's loopback or its own address never reach a host listener", async () => {
    for (const path of ["/loop/site.git", "/own/site.git"]) {
      const result = await clone(request(`http://${REMOTE}${path}`));
      expect(result.error).toBe("could not fetch branch main from the repository");
    }
    expect(hostConnections).toBe(0);
  }, 60_000);

  test("without a sandbox (ECS, BUILD_SANDBOX=none) the same URL is still checked before connecting", async () => {
    const result = await clone(
      request(`http://127.0.0.1:${hostListener.port}/x.git`, { sandbox: { mode: "none", limits: LIMITS } }),
    );
    expect(result.error).toContain("host 127.0.0.1 is a loopback address");
    expect(hostConnections).toBe(0);
  });
});

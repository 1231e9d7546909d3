// Detection before the first build against a real remote git host: a network namespace of its own (203.0.113.6,
// routed through a veth pair, neither the host's address nor on a subnet the host is directly connected to) runs
// `git daemon` (partial clone allowed, as GitHub and GitLab do) and an HTTP server that redirects to the host. The
// fetch runs in the build sandbox: the files are read from the remote, and nothing reaches a host listener.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { tempDir } from "../testing/deps.ts";
import { fixtureRepo, VITE_APP } from "../testing/repos.ts";
import { type DetectOptions, detectRemote } from "./detect-remote.ts";

const REMOTE = "203.0.113.6";
const tag = crypto.randomUUID().slice(0, 6);
const NS = `mvdet-${tag}`;
const HOST_IF = `mvdh-${tag}`;
const NS_IF = `mvdn-${tag}`;
const SANDBOXED: DetectOptions = { allowLocal: false, allowPrivate: false, sandbox: { mode: "bwrap" } };

const servers: Subprocess[] = [];
let hostConnections = 0;
let hostListener: Bun.TCPSocketListener<undefined>;

function ip(...args: string[]) {
  const run = Bun.spawnSync(["ip", ...args], { stderr: "pipe" });
  if (run.exitCode !== 0) throw new Error(`ip ${args.join(" ")}: ${run.stderr.toString()}`);
}

function inNamespace(argv: string[]): void {
  servers.push(Bun.spawn(["ip", "netns", "exec", NS, ...argv], { stdout: "ignore", stderr: "inherit" }));
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
  ip("addr", "add", "198.51.100.5/30", "dev", HOST_IF);
  ip("link", "set", HOST_IF, "up");
  ip("-n", NS, "link", "set", "lo", "up");
  ip("-n", NS, "addr", "add", `${REMOTE}/32`, "dev", "lo");
  ip("-n", NS, "addr", "add", "198.51.100.6/30", "dev", NS_IF);
  ip("-n", NS, "link", "set", NS_IF, "up");
  ip("-n", NS, "route", "add", "default", "via", "198.51.100.5");
  ip("route", "add", `${REMOTE}/32`, "via", "198.51.100.6");

  const repo = fixtureRepo({ ...VITE_APP, "media/big.bin": "x".repeat(2_000_000) });
  repo.commit({ Procfile: "web: node server.js\n", "server.js": "1" }, "server");
  const base = tempDir("minivercel-detect-remote-");
  const bare = join(base, "site.git");
  Bun.spawnSync(["git", "clone", "--quiet", "--bare", "--no-local", repo.dir, bare]);
  Bun.spawnSync(["git", "-C", bare, "config", "uploadpack.allowFilter", "true"]);
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
  const redirector = `Bun.serve({ hostname: "${REMOTE}", port: 80, fetch() {
    return Response.redirect("http://127.0.0.1:${hostListener.port}/x/info/refs?service=git-upload-pack", 302);
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

test("the sandbox reads the branch's files from the remote host, and the detector names the framework", async () => {
  const vite = await detectRemote(`git://${REMOTE}/site.git`, "main", "", SANDBOXED);
  if (!vite.ok) throw new Error(vite.problem);
  expect(vite.settings).toMatchObject({
    framework: "vite",
    installCommand: "npm install",
    buildCommand: "npm run build",
    outputDirectory: "dist",
  });
  const server = await detectRemote(`git://${REMOTE}/site.git`, "server", "", SANDBOXED);
  expect(server.ok && server.settings).toMatchObject({ startCommand: "node server.js", startAlways: false });
  const missing = await detectRemote(`git://${REMOTE}/site.git`, "nope", "", SANDBOXED);
  expect(missing).toEqual({
    ok: false,
    field: "branch",
    problem: "Git repository could not be read: it has no branch nope",
  });
}, 60_000);

test("a redirect to the host's loopback never reaches a host listener", async () => {
  const found = await detectRemote(`http://${REMOTE}/site.git`, "main", "", SANDBOXED);
  expect(found.ok).toBe(false);
  expect(hostConnections).toBe(0);
}, 60_000);

test("an unreachable host times out as a problem, not an error", async () => {
  const found = await detectRemote("git://203.0.113.99/site.git", "main", "", {
    ...SANDBOXED,
    timeoutMs: 3000,
  });
  expect(found).toMatchObject({ ok: false, field: "gitUrl" });
}, 60_000);

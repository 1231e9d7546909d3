// Restarts lose no deployment: queued ones start after a restart, a build the restart interrupted is rebuilt,
// one that finishes within SHUTDOWN_TIMEOUT_SECONDS is applied before exit, and `logs --follow` rides it out.

import { afterAll, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { tempDir } from "./testing/deps.ts";
import { call, killLeftovers, lifecycleEnv, startServe, tokenFor, until } from "./testing/lifecycle.ts";
import { fixtureRepo } from "./testing/repos.ts";

afterAll(killLeftovers);

const MAIN = resolve(import.meta.dir, "main.ts");
const terminal = (d: Record<string, unknown>) => ["READY", "FAIL", "CANCELED"].includes(String(d.status));

/** A project built by `sh build.sh` into dist/ (BUILD_SANDBOX=none: the script may look at host files). */
async function scriptProject(base: string, token: string, name: string, script: string) {
  const repo = fixtureRepo({
    "build.sh": `${script}\nmkdir -p dist && echo '<p>${name}</p>' > dist/index.html\n`,
  });
  return call(base, token, "POST", "/api/projects", {
    name,
    gitUrl: repo.url,
    installCommand: "true",
    buildCommand: "sh build.sh",
    outputDirectory: "dist",
  });
}

/** A port free right now, so a restarted server comes back where its clients expect it. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", () => r()));
  const address = probe.address();
  await new Promise<void>((r) => probe.close(() => r()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

async function logText(base: string, token: string, id: string): Promise<string> {
  const page = await call(base, token, "GET", `/api/deployments/${id}/logs?limit=1000`);
  return (page.items as { text: string }[]).map((l) => l.text).join("\n");
}

test("SIGTERM mid-build: queued deployments start after the restart, the interrupted one is rebuilt; all READY", async () => {
  const gate = join(tempDir(), "gate");
  writeFileSync(gate, "");
  const env = lifecycleEnv({
    PORT: String(await freePort()),
    BUILD_CONCURRENCY: "1",
    BUILD_SANDBOX: "none",
    SHUTDOWN_TIMEOUT_SECONDS: "1",
  });
  const token = await tokenFor(env);
  let server = await startServe(env);
  // Slow only while the gate file exists: the rebuild after the restart goes straight through.
  const slow = await scriptProject(
    server.api,
    token,
    "slow",
    `echo building; while [ -e '${gate}' ]; do sleep 0.1; done`,
  );
  const quick = [
    await scriptProject(server.api, token, "quick-a", "echo a"),
    await scriptProject(server.api, token, "quick-b", "echo b"),
  ];
  const first = await call(server.api, token, "POST", "/api/deploy", { projectId: slow.id });
  const started = Date.now() + 60_000;
  while (!(await logText(server.api, token, String(first.id))).includes("building")) {
    if (Date.now() > started) throw new Error("the slow build never started");
    await Bun.sleep(100);
  }
  // Someone watching: `logs --follow` rides out the restart and goes on to the rebuild.
  const follow = Bun.spawn([process.execPath, MAIN, "logs", "--follow", String(first.id)], {
    env: { ...env, MINIVERCEL_URL: server.api, MINIVERCEL_TOKEN: token },
    stdout: "pipe",
    stderr: "pipe",
  });
  const followed = new Response(follow.stdout).text();
  const notices = new Response(follow.stderr).text();
  const queued = [];
  for (const p of quick)
    queued.push(await call(server.api, token, "POST", "/api/deploy", { projectId: p.id }));
  await Bun.sleep(500);
  for (const q of queued)
    expect((await call(server.api, token, "GET", `/api/deployments/${q.id}`)).status).toBe("QUEUED");

  server.proc.kill("SIGTERM");
  expect(await server.proc.exited).toBe(0);
  expect(server.output()).toContain("waiting up to 1 s for 1 build(s) to finish");
  rmSync(gate);

  server = await startServe(env);
  for (const q of queued)
    expect((await until(server.api, token, String(q.id), terminal)).status).toBe("READY");
  const interrupted = await call(server.api, token, "GET", `/api/deployments/${first.id}`);
  expect(interrupted.status).toBe("FAIL");
  const reason = String(interrupted.statusReason);
  const rebuildId = /^the platform restarted during this build; rebuilding it as (\S+)$/.exec(reason)?.[1];
  if (!rebuildId) throw new Error(`unexpected reason: ${reason}`);
  const rebuild = await until(server.api, token, rebuildId, terminal);
  expect(rebuild.status).toBe("READY");
  expect({ branch: rebuild.branch, target: rebuild.target, commitSha: rebuild.commitSha }).toEqual({
    branch: interrupted.branch,
    target: interrupted.target,
    commitSha: interrupted.commitSha,
  });
  // The interrupted log says what happened, not the builder's own "Build canceled.".
  const log = await logText(server.api, token, String(first.id));
  expect(log).toContain(`Stopped: the platform is restarting. This build is queued again as ${rebuildId}.`);
  expect(log).not.toContain("Build canceled.");
  expect(await follow.exited).toBe(0);
  expect(await notices).toContain(`following its rebuild ${rebuildId}`);
  expect((await followed).match(/^building$/gm)).toHaveLength(2); // the interrupted build, then the rebuild
  server.proc.kill("SIGTERM");
  expect(await server.proc.exited).toBe(0);
}, 120_000);

test("a build that ends within the grace period is applied before exit; `logs --follow` resumes across the restart", async () => {
  const env = lifecycleEnv({
    PORT: String(await freePort()),
    BUILD_SANDBOX: "none",
    SHUTDOWN_TIMEOUT_SECONDS: "60",
  });
  const token = await tokenFor(env);
  let server = await startServe(env);
  const project = await scriptProject(
    server.api,
    token,
    "steady",
    "i=1; while [ $i -le 20 ]; do echo line-$i; i=$((i+1)); sleep 0.15; done",
  );
  const deployment = await call(server.api, token, "POST", "/api/deploy", { projectId: project.id });
  const follow = Bun.spawn([process.execPath, MAIN, "logs", "--follow", String(deployment.id)], {
    env: { ...env, MINIVERCEL_URL: server.api, MINIVERCEL_TOKEN: token },
    stdout: "pipe",
    stderr: "pipe",
  });
  const followed = new Response(follow.stdout).text();
  const notices = new Response(follow.stderr).text();
  const started = Date.now() + 60_000;
  while (!(await logText(server.api, token, String(deployment.id))).includes("line-3")) {
    if (Date.now() > started) throw new Error("the build never printed");
    await Bun.sleep(50);
  }

  server.proc.kill("SIGTERM");
  // Stops only once the build has ended and its events are applied.
  expect(await server.proc.exited).toBe(0);
  expect(server.output()).toContain("waiting up to");
  server = await startServe(env);
  const done = await call(server.api, token, "GET", `/api/deployments/${deployment.id}`);
  expect(done.status).toBe("READY");
  const stored = await logText(server.api, token, String(deployment.id));
  for (let i = 1; i <= 20; i++) expect(stored).toContain(`line-${i}`);

  // The follower heard the restart, came back after its last line, and saw every line once, then READY.
  expect(await follow.exited).toBe(0);
  const out = (await followed).split("\n");
  for (let i = 1; i <= 20; i++) expect(out.filter((l) => l === `line-${i}`)).toHaveLength(1);
  expect(await notices).toContain("The server is restarting; reconnecting…");
  server.proc.kill("SIGTERM");
  expect(await server.proc.exited).toBe(0);
}, 120_000);

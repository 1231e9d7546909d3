// Crash safety: kill -9 the platform mid-build; its builder dies with it, and after a restart the deployment is
// FAIL with a reason and queued again as a new deployment.

import { afterAll, expect, test } from "bun:test";
import { resolve } from "node:path";
import type { Subprocess } from "bun";
import { tempDir } from "../testing/deps.ts";
import { fixtureRepo } from "../testing/repos.ts";

const MAIN = resolve(import.meta.dir, "../main.ts");
const data = tempDir();
const env = {
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  HOME: data,
  MINIVERCEL_DATA: data,
  PORT: "0",
  PROXY_PORT: "0",
  MINIVERCEL_ROLE: "api,worker",
  MINIVERCEL_ALLOW_LOCAL_GIT: "1",
  DEPLOYMENT_PROTECTION_DEFAULT: "none",
};
const servers: Subprocess[] = [];
afterAll(() => {
  for (const s of servers) s.kill("SIGKILL");
});

async function cli(args: string[], stdin?: string): Promise<string> {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], {
    env,
    stdin: stdin ? new Blob([stdin]) : "ignore",
    stdout: "pipe",
  });
  const out = await new Response(proc.stdout).text();
  expect(await proc.exited).toBe(0);
  return out.trim();
}

/** Starts `serve` and returns its API base URL, read from the start-up message. */
async function serve(): Promise<string> {
  const proc = Bun.spawn([process.execPath, MAIN, "serve"], { env, stdout: "pipe", stderr: "inherit" });
  servers.push(proc);
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of proc.stdout) {
    text += decoder.decode(chunk, { stream: true });
    const match = /dashboard and API: (http:\/\/\S+)/.exec(text);
    if (match?.[1]) return match[1];
  }
  throw new Error(`serve exited early:\n${text}`);
}

test("kill -9 during a build: the build's processes die; the restarted platform fails the deployment and rebuilds it", async () => {
  await cli(["user", "create", "ops@example.com", "--password-stdin"], "a long password\n");
  const token = await cli(["token", "create", "ops@example.com"]);
  const call = async (base: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return (await res.json()) as Record<string, unknown>;
  };

  const marker = `mv-crash-${crypto.randomUUID().slice(0, 8)}`;
  const repo = fixtureRepo({
    "package.json": JSON.stringify({
      name: "slow",
      scripts: { build: `echo started; sleep 300 # ${marker}` },
    }),
  });
  let base = await serve();
  const project = await call(base, "POST", "/api/projects", {
    name: "Crash",
    gitUrl: repo.url,
    installCommand: "true",
  });
  const deployment = await call(base, "POST", "/api/deploy", { projectId: project.id });
  const until = Date.now() + 60_000;
  for (;;) {
    const page = await call(base, "GET", `/api/deployments/${deployment.id}/logs`);
    // The build's own line, not the log's "Running ..." line that quotes the command before it starts.
    if ((page.items as { text: string }[]).some((line) => line.text === "started")) break;
    if (Date.now() > until) throw new Error("build never started");
    await Bun.sleep(100);
  }
  expect(Bun.spawnSync(["pgrep", "-f", marker]).exitCode).toBe(0);

  const server = servers[servers.length - 1];
  server?.kill("SIGKILL");
  await server?.exited;
  // The builder's lifeline (stdin) is cut: it stops its sandbox; nothing of the build survives.
  const gone = Date.now() + 20_000;
  while (Bun.spawnSync(["pgrep", "-f", marker]).exitCode === 0 && Date.now() < gone) await Bun.sleep(200);
  expect(Bun.spawnSync(["pgrep", "-f", marker]).exitCode).not.toBe(0);

  base = await serve();
  const after = Date.now() + 10_000;
  let status: Record<string, unknown> = {};
  while (Date.now() < after) {
    status = await call(base, "GET", `/api/deployments/${deployment.id}`);
    if (status.status !== "IN_PROGRESS") break;
    await Bun.sleep(100);
  }
  expect(status.status).toBe("FAIL");
  expect(String(status.statusReason)).toContain("restarted");
  // A platform restart does not cost the deployment: the same commit is queued again as a new one.
  const rebuildId = /rebuilding it as (\S+)$/.exec(String(status.statusReason))?.[1];
  const rebuild = await call(base, "GET", `/api/deployments/${rebuildId}`);
  expect(rebuild.status === "QUEUED" || rebuild.status === "IN_PROGRESS").toBe(true);
  expect(rebuild.commitSha).toBe(status.commitSha);
}, 120_000);

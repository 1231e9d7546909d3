// Backup and restore as an operator runs them: a backup taken during a deploy, restored into a new data
// directory, serves the same sites and logs; the build that was running ends, the queued one builds.

import { afterAll, expect, test } from "bun:test";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { tempDir } from "../testing/deps.ts";
import { fixtureRepo } from "../testing/repos.ts";

const MAIN = resolve(import.meta.dir, "../main.ts");
const servers: Subprocess[] = [];
afterAll(async () => {
  for (const s of servers) s.kill("SIGKILL");
});

function envFor(data: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    // Not the data directory: Bun keeps a cache in $HOME, and restore wants an empty target.
    HOME: tempDir("minivercel-backup-home-"),
    MINIVERCEL_DATA: data,
    PORT: "0",
    PROXY_PORT: "0",
    MINIVERCEL_ALLOW_LOCAL_GIT: "1",
    DEPLOYMENT_PROTECTION_DEFAULT: "none",
    // The fixtures are ours; the sandbox is not what this test is about.
    BUILD_SANDBOX: "none",
    ...extra,
  };
}

async function cli(env: Record<string, string>, args: string[], stdin?: string) {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], {
    env,
    stdin: stdin ? new Blob([stdin]) : "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

interface Server {
  proc: Subprocess;
  api: string;
  proxy: string;
}

async function serve(env: Record<string, string>): Promise<Server> {
  const proc = Bun.spawn([process.execPath, MAIN, "serve"], { env, stdout: "pipe", stderr: "inherit" });
  servers.push(proc);
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const chunk = await reader.read();
    if (chunk.done) throw new Error(`serve exited early:\n${text}`);
    text += decoder.decode(chunk.value, { stream: true });
    const api = /dashboard and API: (http:\/\/\S+)/.exec(text)?.[1];
    const proxy = /sites: +http:\/\/\S+:(\d+)/.exec(text)?.[1];
    if (api && proxy) {
      // Keep reading, so the server's later log lines never meet a closed pipe.
      void (async () => {
        while (!(await reader.read()).done);
      })();
      return { proc, api, proxy: `http://127.0.0.1:${proxy}` };
    }
  }
}

async function stop(server: Server): Promise<void> {
  server.proc.kill("SIGTERM");
  const code = await Promise.race([server.proc.exited, Bun.sleep(60_000).then(() => null)]);
  if (code === null) server.proc.kill("SIGKILL");
  await server.proc.exited;
}

type Json = Record<string, unknown>;

test("a backup taken during a deploy restores to a server that serves the same sites and logs", async () => {
  const data = tempDir("minivercel-backup-src-");
  const env = envFor(data, { BUILD_CONCURRENCY: "1" });
  expect(
    (await cli(env, ["user", "create", "ops@example.com", "--password-stdin"], "a long password\n")).code,
  ).toBe(0);
  const token = (await cli(env, ["token", "create", "ops@example.com"])).stdout.trim();
  const client = (server: Server) => async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.api}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return (text ? JSON.parse(text) : {}) as Json;
  };
  const waitFor = async (server: Server, id: string, done: (d: Json) => boolean) => {
    const until = Date.now() + 120_000;
    for (;;) {
      const d = await client(server)("GET", `/api/deployments/${id}`);
      if (done(d)) return d;
      if (Date.now() > until) throw new Error(`deployment ${id} stuck in ${d.status} (${d.statusReason})`);
      await Bun.sleep(100);
    }
  };
  const terminal = (d: Json) => ["READY", "FAIL", "CANCELED"].includes(String(d.status));
  const logTexts = async (server: Server, id: string) =>
    ((await client(server)("GET", `/api/deployments/${id}/logs?limit=5000`)).items as { text: string }[]).map(
      (l) => l.text,
    );
  const site = async (server: Server, host: string, path: string) => {
    const res = await fetch(`${server.proxy}${path}`, { headers: { host } });
    return { status: res.status, bytes: new Uint8Array(await res.arrayBuffer()) };
  };

  let server = await serve(env);
  let api = client(server);
  // Site A: READY before the backup.
  const repoA = fixtureRepo({ "index.html": "<h1>site A</h1>\n", "img/dot.bin": "\u0000\u0001\u0002binary" });
  const a = await api("POST", "/api/projects", { name: "Site A", subDomain: "site-a", gitUrl: repoA.url });
  const deployA = await api("POST", "/api/deploy", { projectId: a.id });
  expect((await waitFor(server, String(deployA.id), terminal)).status).toBe("READY");
  const pageA = await site(server, "site-a.localhost", "/");
  const dotA = await site(server, "site-a.localhost", "/img/dot.bin");
  expect(new TextDecoder().decode(pageA.bytes)).toBe("<h1>site A</h1>\n");
  const logsA = await logTexts(server, String(deployA.id));
  expect(logsA.length).toBeGreaterThan(2);

  // B: building (slow) while the backup runs. C: queued behind it, with a secret env var in its output.
  const marker = `mv-backup-${crypto.randomUUID().slice(0, 8)}`;
  const repoB = fixtureRepo({
    "package.json": JSON.stringify({
      name: "slow",
      scripts: { build: `echo started; sleep 120 # ${marker}` },
    }),
  });
  const b = await api("POST", "/api/projects", { name: "Slow", gitUrl: repoB.url, installCommand: "true" });
  const deployB = await api("POST", "/api/deploy", { projectId: b.id });
  const until = Date.now() + 60_000;
  while (!(await logTexts(server, String(deployB.id))).some((l) => l.includes("started"))) {
    if (Date.now() > until) throw new Error("build B never started");
    await Bun.sleep(100);
  }
  const repoC = fixtureRepo({
    "package.json": JSON.stringify({
      name: "queued",
      scripts: { build: 'mkdir -p out && echo "<p>$GREETING</p>" > out/index.html' },
    }),
  });
  const c = await api("POST", "/api/projects", {
    name: "Queued",
    subDomain: "queued",
    gitUrl: repoC.url,
    installCommand: "true",
    outputDirectory: "out",
  });
  // A value per target: the queued production build must get the production one after the restore.
  for (const [value, target] of [
    ["sealed-hello", "production"],
    ["sealed-preview-hello", "preview"],
  ]) {
    const res = await fetch(`${server.api}/api/projects/${c.id}/env/GREETING`, {
      method: "PUT",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ value, target: [target] }),
    });
    expect(res.status).toBe(204);
  }
  const envC = await api("GET", `/api/projects/${c.id}/env`);
  const deployC = await api("POST", "/api/deploy", { projectId: c.id });
  expect(deployC.status).toBe("QUEUED");

  const file = join(tempDir("minivercel-backup-out-"), "site.tar.gz");
  const backup = await cli(env, ["backup", file]);
  expect({ code: backup.code, stderr: backup.stderr }).toMatchObject({ code: 0 });
  expect(backup.stdout).toContain(`written to ${file}`);
  expect((await api("GET", `/api/deployments/${deployB.id}`)).status).toBe("IN_PROGRESS");
  await stop(server);

  const restored = join(tempDir("minivercel-backup-dst-"), "data");
  const envR = envFor(restored, { BUILD_CONCURRENCY: "2" });
  const restore = await cli(envR, ["restore", file]);
  expect({ code: restore.code, stdout: restore.stdout, stderr: restore.stderr }).toMatchObject({
    code: 0,
    stdout: expect.stringContaining(`into ${restored}`),
  });

  server = await serve(envR);
  api = client(server);
  // Byte-identical through the proxy, and the same build log through the API.
  expect(await site(server, "site-a.localhost", "/")).toEqual(pageA);
  expect(await site(server, "site-a.localhost", "/img/dot.bin")).toEqual(dotA);
  expect(await logTexts(server, String(deployA.id))).toEqual(logsA);
  expect((await api("GET", `/api/projects/${a.id}`)).productionDeploymentId).toBe(deployA.id);
  // The build that was running is not left hanging: it ends (the restart recovery may queue it again).
  const endedB = await waitFor(server, String(deployB.id), terminal);
  expect(endedB.status).toBe("FAIL");
  // The variables came back with their targets...
  expect(await api("GET", `/api/projects/${c.id}/env`)).toEqual(envC);
  expect((envC.items as { target: string[] }[]).map((v) => v.target)).toEqual([["production"], ["preview"]]);
  // ...and the queued one builds, with its target's env var decrypted by the restored secret key.
  expect((await waitFor(server, String(deployC.id), terminal)).status).toBe("READY");
  const pageC = await site(server, "queued.localhost", "/");
  expect(new TextDecoder().decode(pageC.bytes)).toBe("<p>sealed-hello</p>\n");
  await stop(server);
}, 300_000);

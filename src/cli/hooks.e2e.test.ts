// `minivercel hooks` as a user runs it, against real api and worker roles: the webhook the CLI adds gets a
// deployment's events from the worker's dispatcher, signed with the secret the CLI printed once, and the CLI's
// delivery log shows the attempts.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { resolve } from "node:path";
import type { Deps } from "../deps.ts";
import { type Running, startRoles } from "../roles.ts";
import { apiClient, type Client, obj, tempDir, testDeps, testUser } from "../testing/deps.ts";

const MAIN = resolve(import.meta.dir, "..", "main.ts");

let deps: Deps;
let roles: Running;
let api: Client;
let env: Record<string, string>;
let projectId: string;
let subDomain: string;

beforeAll(async () => {
  deps = await testDeps({
    PORT: "0",
    LISTEN_HOST: "127.0.0.1",
    MINIVERCEL_ROLE: "api,worker",
    MINIVERCEL_ALLOW_PRIVATE_HOOKS: "1",
    OUTGOING_HOOK_RETRY_BASE_MS: "50",
  });
  roles = await startRoles(deps);
  const { token } = await testUser(deps);
  api = apiClient(deps, token);
  const created = obj((await api("POST", "/api/projects", { name: "Cli hooks" })).body);
  projectId = String(created.id);
  subDomain = String(created.subDomain);
  env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: tempDir("minivercel-cli-home-"),
    MINIVERCEL_URL: (roles.urls.api ?? "").replace("localhost", "127.0.0.1"),
    MINIVERCEL_TOKEN: token,
  };
});

afterAll(async () => {
  await roles.stop();
  await deps.close();
});

async function cli(args: string[]) {
  const proc = Bun.spawn([process.execPath, MAIN, "hooks", ...args, "--project", subDomain], {
    cwd: env.HOME,
    env,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { stdout, stderr, code };
}

test("hooks: add (secret once), events from the worker role verified by the receiver, deliveries, rm", async () => {
  const bad = await cli(["add", "http://127.0.0.1:1/x", "--events", "ready,exploded"]);
  expect(bad.code).toBe(2);
  expect(bad.stderr.trim().split("\n")).toHaveLength(1);
  expect(bad.stderr).toContain("unknown event 'exploded'");
  const refused = await cli(["add", "ftp://example.com/x"]);
  expect(refused.code).toBe(2);
  expect(refused.stderr).toContain("http or https");

  let secret = "";
  const got: { id: string; ok: boolean; type: string }[] = [];
  const receiver = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const body = await req.text();
      const id = req.headers.get("webhook-id") ?? "";
      const ts = req.headers.get("webhook-timestamp") ?? "";
      const key = Buffer.from(secret.slice("whsec_".length), "base64");
      const expected = `v1,${createHmac("sha256", key).update(`${id}.${ts}.${body}`).digest("base64")}`;
      const ok = req.headers.get("webhook-signature") === expected;
      got.push({ id, ok, type: JSON.parse(body).type });
      return new Response(null, { status: ok ? 204 : 401 });
    },
  });
  try {
    const added = await cli([
      "add",
      `http://127.0.0.1:${receiver.port}/in`,
      "--events",
      "created,deployment.ready",
    ]);
    expect(added.code).toBe(0);
    secret = /signing secret \(shown once\): (whsec_\S+)/.exec(added.stdout)?.[1] ?? "";
    expect(secret).not.toBe("");
    const hookId = /^added (\S+)/.exec(added.stdout)?.[1] ?? "";
    const listed = await cli(["ls"]);
    expect(listed.stdout).toContain(hookId);
    expect(listed.stdout).not.toContain(secret);

    const content = "<h1>cli hooks</h1>";
    const hash = new Bun.CryptoHasher("sha256").update(content).digest("hex");
    expect((await api("PUT", `/api/files/${hash}`, content)).status).toBe(204);
    const res = await api("POST", `/api/projects/${projectId}/deployments`, {
      files: { "/index.html": { hash, size: Buffer.byteLength(content) } },
      target: "production",
    });
    expect(res.status).toBe(201);
    const end = Date.now() + 15_000;
    while (got.length < 2 && Date.now() < end) await Bun.sleep(25);
    expect(got.map((g) => g.type).sort()).toEqual(["deployment.created", "deployment.ready"]);
    expect(got.every((g) => g.ok)).toBe(true);

    const log = await cli(["deliveries", hookId]);
    expect(log.code).toBe(0);
    for (const g of got) expect(log.stdout).toContain(g.id);
    expect(log.stdout.match(/ delivered /g)).toHaveLength(2);
    expect(log.stdout).toContain("  204  ");

    const again = await cli(["redeliver", hookId, got[0]?.id ?? ""]);
    expect(again.code).toBe(0);
    while (got.length < 3 && Date.now() < end) await Bun.sleep(25);
    expect(got[2]?.id).toBe(got[0]?.id);

    expect((await cli(["rm", hookId])).code).toBe(0);
    expect((await cli(["ls"])).stdout).toContain("no outgoing webhooks");
    const gone = await cli(["deliveries", hookId]);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr.trim().split("\n")).toHaveLength(1);
  } finally {
    receiver.stop(true);
  }
});

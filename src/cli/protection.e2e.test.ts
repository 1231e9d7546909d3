// `minivercel protection` as a user runs it: real CLI processes against the real api and proxy roles; the token
// the CLI prints opens the protected preview through the proxy, and stops working once the CLI revokes it.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { resolve } from "node:path";
import type { Deps } from "../deps.ts";
import type { Project } from "../model/entities.ts";
import { deploymentHostId } from "../model/urls.ts";
import { type Running, startRoles } from "../roles.ts";
import { apiClient, obj, tempDir, testDeps, testUser } from "../testing/deps.ts";
import { deploySite, eventually } from "../testing/sites.ts";

const MAIN = resolve(import.meta.dir, "..", "main.ts");

let deps: Deps;
let roles: Running;
let env: Record<string, string>;
let project: Project;
let previewHost: string;
let proxyPort: number;

beforeAll(async () => {
  deps = await testDeps({
    PORT: "0",
    PROXY_PORT: "0",
    LISTEN_HOST: "127.0.0.1",
    MINIVERCEL_ROLE: "api,proxy",
    DEPLOYMENT_PROTECTION_DEFAULT: "previews",
    PROXY_RECONCILE_SECONDS: "3600",
  });
  roles = await startRoles(deps);
  proxyPort = Number(new URL((roles.urls.proxy ?? "").replace("<project>", "x")).port);
  const { token } = await testUser(deps);
  const created = await apiClient(deps, token)("POST", "/api/projects", { name: "Docs" });
  project = (await deps.store.projects.find(String(obj(created.body).id))) as Project;
  const preview = await deploySite(deps, project, { "index.html": "cli preview" }, { target: "preview" });
  previewHost = `${project.subDomain}--${deploymentHostId(preview.id)}.localhost:${proxyPort}`;
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

async function cli(args: string[], stdin?: string) {
  const proc = Bun.spawn([process.execPath, MAIN, "protection", ...args, "--project", project.subDomain], {
    cwd: env.HOME,
    env,
    stdin: stdin === undefined ? "ignore" : new Blob([stdin]),
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

const visit = (headers: Record<string, string> = {}) =>
  fetch(`http://127.0.0.1:${proxyPort}/`, { headers: { host: previewHost, ...headers }, redirect: "manual" });

test("protection: show, set, password and a bypass token that opens the preview until it is revoked", async () => {
  expect((await cli(["show"])).stdout).toContain("previews protected");
  const bad = await cli(["set", "everyone"]);
  expect(bad.code).toBe(2);
  expect(bad.stderr.trim().split("\n")).toHaveLength(1);
  expect(bad.stderr).toContain("give a MODE");

  const short = await cli(["password", "set"], "short\n");
  expect(short.code).toBe(2);
  expect(short.stderr.trim().split("\n")).toHaveLength(1);
  const set = await cli(["password", "set"], "long enough 123\n");
  expect(set.code).toBe(0);
  expect((await cli(["show"])).stdout).toContain("password set");

  const created = await cli(["bypass", "create", "ci"]);
  expect(created.code).toBe(0);
  const token = created.stdout.trim();
  expect(token).toStartWith("mvb_");
  await eventually(async () => {
    const opened = await visit({ "x-vercel-protection-bypass": token });
    expect(await opened.text()).toBe("cli preview");
  });
  const id = (await cli(["bypass", "ls"])).stdout.split(/\s+/)[0] ?? "";
  expect((await cli(["bypass", "revoke", id])).code).toBe(0);
  await eventually(async () => {
    const refused = await visit({ "x-vercel-protection-bypass": token });
    expect(refused.status).toBe(401);
  });
  expect((await cli(["bypass", "ls"])).stdout).toContain("no bypass tokens");

  expect((await cli(["set", "none"])).stdout).toContain("not protected");
  await eventually(async () => expect(await (await visit()).text()).toBe("cli preview"));
});

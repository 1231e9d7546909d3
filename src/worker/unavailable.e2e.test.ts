// A server on a host without the sandbox's programs (BUILD_SANDBOX_PATH without bwrap and slirp4netns): it
// starts, and says why builds cannot run and what to run at start, in /api/health, on the dashboard, in the CLI
// and in `minivercel doctor`; it fails a deploy at once with that reason (nothing stays QUEUED), still serves
// prebuilt deploys, and builds again once the programs are there, without a restart. Needs the real sandbox
// (root), as sandbox.test.ts does.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUILD_PROGRAMS } from "../sandbox/packages.ts";
import { HELPER_PATH } from "../sandbox/proc.ts";
import { tempDir } from "../testing/deps.ts";
import {
  call,
  cli,
  killLeftovers,
  lifecycleEnv,
  type ServeProcess,
  startServe,
  tokenFor,
  until,
} from "../testing/lifecycle.ts";
import { fixtureRepo } from "../testing/repos.ts";

afterAll(killLeftovers);

const REMOVED = ["bwrap", "slirp4netns"] as const;
// A name HTML must escape: the problem quotes BUILD_SANDBOX_PATH, and the dashboard must show it as text.
const helperDir = join(tempDir("minivercel-helpers-"), "bin<i>&");
const linkProgram = (name: string) => {
  const found = Bun.which(name, { PATH: HELPER_PATH });
  if (found === null)
    throw new Error(`${name} is missing on this host: run 'bash scripts/services.sh sandbox'`);
  symlinkSync(found, join(helperDir, name));
};

let env: Record<string, string>;
let token: string;
let server: ServeProcess;

beforeAll(async () => {
  mkdirSync(helperDir);
  for (const name of BUILD_PROGRAMS) if (!(REMOVED as readonly string[]).includes(name)) linkProgram(name);
  env = lifecycleEnv({ BUILD_SANDBOX_PATH: helperDir });
  token = await tokenFor(env);
  server = await startServe(env);
}, 60_000);

afterAll(() => server?.proc.kill("SIGKILL"));

const health = async () =>
  (await (await fetch(`${server.api}/api/health`)).json()) as {
    status: string;
    builds: { ready: boolean | null; problem: string | null; fix: string | null };
  };

const buildableProject = (name: string) =>
  call(server.api, token, "POST", "/api/projects", {
    name,
    gitUrl: fixtureRepo({ "index.txt": "hi\n" }).url,
    installCommand: "true",
    buildCommand: "mkdir -p dist && cp index.txt dist/index.html",
    outputDirectory: "dist",
  });

/** Signs in to the dashboard over HTTP as a browser would; returns the session's cookie header. */
async function dashboardCookie(): Promise<string> {
  const form = await fetch(`${server.api}/login`);
  const preSession = form.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  const csrf = /name="_csrf" value="([^"]*)"/.exec(await form.text())?.[1] ?? "";
  const signedIn = await fetch(`${server.api}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: preSession },
    body: new URLSearchParams({ _csrf: csrf, email: "ops@example.com", password: "a long password" }),
  });
  expect(signedIn.status).toBe(303);
  return signedIn.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
}

test("serve starts and says at once why builds cannot run, and the command that fixes it", async () => {
  await server.waitFor(/ fix: +\S/);
  const output = server.output();
  expect(output).toContain("builds:            CANNOT RUN: missing programs: bwrap, slirp4netns");
  expect(output).toMatch(/fix: +(sudo )?\S+ .*bubblewrap slirp4netns/);
});

test("/api/health says builds are not ready, why, and the fix; the server itself is up", async () => {
  const body = await health();
  expect(body.status).toBe("ok");
  expect(body.builds.ready).toBe(false);
  expect(body.builds.problem).toContain("missing programs: bwrap, slirp4netns");
  expect(body.builds.fix).toContain("bubblewrap slirp4netns");
});

test("a deploy fails at once with the reason and the fix; nothing is left QUEUED", async () => {
  const project = await buildableProject("no-sandbox");
  const queued = await call(server.api, token, "POST", "/api/deploy", { projectId: project.id });
  const ended = await until(server.api, token, String(queued.id), (d) => d.status === "FAIL", 15_000);
  expect(ended.status).toBe("FAIL");
  expect(String(ended.statusReason)).toContain(
    "builds cannot run on this server: missing programs: bwrap, slirp4netns",
  );
  expect(String(ended.statusReason)).toContain("fix: ");
  const logs = await fetch(`${server.api}/api/deployments/${queued.id}/logs`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(await logs.text()).toContain("Error: builds cannot run on this server");
});

test("the dashboard shows a banner with the problem and the fix, escaped, on the projects and project pages", async () => {
  const cookie = await dashboardCookie();
  const project = await buildableProject("banner");
  for (const path of ["/", `/projects/${project.id}`]) {
    const page = await (await fetch(`${server.api}${path}`, { headers: { cookie } })).text();
    expect(page).toContain("Builds cannot run on this server");
    expect(page).toContain("missing programs: bwrap, slirp4netns");
    expect(page).toContain("bubblewrap slirp4netns");
    expect(page).toContain("bin&lt;i>&amp;");
    expect(page).not.toContain("bin<i>");
  }
  // Signed out: no banner, the sign-in page.
  const anonymous = await fetch(`${server.api}/login`);
  expect(await anonymous.text()).not.toContain("Builds cannot run");
});

test("the CLI: a source deploy ends with one line naming the problem and the fix; a prebuilt one still works", async () => {
  const cliEnv = { ...env, MINIVERCEL_URL: server.api, MINIVERCEL_TOKEN: token };
  const source = tempDir("minivercel-source-");
  writeFileSync(join(source, "package.json"), JSON.stringify({ scripts: { build: "true" } }));
  const built = await cli(cliEnv, ["deploy", source, "--build"]);
  expect(built.code).toBe(1);
  const last = built.stderr.trim().split("\n").at(-1) ?? "";
  expect(last).toMatch(
    /^minivercel: deployment \S+ FAIL: builds cannot run on this server: missing programs/,
  );
  expect(last).toContain("bubblewrap slirp4netns");

  const site = tempDir("minivercel-site-");
  writeFileSync(join(site, "index.html"), "<p>prebuilt</p>");
  const prebuilt = await cli(cliEnv, ["deploy", site, "--prebuilt"]);
  expect(prebuilt.stderr).not.toContain("builds cannot run");
  expect(prebuilt.code).toBe(0);
});

test("minivercel doctor on the same host: the programs line fails with the same fix; exit 1", async () => {
  const out = await cli(env, ["doctor"]);
  expect(out.code).toBe(1);
  const programs = out.stdout.split("\n").find((l) => l.includes("sandbox programs")) ?? out.stdout;
  expect(programs).toMatch(
    /^FAIL {2}sandbox programs +missing programs: bwrap, slirp4netns .*; fix: .*bubblewrap slirp4netns/,
  );
});

test("once the programs are there, the next deploy builds, with no restart", async () => {
  for (const name of REMOVED) linkProgram(name);
  const deadline = Date.now() + 20_000;
  while ((await health()).builds.ready !== true && Date.now() < deadline) await Bun.sleep(250);
  expect((await health()).builds).toMatchObject({ ready: true, problem: null, fix: null });
  const project = await buildableProject("fixed");
  const queued = await call(server.api, token, "POST", "/api/deploy", { projectId: project.id });
  const ended = await until(
    server.api,
    token,
    String(queued.id),
    (d) => d.status === "READY" || d.status === "FAIL",
  );
  if (ended.status !== "READY") console.error(server.output());
  expect(ended.statusReason ?? null).toBeNull();
  expect(ended.status).toBe("READY");
}, 90_000);

// The client commands as a user runs them: real `bun src/main.ts` processes against a real server (API,
// proxy and worker on free ports), from login to deploys, redeploys that send one file, and rollbacks.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { buildEnv } from "../deploy/env.ts";
import type { Deps } from "../deps.ts";
import { type Running, startRoles } from "../roles.ts";
import { apiClient, obj, tempDir, testDeps, testUser } from "../testing/deps.ts";
import { fixtureRepo } from "../testing/repos.ts";

const MAIN = resolve(import.meta.dir, "..", "main.ts");
const TIMEOUT_MS = 30_000;

let deps: Deps;
let roles: Running;
let apiUrl: string;
let proxyPort: number;
let token: string;
let home: string;
const temps: string[] = [];

beforeAll(async () => {
  deps = await testDeps({
    PORT: "0",
    PROXY_PORT: "0",
    LISTEN_HOST: "127.0.0.1",
    MINIVERCEL_ROLE: "api,worker,proxy",
    // The one build below runs a cp; the sandbox has its own tests.
    BUILD_SANDBOX: "none",
  });
  roles = await startRoles(deps);
  apiUrl = (roles.urls.api ?? "").replace("localhost", "127.0.0.1");
  proxyPort = Number(/:(\d+)$/.exec(roles.urls.proxy ?? "")?.[1]);
  token = (await testUser(deps)).token;
  home = temp("home");
});

afterAll(async () => {
  await roles.stop();
  await deps.close();
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

function temp(prefix: string): string {
  const dir = tempDir(`minivercel-cli-${prefix}-`);
  temps.push(dir);
  return dir;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `bun src/main.ts ...args` with only a user's environment (its config under `home`). */
async function cli(
  args: string[],
  opts: { cwd?: string; stdin?: string; env?: Record<string, string> } = {},
): Promise<Run> {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], {
    cwd: opts.cwd ?? home,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, ...opts.env },
    stdin: opts.stdin === undefined ? "ignore" : new Blob([opts.stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), TIMEOUT_MS);
  try {
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

/** A failure: the exit code, and exactly one line `minivercel: ...` on stderr, no stack trace. */
function expectFailure(run: Run, code: 1 | 2, message: RegExp) {
  const lines = run.stderr.trimEnd().split("\n");
  expect({ code: run.code, lines: lines.length }).toEqual({ code, lines: 1 });
  expect(lines[0]).toMatch(/^minivercel: /);
  expect(lines[0]).toMatch(message);
  expect(run.stderr).not.toMatch(/^\s+at |^error: |^\w*Error: /m);
}

function expectOk(run: Run) {
  if (run.code !== 0) throw new Error(`exit ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
}

/** Blobs in the server's artifact store: what the uploads really added. */
function blobCount(): number {
  const root = join(deps.config.dataDir, "artifacts", "blobs");
  return readdirSync(root).reduce((n, dir) => n + readdirSync(join(root, dir)).length, 0);
}

/** What the proxy serves for `path` of the project's production host, once the route change arrived. */
async function served(subDomain: string, path: string, expected: string): Promise<string> {
  let text = "";
  for (let i = 0; i < 50; i++) {
    const res = await fetch(`http://127.0.0.1:${proxyPort}${path}`, {
      headers: { host: `${subDomain}.localhost` },
    });
    text = await res.text();
    if (text === expected) break;
    await Bun.sleep(50);
  }
  return text;
}

interface DeployResult {
  deploymentId: string;
  projectId: string;
  status: string;
  url: string;
  productionUrl: string | null;
  files: number;
  uploaded: number;
}

function parseDeploy(run: Run): DeployResult {
  expectOk(run);
  return obj(JSON.parse(run.stdout)) as unknown as DeployResult;
}

describe("login", () => {
  test("saves the URL and token in the config dir with mode 0600, after checking them", async () => {
    const run = await cli(["login", apiUrl], { stdin: `${token}\n` });
    expectOk(run);
    expect(run.stderr).toMatch(/^Logged in to http:\/\/127\.0\.0\.1:\d+ as u-\w+@example\.com/);
    const path = join(home, ".config", "minivercel", "config.json");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, ".config", "minivercel")).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({ url: apiUrl, token });

    const xdg = temp("xdg");
    expectOk(await cli(["login", apiUrl, "--token", token], { env: { XDG_CONFIG_HOME: xdg } }));
    expect(statSync(join(xdg, "minivercel", "config.json")).mode & 0o777).toBe(0o600);
  });

  test("a wrong token or an unreachable server is one line, exit 1, and nothing is saved", async () => {
    const xdg = temp("xdg-bad");
    const bad = await cli(["login", apiUrl, "--token", "mv_wrong"], { env: { XDG_CONFIG_HOME: xdg } });
    expectFailure(bad, 1, /refused the token/);
    const down = await cli(["login", "http://127.0.0.1:1", "--token", token], {
      env: { XDG_CONFIG_HOME: xdg },
    });
    expectFailure(down, 1, /cannot reach http:\/\/127\.0\.0\.1:1: connection refused/);
    expect(readdirSync(xdg)).toEqual([]);
    expectFailure(await cli(["login", "ftp://x", "--token", "t"]), 2, /must be http or https/);
  });
});

describe("deploy", () => {
  let site: string;
  let first: DeployResult;
  let second: DeployResult;
  let subDomain: string;
  let originalF3: string;

  beforeAll(() => {
    site = join(temp("site"), "thousand");
    for (let i = 0; i < 1000; i++) {
      mkdirSync(join(site, `d${i % 10}`), { recursive: true });
      writeFileSync(join(site, `d${i % 10}`, `f${i}.html`), `<p>file ${i} ${crypto.randomUUID()}</p>`);
    }
    originalF3 = readFileSync(join(site, "d3", "f3.html"), "utf8");
  });

  test("a 1,000-file folder: every file uploaded, production live, the folder linked", async () => {
    const before = blobCount();
    first = parseDeploy(await cli(["deploy", site, "--prod", "--json"]));
    expect(first).toMatchObject({ status: "READY", files: 1000, uploaded: 1000 });
    expect(blobCount() - before).toBe(1000);
    const project = obj((await apiClient(deps, token)("GET", `/api/projects/${first.projectId}`)).body);
    subDomain = String(project.subDomain);
    expect(project.productionDeploymentId).toBe(first.deploymentId);
    expect(first.productionUrl).toBe(`http://${subDomain}.localhost:${proxyPort}`);
    expect(JSON.parse(readFileSync(join(site, ".minivercel.json"), "utf8"))).toEqual({
      projectId: first.projectId,
    });
    const content = readFileSync(join(site, "d7", "f7.html"), "utf8");
    expect(await served(subDomain, "/d7/f7.html", content)).toBe(content);
  }, 60_000);

  test("a redeploy with one file changed sends exactly that file, and the site serves the change", async () => {
    writeFileSync(join(site, "d3", "f3.html"), "<p>changed</p>");
    const before = blobCount();
    const run = await cli(["deploy", "--prod", "--json"], { cwd: site });
    second = parseDeploy(run);
    expect(second).toMatchObject({ status: "READY", files: 1000, uploaded: 1, projectId: first.projectId });
    expect(blobCount() - before).toBe(1);
    expect(await served(subDomain, "/d3/f3.html", "<p>changed</p>")).toBe("<p>changed</p>");
  }, 60_000);

  test("human output: the URLs on stdout, progress on stderr", async () => {
    writeFileSync(join(site, "d4", "f4.html"), "<p>preview</p>");
    const run = await cli(["deploy"], { cwd: site });
    expectOk(run);
    expect(run.stdout).toMatch(
      new RegExp(`^Deployment: http://${subDomain}--[0-9a-f]{12}\\.localhost:\\d+\\n$`),
    );
    expect(run.stderr).toMatch(/Uploading 1 new file/);
    expect(run.stderr).toMatch(/1 of 1000 distinct files uploaded/);
    // A preview: production still serves the second deployment's file.
    const preview = /^Deployment: (\S+)/.exec(run.stdout)?.[1] ?? "";
    expect(
      await served(new URL(preview).hostname.replace(".localhost", ""), "/d4/f4.html", "<p>preview</p>"),
    ).toBe("<p>preview</p>");
    const production = await fetch(`http://127.0.0.1:${proxyPort}/d4/f4.html`, {
      headers: { host: `${subDomain}.localhost` },
    });
    expect(await production.text()).not.toBe("<p>preview</p>");
  }, 60_000);

  test("ls, logs, rollback and promote", async () => {
    const ls = await cli(["ls"], { cwd: site });
    expectOk(ls);
    expect(ls.stdout).toContain(`* ${second.deploymentId}  READY   production`);
    expect(ls.stdout).toContain(`  ${first.deploymentId}  READY   production`);
    expect(ls.stdout).toMatch(/READY\s+preview/);

    const logs = await cli(["logs", second.deploymentId]);
    expectOk(logs);
    expect(logs.stdout).toMatch(/^Prebuilt deployment of 1000 files/);

    const rollback = await cli(["rollback", "--project", subDomain]);
    expectOk(rollback);
    expect(rollback.stdout).toContain(`now serves ${first.deploymentId}`);
    expect(await served(subDomain, "/d3/f3.html", originalF3)).toBe(originalF3);

    const promote = await cli(["promote", second.deploymentId]);
    expectOk(promote);
    expect(promote.stdout).toContain(`now serves ${second.deploymentId}`);
    expect(await served(subDomain, "/d3/f3.html", "<p>changed</p>")).toBe("<p>changed</p>");

    const projects = await cli(["projects"]);
    expectOk(projects);
    expect(projects.stdout).toMatch(new RegExp(`^${subDomain}\\s+${first.projectId}\\s+http://`, "m"));
  }, 60_000);

  test("env ls, set (argument or stdin), rm; a value per environment with --target", async () => {
    expectOk(await cli(["env", "set", "API_URL", "https://example.com"], { cwd: site }));
    expectOk(await cli(["env", "add", "SECRET", "--project", subDomain], { stdin: "from stdin\n" }));
    const set = await cli(["env", "set", "DATABASE_URL", "postgres://prod", "--target", "production"], {
      cwd: site,
    });
    expectOk(set);
    expect(set.stderr).toBe(
      `Set DATABASE_URL for production on ${subDomain} (used by its next deployments)\n`,
    );
    expectOk(
      await cli(["env", "set", "DATABASE_URL", "--target=preview"], { cwd: site, stdin: "postgres://pr\n" }),
    );
    const ls = await cli(["env", "ls"], { cwd: site });
    expectOk(ls);
    expect(ls.stdout).toMatch(
      /^KEY\s+ENVIRONMENTS\s+UPDATED\nAPI_URL\s+production, preview\s.*\nDATABASE_URL\s+production\s.*\nDATABASE_URL\s+preview\s.*\nSECRET\s+production, preview\s/,
    );
    expect(ls.stdout).not.toContain("from stdin");
    expect(ls.stdout).not.toContain("postgres://");
    const previews = await cli(["env", "ls", "--target", "preview"], { cwd: site });
    expect(previews.stdout.split("\n").filter((l) => l.startsWith("DATABASE_URL"))).toHaveLength(1);
    const projectId = (await deps.store.projects.routes()).find((p) => p.subDomain === subDomain)?.id ?? "";
    const seen = (target: "production" | "preview") => buildEnv(deps.store, deps.sealer, projectId, target);
    expect(await seen("production")).toEqual({
      API_URL: "https://example.com",
      DATABASE_URL: "postgres://prod",
      SECRET: "from stdin",
    });
    expect((await seen("preview")).DATABASE_URL).toBe("postgres://pr");

    // Removing one environment's value keeps the other's.
    expectOk(await cli(["env", "rm", "DATABASE_URL", "--target", "preview"], { cwd: site }));
    expect((await seen("production")).DATABASE_URL).toBe("postgres://prod");
    expect((await seen("preview")).DATABASE_URL).toBeUndefined();
    expectFailure(
      await cli(["env", "rm", "DATABASE_URL", "--target", "preview"], { cwd: site }),
      2,
      /variable not found/,
    );
    expectOk(await cli(["env", "rm", "API_URL"], { cwd: site }));
    expect((await cli(["env", "ls"], { cwd: site })).stdout).not.toContain("API_URL");
    expectFailure(await cli(["env", "rm", "API_URL"], { cwd: site }), 2, /variable not found/);
    expectFailure(await cli(["env", "set", "1BAD", "x"], { cwd: site }), 2, /variable names must start/);

    // Bad flags: one line, exit 2, nothing sent.
    expectFailure(
      await cli(["env", "set", "K", "v", "--target", "staging"], { cwd: site }),
      2,
      /--target must be production or preview \(not 'staging'\)/,
    );
    expectFailure(
      await cli(["env", "set", "K", "v", "--target"], { cwd: site }),
      2,
      /--target needs a value/,
    );
    expectFailure(await cli(["env", "ls", "--environment", "preview"], { cwd: site }), 2, /unknown option/);
    expect(await seen("preview")).toEqual({ SECRET: "from stdin" });
  }, 60_000);

  test("projects set: the app server settings, saved on the server; bad values are one line, exit 2", async () => {
    const set = await cli(
      ["projects", "set", "--start-command", "node server.js", "--idle-minutes", "0", "--max-instances", "3"],
      { cwd: site },
    );
    expectOk(set);
    expect(set.stdout).toContain("start command   node server.js");
    expect(set.stdout).toContain("idle minutes    0 (always on)");
    const linked = JSON.parse(readFileSync(join(site, ".minivercel.json"), "utf8")) as { projectId: string };
    const stored = await deps.store.projects.find(linked.projectId);
    expect([stored?.startCommand, stored?.idleTimeoutMinutes, stored?.maxInstances]).toEqual([
      "node server.js",
      0,
      3,
    ]);
    const cleared = await cli([
      "projects",
      "set",
      "--start-command=",
      "--idle-minutes=",
      "--project",
      subDomain,
    ]);
    expectOk(cleared);
    expect(cleared.stdout).toContain("(detected after the build)");
    expect(cleared.stdout).toContain("15 (default)");
    expectFailure(
      await cli(["projects", "set", "--max-instances", "50"], { cwd: site }),
      2,
      /maxInstances: must be a whole number from 1 to 20/,
    );
    expectFailure(await cli(["projects", "set", "--idle-minutes", "soon"], { cwd: site }), 2, /whole number/);
    expectFailure(await cli(["projects", "set"], { cwd: site }), 2, /give at least one of/);
  }, 60_000);
});

describe("source deploys", () => {
  test("a folder with a build script is uploaded without node_modules and built on the server", async () => {
    const api = apiClient(deps, token);
    const created = await api("POST", "/api/projects", {
      name: "built here",
      installCommand: "echo nothing to install",
    });
    const project = obj(created.body) as { id: string; subDomain: string };
    const app = temp("app");
    mkdirSync(join(app, "src"));
    mkdirSync(join(app, "node_modules", "dep"), { recursive: true });
    writeFileSync(
      join(app, "package.json"),
      JSON.stringify({ scripts: { build: "mkdir -p dist && cp src/index.html dist/index.html" } }),
    );
    writeFileSync(join(app, "src", "index.html"), "<h1>built on the server</h1>");
    writeFileSync(join(app, "node_modules", "dep", "index.js"), "never uploaded");
    writeFileSync(join(app, ".gitignore"), "*.log\n");
    writeFileSync(join(app, "debug.log"), "never uploaded");

    const run = await cli(["deploy", "--prod", "--project", project.subDomain], { cwd: app });
    expectOk(run);
    expect(run.stderr).toMatch(/3 files .*source to build on the server/);
    expect(run.stderr).toContain("Unpacked 3 files");
    expect(run.stderr).toContain('Running "npm run build"');
    // The platform's own settings add no warning to the user's log (npm warns about unknown npm_config_*).
    expect(run.stderr).not.toContain("Unknown env config");
    expect(run.stdout).toContain(`Production: http://${project.subDomain}.localhost:${proxyPort}`);
    expect(await served(project.subDomain, "/", "<h1>built on the server</h1>")).toBe(
      "<h1>built on the server</h1>",
    );
    const deploymentId = /--([0-9a-f]{12})\./.exec(run.stdout)?.[1] ?? "";
    const list = obj((await api("GET", `/api/projects/${project.id}/deployments`)).body).items as {
      id: string;
    }[];
    const full = list.find((d) => d.id.replaceAll("-", "").startsWith(deploymentId))?.id ?? "";
    const follow = await cli(["logs", full, "--follow"]);
    expectOk(follow);
    expect(follow.stdout).toContain("Unpacked 3 files");
  }, 60_000);

  test("a failing build: its log, then one line and exit 1", async () => {
    const app = temp("broken");
    writeFileSync(join(app, "package.json"), JSON.stringify({ scripts: { build: "exit 3" } }));
    const run = await cli(["deploy", "--build"], { cwd: app });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Running "npm install"');
    const last = run.stderr.trimEnd().split("\n").at(-1) ?? "";
    expect(last).toMatch(/^minivercel: deployment [0-9a-f-]{36} FAIL: build failed with exit code 3$/);
  }, 60_000);
});

describe("Build Output deploys", () => {
  test("--prebuilt deploys .vercel/output with its functions (symlinked .func folders followed), not the folder", async () => {
    const app = temp("prebuilt");
    const out = join(app, ".vercel", "output");
    mkdirSync(join(out, "static"), { recursive: true });
    mkdirSync(join(out, "functions", "api", "hello.func"), { recursive: true });
    writeFileSync(join(app, "package.json"), JSON.stringify({ scripts: { build: "exit 9" } }));
    writeFileSync(join(app, "index.html"), "the project's own file, not deployed");
    writeFileSync(
      join(out, "config.json"),
      JSON.stringify({ version: 3, routes: [{ handle: "filesystem" }, { src: "^/hi$", dest: "/api/hi" }] }),
    );
    writeFileSync(join(out, "static", "index.html"), "<h1>from .vercel/output</h1>");
    writeFileSync(
      join(out, "functions", "api", "hello.func", ".vc-config.json"),
      JSON.stringify({ runtime: "nodejs20.x", handler: "index.mjs", launcherType: "Nodejs" }),
    );
    writeFileSync(
      join(out, "functions", "api", "hello.func", "index.mjs"),
      `export function GET(request) { return new Response("hello from " + new URL(request.url).pathname); }`,
    );
    symlinkSync("hello.func", join(out, "functions", "api", "hi.func"));

    const run = await cli(["deploy", "--prod", "--prebuilt", "--json"], { cwd: app });
    const result = parseDeploy(run);
    expect(run.stderr).toContain("a Build Output (.vercel/output) with its functions");
    expect(run.stderr).toMatch(/Build Output API: 1 static file, 2 functions \(nodejs20\.x\)/);
    expect(result.files).toBe(6);
    const sub = /^http:\/\/([^.]+)\./.exec(result.productionUrl ?? "")?.[1] ?? "";
    expect(await served(sub, "/", "<h1>from .vercel/output</h1>")).toBe("<h1>from .vercel/output</h1>");
    expect(await served(sub, "/api/hello", "hello from /api/hello")).toBe("hello from /api/hello");
    expect(await served(sub, "/hi", "hello from /hi")).toBe("hello from /hi");

    // Without --prebuilt the build script wins, as with Vercel's CLI: built on the server (and here it fails).
    const built = await cli(["deploy", "--project", sub], { cwd: app });
    expect(built.code).toBe(1);
    expect(built.stderr).toContain("source to build on the server");
  }, 60_000);
});

describe("projects create", () => {
  test("prints what the repository's files say, creates the project with it (flags win) and deploys", async () => {
    const repo = fixtureRepo({
      "package.json": JSON.stringify({ scripts: { build: "mkdir -p dist && cp index.html dist/" } }),
      "index.html": "<h1>created from the CLI</h1>",
    });
    const detected = await cli(["projects", "create", repo.url, "--detect-only"]);
    expectOk(detected);
    expect(detected.stdout).toContain("framework                   Node.js (build script)");
    expect(detected.stdout).toContain("build command               npm run build");
    expect(detected.stdout).toContain("output directory            dist");
    const json = await cli(["projects", "create", repo.url, "--detect-only", "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({
      branch: "main",
      framework: "node",
      installCommand: "npm install",
    });

    const created = await cli([
      "projects",
      "create",
      repo.url,
      "--name",
      "From CLI",
      "--install-command",
      "true",
    ]);
    expectOk(created);
    expect(created.stdout).toMatch(/Created from-cli \(([0-9a-f-]{36})\): http:\/\/from-cli\.localhost:\d+/);
    const deploymentId = /First deployment ([0-9a-f-]{36}) queued/.exec(created.stdout)?.[1] ?? "";
    const deployment = await deps.store.deployments.find(deploymentId);
    const project = deployment ? await deps.store.projects.find(deployment.projectId) : null;
    expect([project?.installCommand, project?.buildCommand, project?.outputDirectory]).toEqual([
      "true",
      "npm run build",
      "dist",
    ]);
    for (let waited = 0; waited < 60_000; waited += 250) {
      const now = await deps.store.deployments.find(deploymentId);
      if (now?.status === "READY" || now?.status === "FAIL") break;
      await Bun.sleep(250);
    }
    expect((await deps.store.deployments.find(deploymentId))?.status).toBe("READY");

    expectFailure(
      await cli(["projects", "create", repo.url, "--branch", "nope"]),
      2,
      /Branch nope is not in/,
    );
    expectFailure(await cli(["projects", "create", "file:///nonexistent/x.git"]), 2, /could not be read/);
    expectFailure(await cli(["projects", "create"]), 2, /give exactly one git repository URL/);
  }, 120_000);
});

describe("errors", () => {
  test("bad URL, bad token, missing dir, not logged in, bad usage: one line each, exit 1 or 2", async () => {
    const env = { MINIVERCEL_URL: "http://127.0.0.1:1", MINIVERCEL_TOKEN: token };
    expectFailure(
      await cli(["projects"], { env }),
      1,
      /cannot reach http:\/\/127\.0\.0\.1:1: connection refused$/,
    );
    expectFailure(
      await cli(["ls", "--project", "x"], { env: { MINIVERCEL_URL: apiUrl, MINIVERCEL_TOKEN: "mv_nope" } }),
      1,
      /refused the token/,
    );
    const notApi = { MINIVERCEL_URL: `http://127.0.0.1:${proxyPort}`, MINIVERCEL_TOKEN: token };
    expectFailure(
      await cli(["projects"], { env: notApi }),
      1,
      /answered HTTP 4\d\d, not as the minivercel API/,
    );
    expectFailure(await cli(["deploy", join(home, "no-such-dir")]), 2, /no such directory/);
    expectFailure(
      await cli(["projects"], { env: { HOME: temp("nobody") } }),
      2,
      /not logged in: run 'minivercel login/,
    );
    expectFailure(await cli(["deploy", "--bogus"]), 2, /unknown option --bogus/);
    expectFailure(await cli(["logs"]), 2, /give exactly one deployment id/);
    expectFailure(await cli(["logs", crypto.randomUUID()]), 2, /deployment not found/);
    expectFailure(await cli(["promote", crypto.randomUUID()]), 2, /deployment not found/);
    expectFailure(await cli(["ls", "--project", "no-such-project"]), 2, /no project 'no-such-project'/);
    expectFailure(await cli(["ls"]), 2, /no project: pass --project/);
    expectFailure(await cli(["env", "frobnicate"]), 2, /unknown subcommand 'env frobnicate'/);
  }, 60_000);

  test("--help and --version for every client command", async () => {
    for (const command of ["login", "deploy", "projects", "ls", "logs", "promote", "rollback", "env"]) {
      const run = await cli([command, "--help"]);
      expect({
        command,
        code: run.code,
        usage: run.stdout.startsWith(`Usage: minivercel ${command}`),
      }).toEqual({
        command,
        code: 0,
        usage: true,
      });
      expect((await cli([command, "--version"])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    }
  }, 60_000);
});

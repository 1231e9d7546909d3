// The CLI and server as a user runs them: real processes, real ports, real signals, and the release binary.

import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { VERSION } from "./config/version.ts";
import { obj } from "./testing/deps.ts";

const ROOT = resolve(import.meta.dir, "..");
const MAIN = join(ROOT, "src", "main.ts");
const PROCESS_TIMEOUT_MS = 10_000;

const temps: string[] = [];
const spawned = new Set<Subprocess>();

function temp(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `minivercel-${prefix}-`));
  temps.push(dir);
  return dir;
}

afterAll(() => {
  // Whatever a failed test left running must not outlive the suite.
  for (const proc of spawned) if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/** Only what a user's shell would have, so the host's DATABASE_URL or PORT cannot leak in. */
function userEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? tmpdir(), ...extra };
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (killed after a timeout so a hang fails instead of stalling the suite). */
async function exec(
  argv: string[],
  opts: { env?: Record<string, string>; stdin?: string; cwd?: string; timeoutMs?: number } = {},
): Promise<Run> {
  const proc = Bun.spawn(argv, {
    cwd: opts.cwd ?? tmpdir(),
    env: opts.env ?? userEnv(),
    stdin: opts.stdin === undefined ? "ignore" : new Blob([opts.stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  spawned.add(proc);
  const timer = setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs ?? PROCESS_TIMEOUT_MS);
  try {
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
    spawned.delete(proc);
  }
}

/** `bun src/main.ts ...args` */
const cli = (args: string[], opts: Parameters<typeof exec>[1] = {}) =>
  exec([process.execPath, MAIN, ...args], opts);

/** Usage and config errors: exit 2, nothing on stdout, one message line (plus at most the --help hint), no stack. */
function expectUsageError(run: Run, message: RegExp) {
  const lines = run.stderr.trimEnd().split("\n");
  expect({ code: run.code, stdout: run.stdout, first: lines[0] }).toEqual({
    code: 2,
    stdout: "",
    first: expect.stringMatching(/^minivercel: /),
  });
  expect(lines[0]).toMatch(message);
  expect(lines.length).toBeLessThanOrEqual(2);
  if (lines[1] !== undefined) expect(lines[1]).toMatch(/^Run 'minivercel (\w+ )?--help' for usage\.$/);
  // Bun's uncaught-error report: "error: ..." or "SomeError: ..." at a line start, then "    at ..." frames.
  expect(run.stderr).not.toMatch(/^\s+at |^error: |^\w*Error: /m);
}

interface Server {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  api: string;
  proxyPort: number;
  banner: string;
}

/** Starts `serve` and parses the real URLs from its start-up banner. */
async function startServer(
  argv: string[],
  opts: { env: Record<string, string>; cwd: string },
): Promise<Server> {
  const proc = Bun.spawn(argv, {
    cwd: opts.cwd,
    env: opts.env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  spawned.add(proc);
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  let banner = "";
  const deadline = Date.now() + PROCESS_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const api = /dashboard and API: (http:\/\/\S+)/.exec(banner)?.[1];
    const proxyPort = /sites: +http:\/\/\S+:(\d+)\s*$/m.exec(banner)?.[1];
    // The banner's last line, so the assertions below see all of it.
    if (api && proxyPort && /first account: .*\n/.test(banner)) {
      reader.releaseLock();
      return { proc, api, proxyPort: Number(proxyPort), banner };
    }
    const chunk = await Promise.race([reader.read(), Bun.sleep(deadline - Date.now()).then(() => null)]);
    if (chunk === null || chunk.done) break;
    banner += decoder.decode(chunk.value, { stream: true });
  }
  proc.kill("SIGKILL");
  const stderr = await new Response(proc.stderr).text();
  throw new Error(`serve did not print its URLs.\nstdout:\n${banner}\nstderr:\n${stderr}`);
}

/** Sends SIGTERM and returns the exit code (null if it had to be killed). */
async function terminate(server: Server): Promise<number | null> {
  server.proc.kill("SIGTERM");
  const code = await Promise.race([server.proc.exited, Bun.sleep(5000).then(() => "timeout" as const)]);
  spawned.delete(server.proc);
  if (code === "timeout") {
    server.proc.kill("SIGKILL");
    return null;
  }
  return code;
}

describe("usage", () => {
  test("--version prints the version for every command", async () => {
    const forms = [
      ["--version"],
      ["-v"],
      ["version"],
      ["serve", "--version"],
      ["user", "--version"],
      ["user", "create", "--version"],
      ["token", "--version"],
      ["token", "create", "-v"],
      ["migrate", "--version"],
    ];
    const runs = await Promise.all(forms.map((args) => cli(args)));
    forms.forEach((args, i) => {
      expect({ args, ...runs[i] }).toEqual({ args, code: 0, stdout: `${VERSION}\n`, stderr: "" });
    });
  });

  test("--help prints each command's usage", async () => {
    const forms: [string[], string][] = [
      [[], "Usage: minivercel <command>"],
      [["--help"], "Usage: minivercel <command>"],
      [["-h"], "Usage: minivercel <command>"],
      [["help"], "Usage: minivercel <command>"],
      [["serve", "--help"], "Usage: minivercel serve"],
      [["serve", "-h"], "Usage: minivercel serve"],
      [["user", "--help"], "Usage: minivercel user create"],
      [["user", "create", "--help"], "Usage: minivercel user create"],
      [["token", "--help"], "Usage: minivercel token create"],
      [["token", "create", "--help"], "Usage: minivercel token create"],
      [["migrate", "--help"], "Usage: minivercel migrate"],
    ];
    const runs = await Promise.all(forms.map(([args]) => cli(args)));
    forms.forEach(([args, heading], i) => {
      const run = runs[i];
      expect({ args, code: run?.code, stderr: run?.stderr }).toEqual({ args, code: 0, stderr: "" });
      expect(run?.stdout).toContain(heading);
    });
    // The serve help documents every flag it accepts.
    for (const flag of ["--role", "--port", "--proxy-port", "--data", "--host"]) {
      expect(runs[4]?.stdout).toContain(flag);
    }
  });

  test("mistakes exit 2 with one line on stderr and no stack trace", async () => {
    const data = temp("usage");
    const env = userEnv({ MINIVERCEL_DATA: data, PORT: "0", PROXY_PORT: "0" });
    const cases: [string[], Record<string, string>, RegExp][] = [
      [["frobnicate"], env, /unknown command 'frobnicate'/],
      [["serve", "--frob"], env, /unknown option --frob/],
      [["serve", "--port"], env, /--port needs a value/],
      [["serve", "extra"], env, /unexpected argument 'extra'/],
      [["user", "create", "--password-stdin"], env, /email/],
      [["user", "create", "a@b.co"], env, /--password-stdin/],
      [["user", "delete", "a@b.co"], env, /unknown subcommand 'user delete'/],
      [["token", "create"], env, /email/],
      [["migrate", "now"], env, /unexpected argument 'now'/],
      [["serve"], { ...env, PORT: "abc" }, /configuration error: PORT: .*'abc'/],
      [["serve", "--port", "70000"], env, /configuration error: PORT: .*70000/],
      [["serve"], { ...env, DATABASE_URL: "mysql://x" }, /configuration error: DATABASE_URL/],
      [["serve", "--role", "web"], env, /configuration error: --role: unknown role 'web'/],
    ];
    const runs = await Promise.all(cases.map(([args, caseEnv]) => cli(args, { env: caseEnv })));
    cases.forEach(([args, , message], i) => {
      const run = runs[i];
      if (!run) throw new Error(`no run for ${args.join(" ")}`);
      expectUsageError(run, message);
    });
  });
});

describe("accounts, then the server over real HTTP", () => {
  const data = temp("data");
  const cwd = temp("cwd");
  const env = userEnv({ MINIVERCEL_DATA: data, PORT: "0", PROXY_PORT: "0", LISTEN_HOST: "127.0.0.1" });
  let token = "";
  let server: Server | null = null;

  test("user create reads the password from stdin; duplicates and short passwords are refused", async () => {
    const created = await cli(["user", "create", "a@b.co", "--password-stdin"], {
      env,
      cwd,
      stdin: "correct horse battery\n",
    });
    expect(created).toEqual({ code: 0, stdout: "created user a@b.co\n", stderr: "" });

    const again = await cli(["user", "create", "A@B.co", "--password-stdin"], {
      env,
      cwd,
      stdin: "another password\n",
    });
    expectUsageError(again, /already exists/);

    const short = await cli(["user", "create", "c@d.co", "--password-stdin"], { env, cwd, stdin: "short\n" });
    expectUsageError(short, /at least 8 characters/);
    // The refused account does not exist afterwards.
    expectUsageError(await cli(["token", "create", "c@d.co"], { env, cwd }), /no user with email c@d.co/);
  });

  test("token create prints an API token", async () => {
    const run = await cli(["token", "create", "a@b.co", "--name", "ci"], { env, cwd });
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
    expect(run.stdout).toMatch(/^mv_[A-Za-z0-9_-]{20,}\n$/);
    token = run.stdout.trim();
  });

  test("serve answers health, and the token drives the project API", async () => {
    server = await startServer([process.execPath, MAIN, "serve"], { env, cwd });
    expect(server.banner).toContain(`minivercel ${VERSION} (roles: api, worker, proxy; store: sqlite)`);
    expect(server.banner).toContain(`data:              ${data}`);
    const api = server.api;

    const health = await fetch(`${api}/api/health`);
    expect(health.status).toBe(200);
    // builds.ready depends on this host's sandbox (src/worker/unavailable.test.ts covers both answers).
    expect(await health.json()).toMatchObject({
      status: "ok",
      version: VERSION,
      roles: ["api", "worker", "proxy"],
      builds: { runner: "local", sandbox: "bwrap" },
    });

    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${api}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null };
    };

    expect((await fetch(`${api}/api/projects`)).status).toBe(401);

    const created = await call("POST", "/api/projects", {
      name: "Blog",
      subDomain: "blog",
      gitUrl: "https://git.example.com/me/blog.git",
    });
    expect(created.status).toBe(201);
    const id = String(obj(created.body).id);
    // With PROXY_PORT=0 the links must carry the port the proxy really listens on.
    const proxyPort = server.proxyPort;
    expect(obj(created.body).productionUrl).toBe(`http://blog.localhost:${proxyPort}`);

    const list = await call("GET", "/api/projects");
    expect(list.status).toBe(200);
    expect((obj(list.body).items as { id: string }[]).map((p) => p.id)).toEqual([id]);

    expect(obj((await call("GET", `/api/projects/${id}`)).body).name).toBe("Blog");

    const patched = await call("PATCH", `/api/projects/${id}`, { buildCommand: "npm run build" });
    expect(patched.status).toBe(200);
    expect(obj(patched.body)).toMatchObject({ name: "Blog", buildCommand: "npm run build" });

    const deployed = await call("POST", "/api/deploy", { projectId: id });
    expect(deployed.status).toBe(201);
    expect(obj(deployed.body)).toMatchObject({ projectId: id, status: "QUEUED", target: "production" });
    expect(String(obj(deployed.body).url)).toMatch(
      new RegExp(`^http://blog--[0-9a-f]{12}\\.localhost:${proxyPort}$`),
    );
    const deployments = await call("GET", `/api/projects/${id}/deployments`);
    expect((obj(deployments.body).items as { status: string }[]).map((d) => d.status)).toEqual(["QUEUED"]);

    expect((await call("DELETE", `/api/projects/${id}`)).status).toBe(204);
    expect((await call("GET", `/api/projects/${id}`)).status).toBe(404);
  });

  test("the proxy port answers an HTML 404 for an unknown host", async () => {
    if (!server) throw new Error("server did not start");
    const res = await fetch(`http://127.0.0.1:${server.proxyPort}/`, {
      headers: { host: "ghost.localhost" },
    });
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("text/html");
    const html = await res.text();
    expect(html).toStartWith("<!doctype html>");
    expect(html).toContain("No site here");
  });

  test("SIGTERM stops serve with exit code 0", async () => {
    if (!server) throw new Error("server did not start");
    expect(await terminate(server)).toBe(0);
    const stderr = await new Response(server.proc.stderr).text();
    expect(stderr).toBe("");
    server = null;
  });

  test("migrate finds the database serve created up to date", async () => {
    const run = await cli(["migrate"], { env, cwd });
    expect(run).toEqual({ code: 0, stdout: "database is up to date\n", stderr: "" });
    // A fresh data directory, by contrast, gets every migration applied.
    const fresh = await cli(["migrate", "--data", temp("fresh")], { env, cwd });
    expect({ code: fresh.code, stderr: fresh.stderr }).toEqual({ code: 0, stderr: "" });
    expect(fresh.stdout).toMatch(/^applied migrations \S/);
  });
});

describe("release binary", () => {
  let built: Promise<string> | null = null;
  /** Builds the binary once for this block, the way a release does. */
  const release = () => {
    built ??= (async () => {
      const binary = join(temp("dist"), "minivercel");
      const build = await exec([process.execPath, join(ROOT, "scripts", "build.ts"), binary], {
        cwd: ROOT,
        env: userEnv(),
      });
      expect({ code: build.code, stderr: build.stderr }).toEqual({ code: 0, stderr: "" });
      expect(build.stdout).toContain(`version ${VERSION}`);
      return binary;
    })();
    return built;
  };

  test("builds, and serves from an empty directory with no configuration", async () => {
    const binary = await release();
    expect(existsSync(binary)).toBe(true);
    expect((await exec([binary, "--version"])).stdout).toBe(`${VERSION}\n`);

    const cwd = temp("empty");
    const server = await startServer([binary, "serve"], {
      cwd,
      env: userEnv({ PORT: "0", PROXY_PORT: "0" }),
    });
    try {
      const health = await fetch(`${server.api}/api/health`);
      expect(health.status).toBe(200);
      expect(obj(await health.json()).status).toBe("ok");
      expect(existsSync(join(cwd, "data", "minivercel.db"))).toBe(true);
    } finally {
      expect(await terminate(server)).toBe(0);
    }
  });

  test("runs functions with nothing but the binary: a TypeScript api/ function built, bundled and served", async () => {
    const binary = await release();
    const data = temp("fn-data");
    const cwd = temp("fn-cwd");
    // No bun on PATH: the builder, the bundler and the function runtime are all this binary.
    const path = "/usr/local/bin:/usr/bin:/bin";
    expect(Bun.which("bun", { PATH: path })).toBeNull();
    const env = { PATH: path, HOME: cwd, MINIVERCEL_DATA: data };
    const user = await exec([binary, "user", "create", "fn@b.co", "--password-stdin"], {
      env,
      cwd,
      stdin: "correct horse battery\n",
    });
    expect(user.code).toBe(0);
    const token = (await exec([binary, "token", "create", "fn@b.co"], { env, cwd })).stdout.trim();
    const server = await startServer([binary, "serve"], {
      cwd,
      env: { ...env, PORT: "0", PROXY_PORT: "0", LISTEN_HOST: "127.0.0.1" },
    });
    try {
      const site = temp("fn-site");
      mkdirSync(join(site, "api"));
      writeFileSync(join(site, "index.html"), "<h1>home</h1>");
      writeFileSync(
        join(site, "api", "hello.ts"),
        `export function GET(request: Request): Response {
          const runtime: string = typeof Bun === "undefined" ? "not bun" : "bun " + Bun.version;
          return Response.json({ runtime, path: new URL(request.url).pathname });
        }`,
      );
      const client = { ...env, MINIVERCEL_URL: server.api, MINIVERCEL_TOKEN: token };
      const deployed = await exec([binary, "deploy", "--prod", "--json"], {
        env: client,
        cwd: site,
        timeoutMs: 90_000,
      });
      expect({ code: deployed.code, stderr: deployed.code === 0 ? "" : deployed.stderr }).toEqual({
        code: 0,
        stderr: "",
      });
      const { productionUrl } = obj(JSON.parse(deployed.stdout)) as { productionUrl: string };
      const host = new URL(productionUrl).hostname;
      // READY is announced to the proxy through the bus: it may take a moment more to route the new host.
      let res = await fetch(`http://127.0.0.1:${server.proxyPort}/api/hello`, { headers: { host } });
      for (let i = 0; i < 50 && res.status === 404; i++) {
        await Bun.sleep(100);
        res = await fetch(`http://127.0.0.1:${server.proxyPort}/api/hello`, { headers: { host } });
      }
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ runtime: `bun ${Bun.version}`, path: "/api/hello" });
    } finally {
      expect(await terminate(server)).toBe(0);
    }
  }, 120_000);

  test("the binary ignores .env and bunfig.toml in its working directory", async () => {
    const binary = await release();
    const cwd = temp("dotenv");
    // Either file, if loaded, would make migrate fail (bad DATABASE_URL) or preload a missing module.
    writeFileSync(join(cwd, ".env"), "DATABASE_URL=mysql://leaked\n");
    writeFileSync(join(cwd, "bunfig.toml"), 'preload = ["./missing-preload.ts"]\n');
    const run = await exec([binary, "migrate"], { cwd });
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
    expect(run.stdout).toMatch(/^applied migrations/);
    expect(existsSync(join(cwd, "data", "minivercel.db"))).toBe(true);
  });
});

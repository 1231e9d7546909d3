// App servers end to end: repositories built by the real builder in its sandbox, run by the runtime's app pool in
// the sandbox, served by the real proxy. A Node server from a start script (its static files from the proxy, the
// project's variables and PORT, read-only files, a private /tmp, no host loopback), idle stop and wake, and the
// hostile ones: crashing on start (then a crash loop), crashing mid-request, never listening, eating memory,
// ignoring SIGTERM; none of them disturbs another deployment.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createApi } from "../api/app.ts";
import { createDashboard } from "../dashboard/app.ts";
import { queueDeployment } from "../deploy/deploy.ts";
import { createProject } from "../deploy/projects.ts";
import { promoteDeployment, rollbackProject } from "../deploy/promote.ts";
import type { Deps } from "../deps.ts";
import { createApiToken } from "../identity/accounts.ts";
import type { Project, User } from "../model/entities.ts";
import { deploymentUrl, productionUrl } from "../model/urls.ts";
import { type Running, startRoles } from "../roles.ts";
import { localAppServers } from "../runtime/app-status.ts";
import { createRuntime, type FunctionRuntime } from "../runtime/runtime.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { fixtureRepo } from "../testing/repos.ts";
import { request } from "../testing/sites.ts";
import { signIn, signInAs, Visitor } from "../testing/visitor.ts";
import { createProxy, type SiteProxy } from "./proxy.ts";

let deps: Deps;
let roles: Running;
let proxy: SiteProxy;
let runtime: FunctionRuntime;
let userId: string;
let user: User;
/** A port on the host's loopback that an app must not reach. */
let hostOnly: ReturnType<typeof Bun.serve>;

beforeAll(async () => {
  deps = await testDeps({
    PORT: "0",
    PROXY_PORT: "0",
    MINIVERCEL_ROLE: "api,worker",
    FUNCTION_START_TIMEOUT_SECONDS: "4",
    APP_MEMORY_MB: "160",
  });
  roles = await startRoles(deps);
  user = (await testUser(deps)).user;
  userId = user.id;
  // One idle "minute" is a second here.
  proxy = await createProxy(
    deps,
    { reconcileMs: 60_000, appMinuteMs: 1000 },
    {
      runtime: () => {
        runtime = createRuntime(deps);
        return runtime;
      },
    },
  );
  hostOnly = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("host secret") });
});
afterAll(async () => {
  hostOnly.stop(true);
  await proxy.stop();
  await roles.stop(1000);
  await deps.close();
}, 60_000);

const apps = () => {
  const pool = runtime?.apps;
  if (!pool) throw new Error("no app pool yet");
  return pool;
};

async function deployed(
  files: Record<string, string>,
  settings: Record<string, unknown> = {},
): Promise<{ project: Project; id: string; url: string }> {
  const repo = fixtureRepo(files);
  const project = await createProject(deps.store, deps.config, userId, {
    name: `app-${crypto.randomUUID().slice(0, 6)}`,
    gitUrl: repo.url,
    ...settings,
  });
  const d = await queueDeployment(deps, userId, { projectId: project.id });
  for (let i = 0; i < 1200; i++) {
    const now = await deps.store.deployments.find(d.id);
    if (now?.status === "READY") {
      await proxy.reconcile();
      const saved = (await deps.store.projects.find(project.id)) ?? project;
      return { project: saved, id: d.id, url: productionUrl(saved, deps.config) };
    }
    if (now?.status === "FAIL") throw new Error(`build failed: ${now.statusReason}`);
    await Bun.sleep(100);
  }
  throw new Error("the deployment did not end");
}

async function get(url: string, init: RequestInit & { headers?: Record<string, string> } = {}) {
  const res = await request(proxy, url, { redirect: "manual", ...init });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

const buildLog = async (id: string) => (await deps.logs.read(id, 0, 1000)).map((l) => l.text).join("\n");

/** The deployment's runtime log once it holds `text` (lines are stored in batches), else what it holds. */
async function runtimeLog(id: string, text: string): Promise<string> {
  let all = "";
  for (let i = 0; i < 50 && !all.includes(text); i++) {
    if (i > 0) await Bun.sleep(100);
    all = (await deps.runtimeLogs.read(id, { limit: 500 })).map((l) => l.text).join("\n");
  }
  return all;
}

/** A plain Node server: no dependencies, so the build installs nothing from the network. */
const server = (body: string) => `const http = require("node:http");
const fs = require("node:fs");
${body}
http.createServer(handle).listen(Number(process.env.PORT), "127.0.0.1");
`;

const HELLO = server(`let n = 0;
function handle(req, res) {
  n++;
  if (req.url === "/env") return res.end(JSON.stringify({ port: process.env.PORT, env: process.env.VERCEL_ENV, own: process.env.APP_GREETING }));
  if (req.url === "/write-here") { try { fs.writeFileSync("./x.txt", "x"); return res.end("wrote"); } catch (e) { return res.end(e.code); } }
  if (req.url === "/write-tmp") { fs.writeFileSync("/tmp/x.txt", "tmp ok"); return res.end(fs.readFileSync("/tmp/x.txt")); }
  if (req.url.startsWith("/host")) {
    const port = new URL(req.url, "http://x").searchParams.get("port");
    return fetch("http://127.0.0.1:" + port + "/").then((r) => r.text()).then((t) => res.end("reached " + t), (e) => res.end("refused"));
  }
  if (req.url === "/stream") {
    res.writeHead(200, { "content-type": "text/event-stream" });
    let i = 0;
    const t = setInterval(() => { res.write("data: " + i++ + "\\n\\n"); if (i === 3) { clearInterval(t); res.end(); } }, 100);
    return;
  }
  if (req.url === "/echo") { res.writeHead(200, { "content-type": "application/octet-stream" }); return req.pipe(res); }
  if (req.method === "POST") { let b = ""; req.on("data", (c) => b += c); return req.on("end", () => res.end("posted " + b)); }
  res.setHeader("x-from", "app");
  res.end("hello from the app, request " + n + " at " + req.url);
}`);

describe("a Node server from its start script", () => {
  let site: { project: Project; id: string; url: string };

  beforeAll(async () => {
    site = await deployed(
      {
        "package.json": JSON.stringify({ name: "hello", scripts: { start: "node server.js" } }),
        "server.js": HELLO,
        "public/robots.txt": "User-agent: *",
      },
      { idleTimeoutMinutes: 2 },
    );
  }, 120_000);

  test("detected from package.json, said in the build log, and answered by the app", async () => {
    const log = await buildLog(site.id);
    expect(log).toContain('package.json\'s "start" script runs as an app server (npm start)');
    expect(log).toContain('App server: package.json\'s "start" script');
    const home = await get(`${site.url}/some/path?q=1`);
    expect(home.status).toBe(200);
    expect(home.body).toMatch(/^hello from the app, request \d+ at \/some\/path\?q=1$/);
    expect(home.headers.get("x-from")).toBe("app");
    const posted = await get(`${site.url}/form`, { method: "POST", body: "a=1" });
    expect(posted).toMatchObject({ status: 200, body: "posted a=1" });
  }, 30_000);

  test("public/ files come from the proxy, the rest from the app", async () => {
    const robots = await get(`${site.url}/robots.txt`);
    expect(robots).toMatchObject({ status: 200, body: "User-agent: *" });
    expect(robots.headers.get("x-from")).toBeNull();
  });

  test("sandboxed: its files read-only, a private /tmp, PORT and its target's variables, no host loopback", async () => {
    const env = JSON.parse((await get(`${site.url}/env`)).body);
    expect(env).toMatchObject({ env: "production" });
    expect(Number(env.port)).toBeGreaterThan(0);
    expect((await get(`${site.url}/write-here`)).body).toBe("EROFS");
    expect((await get(`${site.url}/write-tmp`)).body).toBe("tmp ok");
    expect((await get(`${site.url}/host?port=${hostOnly.port}`)).body).toBe("refused");
  }, 30_000);

  test("a stream passes through as it is written", async () => {
    const res = await request(proxy, `${site.url}/stream`);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    expect(await res.text()).toBe("data: 0\n\ndata: 1\n\ndata: 2\n\n");
  });

  test("8 MB each way through the relay: every byte, in order", async () => {
    const sent = new Uint8Array(8 * 1024 * 1024);
    for (let i = 0; i < sent.length; i += 65_536) crypto.getRandomValues(sent.subarray(i, i + 65_536));
    const res = await request(proxy, `${site.url}/echo`, { method: "POST", body: sent });
    expect(res.status).toBe(200);
    const back = new Uint8Array(await res.arrayBuffer());
    expect(back.length).toBe(sent.length);
    expect(Bun.hash(back)).toBe(Bun.hash(sent));
  }, 60_000);

  test("stopped after its idle time, woken by the next request, which waits for it", async () => {
    await get(`${site.url}/`);
    expect(apps().view(site.id)[0]?.instances.length).toBe(1);
    await Bun.sleep(2600);
    expect(apps().view(site.id)[0]?.instances.length).toBe(0);
    const started = performance.now();
    const woken = await get(`${site.url}/woken`);
    expect(woken.body).toMatch(/^hello from the app, request 1 at \/woken$/);
    expect(performance.now() - started).toBeLessThan(4000);
    expect(await runtimeLog(site.id, "stopped: it was idle")).toContain("stopped: it was idle");
  }, 30_000);
});

describe("hostile apps", () => {
  let healthy: { url: string; id: string };

  beforeAll(async () => {
    const d = await deployed({
      Procfile: "web: node server.js\n",
      "server.js": server("function handle(req, res) { res.end('still fine'); }"),
    });
    healthy = { url: d.url, id: d.id };
  }, 120_000);

  const stillFine = async () => expect((await get(`${healthy.url}/`)).body).toBe("still fine");

  test("crashing on start: 502 with the reason logged, then a crash loop, answered at once", async () => {
    const d = await deployed({
      Procfile: "web: node server.js\n",
      "server.js": "console.error('cannot connect to the database'); process.exit(3);",
    });
    const first = await get(`${d.url}/`);
    expect(first.status).toBe(502);
    expect(first.body).toContain("App server failed");
    await get(`${d.url}/`);
    await get(`${d.url}/`);
    const looping = await get(`${d.url}/`);
    expect(looping.status).toBe(502);
    expect(looping.body).toContain("App server crash loop");
    const view = apps().view(d.id)[0];
    expect(view).toMatchObject({ crashLoop: true, lastExit: "exited with code 3" });
    const log = await runtimeLog(d.id, "crash loop");
    expect(log).toContain("cannot connect to the database");
    expect(log).toContain("crash loop: the app server failed 3 times in a row");
    await stillFine();
  }, 60_000);

  test("crashing mid-request: that request is a 502, the next one gets a fresh server", async () => {
    const d = await deployed({
      Procfile: "web: node server.js\n",
      "server.js": server(
        "function handle(req, res) { if (req.url === '/die') process.exit(1); res.end('alive'); }",
      ),
    });
    expect((await get(`${d.url}/`)).body).toBe("alive");
    expect((await get(`${d.url}/die`)).status).toBe(502);
    expect((await get(`${d.url}/`)).body).toBe("alive");
    expect(apps().view(d.id)[0]).toMatchObject({ crashes: 1, crashLoop: false });
    await stillFine();
  }, 60_000);

  test("never listening: 502 after the start timeout, logged as such", async () => {
    const d = await deployed({ Procfile: "web: node -e 'setInterval(() => {}, 1000)'\n" });
    const started = performance.now();
    const res = await get(`${d.url}/`);
    expect(res.status).toBe(502);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(await runtimeLog(d.id, "did not listen")).toContain("did not listen within 4 s");
    await stillFine();
  }, 60_000);

  test("eating memory: stopped by its memory limit, reported as such", async () => {
    const d = await deployed({
      Procfile: "web: node server.js\n",
      "server.js": server(
        "const hog = []; function handle(req, res) { if (req.url === '/eat') { for (;;) hog.push(Buffer.alloc(1 << 20, 1)); } res.end('ok'); }",
      ),
    });
    expect((await get(`${d.url}/`)).body).toBe("ok");
    expect((await get(`${d.url}/eat`)).status).toBe(502);
    await Bun.sleep(300);
    expect(apps().view(d.id)[0]?.lastExit).toBe("ran out of memory (160 MB)");
    expect(await runtimeLog(d.id, "ran out of memory")).toContain("ran out of memory (160 MB)");
    await stillFine();
  }, 60_000);

  test("ignoring SIGTERM: a restart still ends it at once, and a fresh one answers", async () => {
    const d = await deployed({
      Procfile: "web: node server.js\n",
      "server.js": server(
        "process.on('SIGTERM', () => console.log('ignoring SIGTERM')); function handle(req, res) { res.end('stubborn ' + process.pid); }",
      ),
    });
    const before = (await get(`${d.url}/`)).body;
    const started = performance.now();
    expect(await apps().restart(d.id)).toBe(1);
    expect(performance.now() - started).toBeLessThan(3000);
    expect((await get(`${d.url}/`)).body).toMatch(/^stubborn \d+$/);
    expect(before).toMatch(/^stubborn \d+$/);
    await stillFine();
  }, 60_000);
});

test("the immutable URL reaches the same server", async () => {
  const d = await deployed({
    Procfile: "web: node server.js\n",
    "server.js": server(
      "function handle(req, res) { res.end('immutable ' + req.headers['x-forwarded-host']); }",
    ),
  });
  const url = deploymentUrl(d.project, d.id, deps.config);
  expect((await get(`${url}/`)).body).toBe(`immutable ${new URL(url).host}`);
}, 60_000);

test("promote and rollback switch servers without a failed request; the new one is started first", async () => {
  const files = {
    Procfile: "web: node server.js one\n",
    // A server that takes most of a second to start listening: a request waiting for it would show.
    "server.js": `setTimeout(() => require("node:http")
      .createServer((req, res) => setTimeout(() => res.end(process.argv[2]), 20))
      .listen(Number(process.env.PORT), "127.0.0.1"), 800);`,
  };
  const first = await deployed(files);
  await deps.store.projects.update(userId, first.project.id, { startCommand: "node server.js two" });
  const second = await queueDeployment(deps, userId, { projectId: first.project.id });
  for (let i = 0; i < 1200 && (await deps.store.deployments.find(second.id))?.status !== "READY"; i++)
    await Bun.sleep(100);
  await proxy.reconcile();
  expect((await get(`${first.url}/`)).body).toBe("two");
  // The first deployment's server is not running: the promotion has to start it.
  await apps().restart(first.id);
  expect(apps().view(first.id)[0]?.instances.length ?? 0).toBe(0);

  const answers: { status: number; body: string; ms: number }[] = [];
  let running = true;
  const load = async () => {
    while (running) {
      const started = performance.now();
      const res = await get(`${first.url}/`);
      answers.push({ status: res.status, body: res.body, ms: performance.now() - started });
    }
  };
  const loops = [load(), load(), load()];
  const until = async (body: string) => {
    for (let i = 0; i < 200 && answers.at(-1)?.body !== body; i++) await Bun.sleep(25);
  };
  await Bun.sleep(200);
  await promoteDeployment(deps.store, deps.bus, userId, first.id);
  await until("one");
  await Bun.sleep(200);
  await rollbackProject(deps.store, deps.bus, userId, first.project.id);
  await until("two");
  await Bun.sleep(200);
  running = false;
  await Promise.all(loops);

  expect(answers.filter((a) => a.status !== 200)).toEqual([]);
  const bodies = answers.map((a) => a.body);
  expect(bodies.indexOf("one")).toBeGreaterThan(0);
  expect(bodies.lastIndexOf("two")).toBeGreaterThan(bodies.indexOf("one"));
  // The switch waited for the new server: no request sat through its start.
  const firstOne = answers.find((a) => a.body === "one");
  console.log(
    `promote under load: ${answers.length} requests, slowest ${Math.max(...answers.map((a) => a.ms)).toFixed(0)} ms`,
  );
  expect(firstOne?.ms ?? 0).toBeLessThan(500);
}, 120_000);

describe("the dashboard's app server section", () => {
  test("the owner sees instances, a crash loop and restarts; anyone else gets a 404 and changes nothing", async () => {
    const dashboard = createDashboard(deps, { apps: localAppServers(() => runtime?.apps ?? null) });
    const owner = new Visitor(dashboard);
    await signInAs(deps.store, owner, user);
    const good = await deployed({
      Procfile: "web: node server.js\n",
      "server.js": server("function handle(req, res) { res.end('up'); }"),
    });
    const bad = await deployed({ Procfile: "web: node -e 'process.exit(4)'\n" });
    expect((await get(`${good.url}/`)).body).toBe("up");
    for (let i = 0; i < 3; i++) await get(`${bad.url}/`);

    const running = await owner.get(`/deployments/${good.id}`);
    expect(running.status).toBe(200);
    expect(running.text).toContain('data-state="running"');
    expect(running.text).toContain("node server.js");
    expect(running.text).toContain("the Procfile's web process");
    const instance = apps().view(good.id)[0]?.instances[0]?.id ?? "none";
    expect(running.text).toContain(`data-instance="${instance}"`);
    // Its memory, read from its cgroup.
    expect(running.text).toMatch(/<td data-memory="true">\d+\.\d MB<\/td>/);
    expect(running.text).toContain("(app server)");
    const looping = await owner.get(`/deployments/${bad.id}`);
    expect(looping.text).toContain('data-crash-loop="true"');
    expect(looping.text).toContain("it exited with code 4 (3 failures in a row)");

    // Someone else: not found, and the restart changes nothing. Without the CSRF token, not even the owner.
    const stranger = new Visitor(dashboard);
    await signIn(deps.store, stranger);
    expect((await stranger.get(`/deployments/${good.id}`)).status).toBe(404);
    expect((await stranger.post(`/deployments/${good.id}/restart`)).status).toBe(404);
    expect((await owner.post(`/deployments/${good.id}/restart`, { _csrf: "forged" })).status).toBe(403);
    expect(apps().view(good.id)[0]?.instances[0]?.id).toBe(instance);

    const restarted = await owner.post(`/deployments/${good.id}/restart`);
    expect(restarted.status).toBe(303);
    expect(apps().view(good.id)[0]?.instances.length).toBe(0);
    expect((await owner.get(`/deployments/${good.id}`)).text).toContain('data-state="sleeping"');
    expect((await get(`${good.url}/`)).body).toBe("up");
    expect(apps().view(good.id)[0]).toMatchObject({ restarts: 1 });
    expect(apps().view(good.id)[0]?.instances[0]?.id).not.toBe(instance);
  }, 60_000);
});

test("busy: a second instance starts while the first is busy, up to the project's maximum", async () => {
  const d = await deployed(
    {
      Procfile: "web: node server.js\n",
      "server.js": server(
        "function handle(req, res) { setTimeout(() => res.end('pid ' + process.pid), req.url === '/slow' ? 1500 : 0); }",
      ),
    },
    { maxInstances: 2 },
  );
  expect((await get(`${d.url}/`)).body).toMatch(/^pid \d+$/);
  const slow = [get(`${d.url}/slow`), get(`${d.url}/slow`)];
  // The second slow request found the only instance busy: a second one starts beside it.
  for (let i = 0; i < 50 && (apps().view(d.id)[0]?.instances.length ?? 0) < 2; i++) await Bun.sleep(100);
  expect(apps().view(d.id)[0]?.instances.length).toBe(2);
  for (const answer of await Promise.all(slow)) expect(answer.status).toBe(200);
  const more = await Promise.all([1, 2, 3, 4].map(() => get(`${d.url}/slow`)));
  expect(more.every((a) => a.status === 200)).toBe(true);
  expect(apps().view(d.id)[0]?.instances.length).toBe(2);
}, 60_000);

test("the API: the owner reads a deployment's app server and restarts it; anyone else gets a 404", async () => {
  const api = createApi(deps, { apps: localAppServers(() => runtime?.apps ?? null) });
  const call = (token: string, method: string, path: string) =>
    api.handle(
      new Request(`http://localhost${path}`, { method, headers: { authorization: `Bearer ${token}` } }),
    );
  const owner = await createApiToken(deps.store, userId, "apps");
  const stranger = await testUser(deps);
  const d = await deployed({
    Procfile: "web: node server.js\n",
    "server.js": server("function handle(req, res) { res.end('api'); }"),
  });
  expect((await get(`${d.url}/`)).body).toBe("api");
  const read = await call(owner.token, "GET", `/api/deployments/${d.id}/app`);
  expect(read.status).toBe(200);
  const body = (await read.json()) as { command: string; visible: boolean; instances: { id: string }[] };
  expect(body).toMatchObject({ command: "node server.js", visible: true, crashLoop: false });
  expect(body.instances).toHaveLength(1);
  const memory = (body.instances[0] as { memoryBytes: number | null } | undefined)?.memoryBytes ?? 0;
  expect(memory).toBeGreaterThan(1024 * 1024);
  expect((await call(stranger.token, "GET", `/api/deployments/${d.id}/app`)).status).toBe(404);
  expect((await call(stranger.token, "POST", `/api/deployments/${d.id}/app/restart`)).status).toBe(404);
  expect(apps().view(d.id)[0]?.instances[0]?.id).toBe(body.instances[0]?.id);
  const restarted = await call(owner.token, "POST", `/api/deployments/${d.id}/app/restart`);
  expect(restarted.status).toBe(200);
  expect(((await restarted.json()) as { instances: unknown[] }).instances).toEqual([]);
  // A deployment without a server has no app to show.
  const plain = await deployed({ "index.html": "<h1>static</h1>" });
  expect((await call(owner.token, "GET", `/api/deployments/${plain.id}/app`)).status).toBe(404);
}, 60_000);

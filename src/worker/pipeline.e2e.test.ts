// The deploy pipeline end to end on the embedded defaults: API -> queue -> builder in its sandbox -> artifacts -> READY.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createApi } from "../api/app.ts";
import type { Deps } from "../deps.ts";
import { type Running, startRoles } from "../roles.ts";
import { apiClient, type Client, obj, tempDir, testDeps, testUser } from "../testing/deps.ts";
import { fixtureRepo, VITE_APP } from "../testing/repos.ts";

let deps: Deps;
let roles: Running;
let api: Client;
let apiAuth: string;

beforeAll(async () => {
  deps = await testDeps({
    PORT: "0",
    PROXY_PORT: "0",
    MINIVERCEL_ROLE: "api,worker",
    BUILD_CONCURRENCY: "3",
  });
  roles = await startRoles(deps);
  const { token } = await testUser(deps);
  api = apiClient(deps, token);
  apiAuth = `Bearer ${token}`;
});
afterAll(async () => {
  await roles.stop();
  await deps.close();
}, 60_000);

type Deployment = { id: string; status: string; statusReason: string | null; commitSha: string | null };

async function createProject(gitUrl: string, extra: Record<string, unknown> = {}) {
  const res = await api("POST", "/api/projects", {
    name: `p-${crypto.randomUUID().slice(0, 6)}`,
    gitUrl,
    ...extra,
  });
  expect(res.status).toBe(201);
  return obj(res.body) as { id: string; subDomain: string };
}

async function deploy(projectId: string, body: Record<string, unknown> = {}): Promise<Deployment> {
  const res = await api("POST", "/api/deploy", { projectId, ...body });
  expect(res.status).toBe(201);
  return res.body as Deployment;
}

async function waitFor(
  id: string,
  done: (d: Deployment) => boolean,
  timeoutMs = 120_000,
): Promise<Deployment> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const d = (await api("GET", `/api/deployments/${id}`)).body as Deployment;
    if (done(d)) return d;
    if (Date.now() > until) throw new Error(`deployment ${id} stuck in ${d.status}`);
    await Bun.sleep(100);
  }
}
const finished = (d: Deployment) => ["READY", "FAIL", "CANCELED"].includes(d.status);

async function logText(id: string): Promise<string> {
  const page = obj((await api("GET", `/api/deployments/${id}/logs?limit=5000`)).body);
  return (page.items as { text: string }[]).map((l) => l.text).join("\n");
}

async function served(id: string, path: string): Promise<string | null> {
  const manifest = await deps.artifacts.getManifest(id);
  const file = manifest?.files[path];
  if (!file) return null;
  return (await deps.artifacts.getBlob(file.hash))?.text() ?? null;
}

const blobCount = () => {
  const root = join(deps.config.dataDir, "artifacts", "blobs");
  return readdirSync(root).reduce((n, dir) => n + readdirSync(join(root, dir)).length, 0);
};

describe("deploy pipeline", () => {
  test("a plain static site goes READY, is stored, becomes production; a redeploy adds no blob", async () => {
    const repo = fixtureRepo({
      "index.html": "<h1>hello</h1>",
      "about.html": "<p>about</p>",
      "css/site.css": "h1{}",
    });
    const project = await createProject(repo.url);
    const first = await waitFor((await deploy(project.id)).id, finished);
    expect({ status: first.status, reason: first.statusReason }).toEqual({ status: "READY", reason: null });
    expect(first.commitSha).toMatch(/^[0-9a-f]{40}$/);
    expect(await served(first.id, "/index.html")).toBe("<h1>hello</h1>");
    expect(await served(first.id, "/css/site.css")).toBe("h1{}");
    expect(obj((await api("GET", `/api/projects/${project.id}`)).body).productionDeploymentId).toBe(first.id);
    const log = await logText(first.id);
    expect(log).toContain("Cloning");
    expect(log).toContain("Deployed 3 files");
    expect(await served(first.id, "/.git/HEAD")).toBeNull();

    const blobs = blobCount();
    const second = await waitFor((await deploy(project.id)).id, finished);
    expect(second.status).toBe("READY");
    expect(blobCount()).toBe(blobs);
    expect(obj((await api("GET", `/api/projects/${project.id}`)).body).productionDeploymentId).toBe(
      second.id,
    );
  }, 180_000);

  test("a failing build is FAIL with the compiler's error in the log", async () => {
    const repo = fixtureRepo({
      "package.json": JSON.stringify({
        name: "broken",
        scripts: {
          build:
            "node -e \"console.error('src/app.ts(3,7): error TS2304: Cannot find name foo.'); process.exit(2)\"",
        },
      }),
      "package-lock.json": JSON.stringify({
        name: "broken",
        lockfileVersion: 3,
        requires: true,
        packages: { "": { name: "broken" } },
      }),
    });
    const project = await createProject(repo.url);
    const d = await waitFor((await deploy(project.id)).id, finished);
    expect(d.status).toBe("FAIL");
    expect(d.statusReason).toContain("build failed with exit code 2");
    expect(await logText(d.id)).toContain("error TS2304: Cannot find name foo.");
  }, 180_000);

  test("a build past its time limit fails with that reason", async () => {
    const repo = fixtureRepo({
      "package.json": JSON.stringify({ name: "slow", scripts: { build: "sleep 60" } }),
    });
    const project = await createProject(repo.url, { buildTimeoutSeconds: 10, installCommand: "true" });
    const d = await waitFor((await deploy(project.id)).id, finished, 60_000);
    expect(d.status).toBe("FAIL");
    expect(d.statusReason).toContain("timed out after 10 s");
  }, 180_000);

  test("cancel stops a running build and kills its processes", async () => {
    const marker = `mv-cancel-${crypto.randomUUID().slice(0, 8)}`;
    const repo = fixtureRepo({
      "package.json": JSON.stringify({
        name: "long",
        scripts: { build: `echo started && sleep 300 # ${marker}` },
      }),
    });
    const project = await createProject(repo.url, { installCommand: "true" });
    const queued = await deploy(project.id);
    const until = Date.now() + 60_000;
    while (!(await logText(queued.id)).includes("started") && Date.now() < until) await Bun.sleep(100);
    const res = await api("POST", `/api/deployments/${queued.id}/cancel`);
    expect(res.status).toBe(200);
    expect(obj(res.body).status).toBe("CANCELED");
    const gone = Date.now() + 15_000;
    let alive = true;
    while (alive && Date.now() < gone) {
      alive = Bun.spawnSync(["pgrep", "-f", marker]).exitCode === 0;
      if (alive) await Bun.sleep(200);
    }
    expect(alive).toBe(false);
    expect((await api("POST", `/api/deployments/${queued.id}/cancel`)).status).toBe(409);
  }, 180_000);

  test("env vars reach the build, are masked in its log, and stay write-only", async () => {
    const repo = fixtureRepo({
      "package.json": JSON.stringify({
        name: "env",
        scripts: {
          build:
            'mkdir -p dist && echo "token is $SECRET_TOKEN" && printf %s "$SECRET_TOKEN" > dist/value.txt',
        },
      }),
    });
    const project = await createProject(repo.url, { installCommand: "true" });
    expect(
      (await api("PUT", `/api/projects/${project.id}/env/SECRET_TOKEN`, { value: "s3cr3t-value" })).status,
    ).toBe(204);
    const listed = obj((await api("GET", `/api/projects/${project.id}/env`)).body);
    expect(JSON.stringify(listed)).not.toContain("s3cr3t-value");
    expect((listed.items as { key: string }[]).map((v) => v.key)).toEqual(["SECRET_TOKEN"]);
    expect((await api("PUT", `/api/projects/${project.id}/env/1BAD`, { value: "x" })).status).toBe(422);
    const d = await waitFor((await deploy(project.id)).id, finished);
    expect(d.status).toBe("READY");
    expect(await served(d.id, "/value.txt")).toBe("s3cr3t-value");
    const log = await logText(d.id);
    expect(log).toContain("token is ********");
    expect(log).not.toContain("s3cr3t-value");
  }, 180_000);

  test("a newer deployment supersedes a queued older one of the same branch", async () => {
    const blocker = fixtureRepo({
      "package.json": JSON.stringify({
        name: "b",
        scripts: { build: "sleep 4 && mkdir -p dist && echo ok > dist/index.html" },
      }),
    });
    const project = await createProject(blocker.url, { installCommand: "true" });
    const running = await deploy(project.id);
    await waitFor(running.id, (d) => d.status === "IN_PROGRESS");
    const older = await deploy(project.id);
    const newer = await deploy(project.id);
    expect((await waitFor(older.id, finished)).statusReason).toContain(newer.id);
    expect((await waitFor(newer.id, finished)).status).toBe("READY");
    expect((await waitFor(running.id, finished)).status).toBe("READY");
  }, 180_000);
});

describe("real builds", () => {
  test("a Vite app with dependencies from the npm registry builds and deploys", async () => {
    const repo = fixtureRepo(VITE_APP);
    const project = await createProject(repo.url);
    const d = await waitFor((await deploy(project.id)).id, finished, 170_000);
    const log = await logText(d.id);
    expect({ status: d.status, reason: d.statusReason }).toEqual({ status: "READY", reason: null });
    expect(log).toContain("Vite");
    const manifest = await deps.artifacts.getManifest(d.id);
    const files = Object.keys(manifest?.files ?? {});
    expect(files).toContain("/index.html");
    const bundle = files.find((f) => /^\/assets\/index-[\w-]+\.js$/.test(f));
    expect(bundle).toBeDefined();
    expect(await served(d.id, bundle ?? "")).toContain("hello from vite");
  }, 180_000);

  test("a malicious build cannot read secrets, the platform's env, host loopback, or write outside its workspace", async () => {
    const outside = tempDir("minivercel-outside-");
    const secretFile = join(outside, "secret.txt");
    writeFileSync(secretFile, "TOP-SECRET-VALUE");
    let connections = 0;
    const listener = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open() {
          connections++;
        },
        data() {},
      },
    });
    const script = [
      "mkdir -p dist",
      `(cat ${secretFile} || echo no-secret) > dist/secret.txt 2>&1`,
      `(cat ${join(deps.config.dataDir, "secret.key")} || echo no-key) > dist/key.txt 2>&1`,
      "env > dist/env.txt",
      `(timeout 5 bash -c 'echo hi > /dev/tcp/127.0.0.1/${listener.port}' && echo CONNECTED || echo refused) > dist/net.txt 2>&1`,
      `(echo pwned > ${join(outside, "pwned.txt")} && echo WROTE || echo denied) > dist/write.txt 2>&1`,
      "(echo pwned > /usr/pwned.txt && echo WROTE || echo denied) > dist/write-usr.txt 2>&1",
      "echo '<h1>ok</h1>' > dist/index.html",
    ].join("\n");
    const repo = fixtureRepo({
      "build.sh": `${script}\n`,
      "package.json": JSON.stringify({ name: "evil", scripts: { build: "sh build.sh" } }),
    });
    const project = await createProject(repo.url, { installCommand: "true" });
    process.env.MINIVERCEL_PLATFORM_CANARY = "platform-canary-value";
    const d = await waitFor((await deploy(project.id)).id, finished);
    delete process.env.MINIVERCEL_PLATFORM_CANARY;
    listener.stop(true);
    expect(d.status).toBe("READY");
    expect(await served(d.id, "/secret.txt")).not.toContain("TOP-SECRET-VALUE");
    expect(await served(d.id, "/key.txt")).not.toMatch(/^[A-Za-z0-9+/]{43}=/);
    const env = (await served(d.id, "/env.txt")) ?? "";
    expect(env).not.toContain("platform-canary-value");
    expect(env).not.toContain("MINIVERCEL_DATA");
    expect(await served(d.id, "/net.txt")).toContain("refused");
    expect(connections).toBe(0);
    expect(await served(d.id, "/write.txt")).toContain("denied");
    expect(existsSync(join(outside, "pwned.txt"))).toBe(false);
    expect(await served(d.id, "/write-usr.txt")).toContain("denied");
    expect(existsSync("/usr/pwned.txt")).toBe(false);
  }, 180_000);
});

describe("live log stream (SSE)", () => {
  interface SseEvent {
    event: string;
    id: string | null;
    data: Record<string, unknown>;
    /** The deployment's stored status when this event arrived. */
    statusOnArrival: string;
  }

  /** Reads an SSE response event by event, noting the deployment's status as each arrives. */
  async function readStream(response: Response, id: string): Promise<SseEvent[]> {
    const events: SseEvent[] = [];
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of response.body ?? []) {
      buffer += decoder.decode(chunk, { stream: true });
      const blocks = buffer.split("\n\n");
      buffer = blocks.pop() ?? "";
      for (const block of blocks) {
        if (block.trim() === "" || block.startsWith(":")) continue;
        const field = (name: string) =>
          block
            .split("\n")
            .find((l) => l.startsWith(`${name}: `))
            ?.slice(name.length + 2) ?? null;
        const statusOnArrival = (await deps.store.deployments.find(id))?.status ?? "?";
        events.push({
          event: field("event") ?? "message",
          id: field("id"),
          data: JSON.parse(field("data") ?? "null"),
          statusOnArrival,
        });
      }
    }
    return events;
  }

  test("streams lines live before READY, in order without gaps, ends with the status; resumes after Last-Event-ID", async () => {
    const repo = fixtureRepo({
      "package.json": JSON.stringify({
        name: "chatty",
        scripts: {
          build:
            "for i in 1 2 3 4 5; do echo step $i; sleep 0.3; done; mkdir -p dist && echo hi > dist/index.html",
        },
      }),
    });
    const project = await createProject(repo.url, { installCommand: "true" });
    const d = await deploy(project.id);
    const app = createApi(deps);
    const response = await app.handle(
      new Request(`http://localhost/api/deployments/${d.id}/logs/stream`, {
        headers: { authorization: apiAuth },
      }),
    );
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const events = await readStream(response, d.id);
    const logs = events.filter((e) => e.event === "log");
    const seqs = logs.map((e) => Number(e.id));
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    expect(logs.map((e) => e.data.text)).toContain("step 3");
    expect(logs.some((e) => e.statusOnArrival !== "READY")).toBe(true);
    const last = events[events.length - 1];
    expect(last?.event).toBe("status");
    expect(last?.data.status).toBe("READY");

    const resumed = await readStream(
      await app.handle(
        new Request(`http://localhost/api/deployments/${d.id}/logs/stream`, {
          headers: { authorization: apiAuth, "last-event-id": "3" },
        }),
      ),
      d.id,
    );
    expect(resumed.filter((e) => e.event === "log").map((e) => Number(e.id))).toEqual(seqs.slice(3));
  }, 180_000);

  test("another user cannot stream or cancel the deployment", async () => {
    const repo = fixtureRepo({ "index.html": "x" });
    const project = await createProject(repo.url);
    const d = await deploy(project.id);
    const stranger = apiClient(deps, (await testUser(deps)).token);
    expect((await stranger("GET", `/api/deployments/${d.id}/logs/stream`)).status).toBe(404);
    expect((await stranger("POST", `/api/deployments/${d.id}/cancel`)).status).toBe(404);
    await waitFor(d.id, finished);
  }, 180_000);
});

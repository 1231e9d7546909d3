// The function runtime with real sandboxed instances: both handler styles and Vercel's Node helpers, streaming,
// project variables, cold and warm starts, idle stop, and hostile functions contained (crash, timeout, memory,
// fork bomb, host files, host loopback, platform secrets).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { setEnvVar } from "../deploy/env.ts";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import type { ManifestFunction } from "../store/artifacts.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { storeFunction } from "../testing/functions.ts";
import { createRuntime, type FunctionRuntime, type FunctionTarget, type Outcome } from "./runtime.ts";

let deps: Deps;
let runtime: FunctionRuntime;
let projectId: string;
let hostListener: Bun.TCPSocketListener<undefined>;
let hostConnections = 0;

beforeAll(async () => {
  deps = await testDeps({ FUNCTION_IDLE_SECONDS: "2", FUNCTION_START_TIMEOUT_SECONDS: "10" });
  runtime = createRuntime(deps);
  const { user } = await testUser(deps);
  projectId = (await createProject(deps.store, deps.config, user.id, { name: "functions" })).id;
  await setEnvVar(deps.store, deps.sealer, user.id, projectId, "GREETING", "hello from the project");
  hostListener = Bun.listen({
    hostname: "0.0.0.0",
    port: 0,
    socket: {
      open(socket) {
        hostConnections += 1;
        socket.end();
      },
      data() {},
    },
  });
});
afterAll(async () => {
  await runtime.stop();
  hostListener.stop(true);
  await deps.close();
}, 30_000);

const fn = (files: Record<string, string>, config: Record<string, unknown> = {}): Promise<ManifestFunction> =>
  storeFunction(deps.artifacts, files, config);

function target(manifest: ManifestFunction, path = "/api/fn"): FunctionTarget {
  return {
    deploymentId: crypto.randomUUID(),
    projectId,
    environment: "preview",
    deploymentUrl: "http://site--abc.localhost:8001",
    path,
    fn: manifest,
  };
}

async function call(
  t: FunctionTarget,
  path = "/api/fn",
  init: RequestInit = {},
  search = "",
): Promise<Outcome> {
  return runtime.invoke(t, {
    request: new Request(`http://site.localhost${path}${search}`, init),
    path,
    search,
    host: "site.localhost:8001",
    proto: "http",
    clientIp: "198.51.100.7",
    requestId: "req-1",
  });
}

async function text(outcome: Outcome): Promise<{ status: number; body: string; headers: Headers }> {
  if (outcome.kind === "failed")
    return { status: outcome.status, body: outcome.reason, headers: new Headers() };
  return {
    status: outcome.response.status,
    body: await outcome.response.text(),
    headers: outcome.response.headers,
  };
}

describe("handlers", () => {
  test("Web style: method exports get the Request; Vercel's headers and the project's variables are there", async () => {
    const t = target(
      await fn({
        "index.mjs": `export function GET(request) {
          return Response.json({ url: request.url, host: request.headers.get("host"),
            forwarded: request.headers.get("x-forwarded-for"), id: request.headers.get("x-vercel-id"),
            greeting: process.env.GREETING, env: process.env.VERCEL_ENV, vercelUrl: process.env.VERCEL_URL });
        }
        export async function POST(request) { return new Response("posted " + await request.text(), { status: 201 }); }`,
      }),
    );
    const got = await text(await call(t, "/api/fn", {}, "?q=1"));
    expect(got.status).toBe(200);
    expect(JSON.parse(got.body)).toEqual({
      url: "http://site.localhost:8001/api/fn?q=1",
      host: "site.localhost:8001",
      forwarded: "198.51.100.7",
      id: "req-1",
      greeting: "hello from the project",
      env: "preview",
      vercelUrl: "site--abc.localhost:8001",
    });
    const posted = await text(await call(t, "/api/fn", { method: "POST", body: "a body" }));
    expect(posted).toMatchObject({ status: 201, body: "posted a body" });
    const other = await text(await call(t, "/api/fn", { method: "DELETE" }));
    expect(other.status).toBe(405);
  }, 30_000);

  test("Node style with Vercel's helpers: req.query, req.body, req.cookies, res.status().json()", async () => {
    const t = target(
      await fn(
        {
          "index.mjs": `export default function handler(req, res) {
          res.status(req.method === "POST" ? 201 : 200).json({ query: req.query, body: req.body ?? null, cookies: req.cookies });
        }`,
        },
        { shouldAddHelpers: true },
      ),
    );
    const got = await text(
      await call(
        t,
        "/api/fn",
        {
          method: "POST",
          headers: { "content-type": "application/json", cookie: "a=1; b=two" },
          body: JSON.stringify({ hello: "world" }),
        },
        "?x=1&x=2&y=3",
      ),
    );
    expect(got.status).toBe(201);
    expect(JSON.parse(got.body)).toEqual({
      query: { x: ["1", "2"], y: "3" },
      body: { hello: "world" },
      cookies: { a: "1", b: "two" },
    });
    const bad = await text(
      await call(t, "/api/fn", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{nope",
      }),
    );
    expect(bad.status).toBe(400);
  }, 30_000);

  test("a default { fetch } and an edge entrypoint", async () => {
    const fetchStyle = target(
      await fn({
        "index.mjs": `export default { fetch: (r) => new Response("fetched " + new URL(r.url).pathname) };`,
      }),
    );
    expect(await text(await call(fetchStyle))).toMatchObject({ status: 200, body: "fetched /api/fn" });
    const edge = target(
      await fn(
        {
          "entry.js": `export default async function (request) { return new Response("edge " + request.method); }`,
        },
        { runtime: "edge", entrypoint: "entry.js", handler: undefined, launcherType: undefined },
      ),
    );
    expect(await text(await call(edge))).toMatchObject({ status: 200, body: "edge GET" });
  }, 30_000);

  test("a streamed response arrives as it is written, not at the end", async () => {
    const t = target(
      await fn({
        "index.mjs": `export function GET() {
          const enc = new TextEncoder();
          return new Response(new ReadableStream({ async start(c) {
            for (let i = 0; i < 3; i++) { c.enqueue(enc.encode("tick " + i + "\\n")); await Bun.sleep(300); }
            c.close();
          } }), { headers: { "content-type": "text/plain" } });
        }`,
      }),
    );
    const outcome = await call(t);
    if (outcome.kind !== "response" || !outcome.response.body) throw new Error("no stream");
    const reader = outcome.response.body.getReader();
    const started = performance.now();
    const first = await reader.read();
    const firstAt = performance.now() - started;
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read())
      rest += new TextDecoder().decode(r.value);
    expect(new TextDecoder().decode(first.value)).toBe("tick 0\n");
    expect(firstAt).toBeLessThan(250);
    expect(rest).toBe("tick 1\ntick 2\n");
  }, 30_000);

  test("answers of a known length arrive whole, read at once up to 1 MB and streamed past it; one cut short is a 502", async () => {
    const t = target(
      await fn({
        "index.mjs": `export default function handler(req, res) {
          const query = new URL(req.url, "http://x").searchParams;
          const size = Number(query.get("size"));
          if (query.has("cut")) {
            res.setHeader("content-length", "1000");
            res.write("only a part");
            setTimeout(() => req.socket.destroy(), 50);
            return;
          }
          const body = Buffer.alloc(size, "x");
          body[size - 1] = 121;
          res.setHeader("content-type", "text/plain");
          res.end(body);
        }`,
      }),
    );
    for (const size of [1, 1024 * 1024, 1024 * 1024 + 1, 3 * 1024 * 1024]) {
      const answer = await text(await call(t, "/api/fn", {}, `?size=${size}`));
      expect({ status: answer.status, length: answer.body.length, last: answer.body.at(-1) }).toEqual({
        status: 200,
        length: size,
        last: "y",
      });
    }
    expect((await text(await call(t, "/api/fn", {}, "?cut=1"))).status).toBe(502);
  }, 30_000);
});

describe("instances", () => {
  test("cold start on the first request, warm after, stopped when idle, started again on demand", async () => {
    const t = target(
      await fn({
        "index.mjs": `const pid = process.pid; export function GET() { return new Response(String(pid)); }`,
      }),
    );
    const first = await text(await call(t));
    const second = await text(await call(t));
    expect(second.body).toBe(first.body);
    expect(runtime.instances().filter((i) => i.key.startsWith(t.deploymentId))).toHaveLength(1);
    await Bun.sleep(3500);
    expect(runtime.instances().filter((i) => i.key.startsWith(t.deploymentId))).toHaveLength(0);
    expect((await text(await call(t))).status).toBe(200);
  }, 30_000);

  test("a crash is a 502 and the next request gets a fresh instance", async () => {
    const t = target(
      await fn({
        "index.mjs": `export function GET(r) { if (new URL(r.url).searchParams.has("die")) process.exit(3); return new Response("alive"); }`,
      }),
    );
    expect((await text(await call(t))).body).toBe("alive");
    expect((await text(await call(t, "/api/fn", {}, "?die"))).status).toBe(502);
    expect(await text(await call(t))).toMatchObject({ status: 200, body: "alive" });
  }, 30_000);

  test("a request past maxDuration is a 504; the instance is replaced", async () => {
    const t = target(
      await fn(
        {
          "index.mjs": `export async function GET(r) { if (new URL(r.url).searchParams.has("hang")) await new Promise(() => {}); return new Response("ok"); }`,
        },
        { maxDuration: 1 },
      ),
    );
    const started = performance.now();
    const hung = await text(await call(t, "/api/fn", {}, "?hang"));
    expect(hung.status).toBe(504);
    expect(performance.now() - started).toBeLessThan(3000);
    expect(await text(await call(t))).toMatchObject({ status: 200, body: "ok" });
  }, 30_000);

  test("a module that does not load, or exports no handler, fails its start with a 502", async () => {
    const broken = target(await fn({ "index.mjs": "throw new Error('boom at import');" }));
    const got = await text(await call(broken));
    expect(got.status).toBe(502);
    expect(got.body).toContain("the function did not start");
    const empty = target(await fn({ "index.mjs": "export const nothing = 1;" }));
    expect((await text(await call(empty))).status).toBe(502);
  }, 30_000);
});

describe("hostile functions are contained", () => {
  test("no host files, no platform secrets, no host loopback or host addresses", async () => {
    const t = target(
      await fn({
        "index.mjs": `import { readFileSync, writeFileSync } from "node:fs";
        const tryIt = async (f) => { try { return await f(); } catch (e) { return "refused"; } };
        export async function GET() {
          return Response.json({
            dataDir: await tryIt(() => readFileSync(${JSON.stringify(`${deps.config.dataDir}/secret.key`)}, "utf8")),
            shadow: await tryIt(() => readFileSync("/etc/shadow", "utf8")),
            writeTask: await tryIt(() => { writeFileSync("/var/task/x", "x"); return "wrote"; }),
            tmp: await tryIt(() => { writeFileSync("/tmp/x", "x"); return "wrote"; }),
            secretEnv: Object.keys(process.env).filter((k) => /SECRET|DATABASE|KAFKA|AWS|MINIVERCEL_/.test(k)),
            loopback: await tryIt(() => fetch("http://127.0.0.1:${hostListener.port}/", { signal: AbortSignal.timeout(2000) }).then(() => "reached")),
            metadata: await tryIt(() => fetch("http://169.254.169.254/", { signal: AbortSignal.timeout(2000) }).then(() => "reached")),
          });
        }`,
      }),
    );
    const got = await text(await call(t));
    expect(got.status).toBe(200);
    expect(JSON.parse(got.body)).toEqual({
      dataDir: "refused",
      shadow: "refused",
      writeTask: "refused",
      tmp: "wrote",
      secretEnv: [],
      loopback: "refused",
      metadata: "refused",
    });
    expect(hostConnections).toBe(0);
  }, 30_000);

  test("a fork bomb and unbounded allocation end in the function's own failure, not the platform's", async () => {
    const bomb = target(
      await fn(
        {
          "index.mjs": `import { spawn } from "node:child_process";
        export async function GET() { let n = 0; try { for (;;) { spawn("sleep", ["5"]); n++; } } catch { } return new Response("spawned " + n); }`,
        },
        { maxDuration: 5 },
      ),
    );
    const bombed = await text(await call(bomb));
    expect([200, 502, 504]).toContain(bombed.status);
    const hog = target(
      await fn(
        {
          "index.mjs": `export function GET() { const a = []; for (;;) a.push(new Uint8Array(1 << 20).fill(1)); }`,
        },
        { memory: 128 },
      ),
    );
    expect((await text(await call(hog))).status).toBe(502);
    // The platform still serves another function.
    const fine = target(await fn({ "index.mjs": `export function GET() { return new Response("fine"); }` }));
    expect(await text(await call(fine))).toMatchObject({ status: 200, body: "fine" });
  }, 60_000);
});

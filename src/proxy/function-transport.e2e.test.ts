// How a function's request and answer travel through the real listeners: over the HTTPS front (ACME from
// Pebble) a function sees https (X-Forwarded-Proto and request.url), and a stream that pauses longer than the
// servers' idle cut-off (Bun's 10 s) still reaches the visitor whole, over HTTPS and over plain HTTP.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import { type Running, startRoles } from "../roles.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { deployBuildOutput, vcConfig } from "../testing/functions.ts";
import { freePort, type Pebble, startPebble } from "../testing/pebble.ts";
import { tlsGet } from "../testing/tls-client.ts";

const PAUSE_MS = 12_000;
const OUTPUT = {
  "config.json": JSON.stringify({ version: 3, routes: [{ handle: "filesystem" }] }),
  "functions/api/scheme.func/.vc-config.json": vcConfig(),
  "functions/api/scheme.func/index.mjs": `export function GET(request) {
    return new Response(request.headers.get("x-forwarded-proto") + " " + new URL(request.url).protocol);
  }`,
  "functions/api/pause.func/.vc-config.json": vcConfig("index.mjs", { maxDuration: 60 }),
  "functions/api/pause.func/index.mjs": `export function GET() {
    const body = new ReadableStream({
      async start(controller) {
        controller.enqueue(new TextEncoder().encode("before "));
        await new Promise((resolve) => setTimeout(resolve, ${PAUSE_MS}));
        controller.enqueue(new TextEncoder().encode("after"));
        controller.close();
      },
    });
    return new Response(body, { headers: { "content-type": "text/plain" } });
  }`,
};

async function deployed(deps: Deps): Promise<string> {
  const { user } = await testUser(deps);
  const project = await createProject(deps.store, deps.config, user.id, {
    name: `transport-${crypto.randomUUID().slice(0, 6)}`,
  });
  await deployBuildOutput(deps, project, OUTPUT);
  return project.subDomain;
}

describe("over HTTPS", () => {
  const BASE = "example.test";
  let pebble: Pebble;
  let deps: Deps;
  let roles: Running;
  let root = "";
  let port = 0;
  let host = "";

  beforeAll(async () => {
    const httpPort = freePort();
    pebble = await startPebble({ httpPort, validitySeconds: 20 * 86_400 });
    root = await pebble.root();
    deps = await testDeps({
      MINIVERCEL_ROLE: "proxy",
      BASE_DOMAIN: BASE,
      LISTEN_HOST: "127.0.0.1",
      PROXY_PORT: String(httpPort),
      HTTPS_PORT: "0",
      ACME_DIRECTORY_URL: pebble.directoryUrl,
      ACME_EMAIL: "ops@example.test",
      ACME_CA_FILE: pebble.caFile,
      DNS_RESOLVERS: pebble.dnsServer,
    });
    roles = await startRoles(deps);
    port = Number(/:(\d+)$/.exec(roles.urls.https ?? "")?.[1]);
    host = `${await deployed(deps)}.${BASE}`;
  }, 120_000);
  afterAll(async () => {
    await roles?.stop(1000);
    await deps?.close();
    await pebble?.stop();
  });

  test("a function sees the request as https", async () => {
    let answer = await tlsGet(port, host, root, "/api/scheme");
    // The first handshake waits for the certificate's order; the proxy's routes may need a reconcile.
    for (let i = 0; i < 20 && answer.status !== 200; i++) {
      await Bun.sleep(500);
      answer = await tlsGet(port, host, root, "/api/scheme");
    }
    expect({ status: answer.status, body: answer.body }).toEqual({ status: 200, body: "https https:" });
  }, 60_000);

  test("a stream that pauses past the idle cut-off arrives whole", async () => {
    const answer = await tlsGet(port, host, root, "/api/pause");
    expect({ error: answer.error, status: answer.status, body: answer.body }).toEqual({
      error: null,
      status: 200,
      body: "before after",
    });
  }, 60_000);
});

describe("over plain HTTP", () => {
  let deps: Deps;
  let roles: Running;
  let proxyPort = 0;
  let host = "";

  beforeAll(async () => {
    deps = await testDeps({ MINIVERCEL_ROLE: "proxy", PROXY_PORT: "0", LISTEN_HOST: "127.0.0.1" });
    roles = await startRoles(deps);
    proxyPort = Number(/:(\d+)$/.exec(roles.urls.proxy ?? "")?.[1]);
    host = `${await deployed(deps)}.localhost`;
  }, 60_000);
  afterAll(async () => {
    await roles?.stop(1000);
    await deps?.close();
  });

  test("a stream that pauses past the idle cut-off arrives whole, and the scheme is http", async () => {
    const get = async (path: string) => {
      for (let i = 0; ; i++) {
        const res = await fetch(`http://127.0.0.1:${proxyPort}${path}`, { headers: { host } });
        if (res.status !== 404 || i >= 20) return { status: res.status, body: await res.text() };
        await Bun.sleep(250);
      }
    };
    expect(await get("/api/scheme")).toEqual({ status: 200, body: "http http:" });
    expect(await get("/api/pause")).toEqual({ status: 200, body: "before after" });
  }, 60_000);
});

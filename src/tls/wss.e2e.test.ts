// WebSockets over the HTTPS listener: an app server's WebSocket echo reached with `wss://` through the real TLS
// front (certificate from Pebble), the built app running in the runtime's app pool, as a browser would reach it.
// The client is written out here (node:tls, RFC 6455 frames) because it must choose its SNI name and CA.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect, type TLSSocket } from "node:tls";
import { queueDeployment } from "../deploy/deploy.ts";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import { createProxy, type SiteProxy } from "../proxy/proxy.ts";
import { type Running, startRoles } from "../roles.ts";
import { createRuntime } from "../runtime/runtime.ts";
import { decodeFrames, encodeFrame } from "../runtime/websocket.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { freePort, type Pebble, startPebble } from "../testing/pebble.ts";
import { fixtureRepo } from "../testing/repos.ts";
import { httpFront } from "./https.ts";
import { type RunningTls, startTls } from "./start.ts";

const BASE = "example.test";
let pebble: Pebble;
let deps: Deps;
let roles: Running;
let proxy: SiteProxy;
let plain: ReturnType<typeof Bun.serve>;
let tls: RunningTls;
let root = "";
let host = "";

/** An echo server on Bun's own WebSocket support: no dependency, so the build installs nothing. */
const ECHO = `Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT),
  fetch(req, server) {
    if (server.upgrade(req)) return;
    return new Response("plain answer over " + (req.headers.get("x-forwarded-proto") ?? "?"));
  },
  websocket: { message(ws, message) { ws.send("echo: " + message); } },
});
`;

beforeAll(async () => {
  const httpPort = freePort();
  pebble = await startPebble({ httpPort, validitySeconds: 20 * 86_400 });
  root = await pebble.root();
  deps = await testDeps({
    MINIVERCEL_ROLE: "api,worker",
    BASE_DOMAIN: BASE,
    LISTEN_HOST: "127.0.0.1",
    PORT: "0",
    PROXY_PORT: String(httpPort),
    HTTPS_PORT: "0",
    ACME_DIRECTORY_URL: pebble.directoryUrl,
    ACME_EMAIL: "ops@example.test",
    ACME_CA_FILE: pebble.caFile,
    DNS_RESOLVERS: pebble.dnsServer,
    FUNCTION_START_TIMEOUT_SECONDS: "10",
  });
  const https = deps.config.https;
  if (!https) throw new Error("ACME settings did not turn HTTPS on");
  roles = await startRoles(deps);
  // As src/roles.ts wires it: a request that came over TLS is https, from the TLS client's address.
  proxy = await createProxy(
    deps,
    { reconcileMs: 60_000 },
    {
      runtime: () => createRuntime(deps),
      peer: (request) => tls?.clientOf(request) ?? null,
      secure: (request) => tls?.clientOf(request) != null,
    },
  );
  plain = Bun.serve({
    hostname: "127.0.0.1",
    port: httpPort,
    fetch: httpFront(() => tls.port, deps.store.certificates),
  });
  tls = await startTls(deps, https, {
    sites: proxy.fetch,
    route: proxy.route,
    websockets: proxy,
    dashboard: null,
  });
  const { user } = await testUser(deps);
  const repo = fixtureRepo({
    "package.json": JSON.stringify({ name: "echo", scripts: { start: "bun server.js" } }),
    "server.js": ECHO,
  });
  const project = await createProject(deps.store, deps.config, user.id, {
    name: `wss-${crypto.randomUUID().slice(0, 6)}`,
    gitUrl: repo.url,
  });
  const d = await queueDeployment(deps, user.id, { projectId: project.id });
  for (let i = 0; ; i++) {
    const now = await deps.store.deployments.find(d.id);
    if (now?.status === "READY") break;
    if (now?.status === "FAIL" || i > 1200) throw new Error(`build did not end READY: ${now?.statusReason}`);
    await Bun.sleep(100);
  }
  await proxy.reconcile();
  host = `${project.subDomain}.${BASE}`;
}, 180_000);

afterAll(async () => {
  await tls?.stop();
  await plain?.stop(true);
  await proxy?.stop();
  await roles?.stop(1000);
  await deps?.close();
  await pebble?.stop();
}, 60_000);

/** A TLS connection to the HTTPS listener with SNI `host`, verified against Pebble's root. */
function secureSocket(): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port: tls.port, servername: host, ca: root });
    socket.once("secureConnect", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Reads from `socket` until `done` says the bytes so far are enough (or 10 s pass). */
function readUntil(socket: TLSSocket, done: (bytes: Buffer) => boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let bytes = Buffer.alloc(0);
    const timer = setTimeout(() => reject(new Error(`timed out with: ${bytes.toString("latin1")}`)), 10_000);
    const onData = (chunk: Buffer) => {
      bytes = Buffer.concat([bytes, chunk]);
      if (!done(bytes)) return;
      clearTimeout(timer);
      socket.off("data", onData);
      resolve(bytes);
    };
    socket.on("data", onData);
  });
}

test("an app server's WebSocket works over wss:// through the HTTPS listener", async () => {
  const socket = await secureSocket();
  try {
    socket.write(
      [
        "GET /ws HTTP/1.1",
        `host: ${host}`,
        "connection: Upgrade",
        "upgrade: websocket",
        "sec-websocket-version: 13",
        "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==",
        "",
        "",
      ].join("\r\n"),
    );
    const head = await readUntil(socket, (b) => b.includes("\r\n\r\n"));
    const text = head.toString("latin1");
    expect(text.split("\r\n")[0]).toBe("HTTP/1.1 101 Switching Protocols");
    // RFC 6455's own example key and answer.
    expect(text).toMatch(/\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/i);
    const rest = head.subarray(head.indexOf("\r\n\r\n") + 4);
    socket.write(encodeFrame(0x1, new TextEncoder().encode("hello over tls")));
    const framed = await readUntil(socket, (b) => decodeFrames(Buffer.concat([rest, b])).frames.length > 0);
    const [frame] = decodeFrames(Buffer.concat([rest, framed])).frames;
    expect(frame?.opcode).toBe(0x1);
    expect(new TextDecoder().decode(frame?.payload)).toBe("echo: hello over tls");
  } finally {
    socket.destroy();
  }
}, 60_000);

test("plain requests to the same app still pass over HTTPS, marked as https", async () => {
  const socket = await secureSocket();
  try {
    socket.write(`GET / HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n\r\n`);
    const answer = (await readUntil(socket, (b) => b.includes("plain answer"))).toString("latin1");
    expect(answer.split("\r\n")[0]).toBe("HTTP/1.1 200 OK");
    expect(answer).toContain("plain answer over https");
  } finally {
    socket.destroy();
  }
}, 60_000);

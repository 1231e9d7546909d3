// A functions node's internal endpoint against callers that are not this installation's proxies: every call must
// be signed with its key, recent, for this node and new, or it is refused with a bare 401 and nothing runs; the
// endpoint is never a site. And the node's side of discovery: it answers a proxy's probe at once.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { FunctionCall } from "../../schema/function-nodes.ts";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import { createNodeAuth, type NodeAuth } from "../identity/node-auth.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { storeFunction } from "../testing/functions.ts";
import { eventually } from "../testing/sites.ts";
import { type FunctionsNode, startFunctionsNode } from "./node.ts";
import {
  CALL_HEADER,
  HEARTBEAT_MS,
  INVOKE_PATH,
  MAX_SKEW_MS,
  OUTCOME_HEADER,
  SIGNATURE_HEADER,
  SOCKET_PATH,
  signCall,
  signed,
} from "./node-wire.ts";

let deps: Deps;
let node: FunctionsNode;
let deploymentId: string;
let projectId: string;
/** How many requests the function has answered (it counts them itself). */
const runs = async () => Number(await (await call(fresh())).text());

beforeAll(async () => {
  deps = await testDeps({ LISTEN_HOST: "127.0.0.1", FUNCTIONS_PORT: "0" });
  node = await startFunctionsNode(deps);
  const { user } = await testUser(deps);
  projectId = (await createProject(deps.store, deps.config, user.id, { name: "node-auth" })).id;
  deploymentId = crypto.randomUUID();
  const fn = await storeFunction(deps.artifacts, {
    "index.mjs": `let n = 0;
      export function GET(request) {
        n++;
        if (new URL(request.url).searchParams.has("who"))
          return Response.json({ xff: request.headers.get("x-forwarded-for"), host: request.headers.get("host") });
        return new Response(String(n));
      }`,
  });
  await deps.artifacts.putManifest({
    version: 2,
    deploymentId,
    createdAt: new Date().toISOString(),
    files: {},
    functions: { "/api/fn": fn },
  });
}, 30_000);

afterAll(async () => {
  await node?.leave();
  node?.server.stop(true);
  await node?.stop();
  await deps?.close();
}, 30_000);

function fresh(more: Partial<FunctionCall> = {}): FunctionCall {
  return {
    v: 1,
    node: node.id,
    at: Date.now(),
    nonce: crypto.randomUUID().replaceAll("-", ""),
    method: "GET",
    headers: [["accept", "*/*"]],
    deploymentId,
    projectId,
    environment: "preview",
    deploymentUrl: "http://site--abc.localhost:8001",
    function: "/api/fn",
    path: "/api/fn",
    search: "",
    host: "site.localhost:8001",
    proto: "http",
    clientIp: "198.51.100.3",
    requestId: "req-1",
    ...more,
  };
}

/** The call's body as a proxy frames it: 4 bytes of length, the call, then the request's body. */
function framed(bytes: Uint8Array, length = bytes.byteLength): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(4 + bytes.byteLength);
  new DataView(out.buffer).setUint32(0, length);
  out.set(bytes, 4);
  return out;
}

function call(
  c: FunctionCall,
  options: {
    auth?: NodeAuth;
    signature?: string;
    body?: Uint8Array<ArrayBuffer>;
    path?: string;
    method?: string;
  } = {},
): Promise<Response> {
  const { bytes, signature } = signCall(options.auth ?? deps.nodeAuth, c);
  return fetch(`${node.url}${options.path ?? INVOKE_PATH}`, {
    method: options.method ?? "POST",
    headers: { [SIGNATURE_HEADER]: options.signature ?? signature },
    ...((options.method ?? "POST") === "POST" && { body: options.body ?? framed(bytes) }),
  });
}

async function refused(response: Promise<Response>, status = 401): Promise<void> {
  const res = await response;
  expect({ status: res.status, body: await res.text(), outcome: res.headers.get(OUTCOME_HEADER) }).toEqual({
    status,
    body: "",
    outcome: null,
  });
}

describe("calls", () => {
  test("a signed call runs the function and answers with its response", async () => {
    const res = await call(fresh());
    expect(res.status).toBe(200);
    expect(res.headers.get(OUTCOME_HEADER)).toBe("response");
    expect(Number(await res.text())).toBeGreaterThan(0);
  }, 30_000);

  test("who asked is what the signed call says, never the visitor's headers", async () => {
    const res = await call(
      fresh({
        search: "?who",
        headers: [
          ["x-forwarded-for", "203.0.113.66"],
          ["x-minivercel-outcome", "failed"],
        ],
      }),
    );
    expect(await res.json()).toEqual({ xff: "198.51.100.3", host: "site.localhost:8001" });
  });

  test("refused with a bare 401, and nothing run: no signature, another key, a tampered call", async () => {
    const before = await runs();
    const c = fresh();
    const { bytes } = signCall(deps.nodeAuth, c);
    await refused(fetch(`${node.url}${INVOKE_PATH}`, { method: "POST", body: framed(bytes) }));
    await refused(call(fresh(), { auth: createNodeAuth(crypto.getRandomValues(new Uint8Array(32))) }));
    const { signature } = signCall(deps.nodeAuth, c);
    const tampered = signCall(deps.nodeAuth, { ...c, function: "/api/other" }).bytes;
    await refused(call(c, { signature, body: framed(tampered) }));
    await refused(call(fresh(), { signature: "not a signature" }));
    expect(await runs()).toBe(before + 1);
  }, 30_000);

  test("refused: a stale or future call, one for another node, the same call twice", async () => {
    const before = await runs();
    await refused(call(fresh({ at: Date.now() - MAX_SKEW_MS - 5_000 })));
    await refused(call(fresh({ at: Date.now() + MAX_SKEW_MS + 5_000 })));
    await refused(call(fresh({ node: crypto.randomUUID() })));
    const once = fresh();
    expect((await call(once)).status).toBe(200);
    await refused(call(once));
    expect(await runs()).toBe(before + 2);
  }, 30_000);

  test("refused: a call cut short, or longer than a call may be", async () => {
    const { bytes, signature } = signCall(deps.nodeAuth, fresh());
    await refused(call(fresh(), { signature, body: framed(bytes).subarray(0, 20) }));
    await refused(call(fresh(), { signature, body: framed(bytes, 64 * 1024 * 1024) }));
    await refused(call(fresh(), { body: new Uint8Array(2) }));
  });

  test("a signed call another version of minivercel made is a bare 400", async () => {
    const odd = { ...fresh(), extra: true } as FunctionCall;
    await refused(call(odd), 400);
  });

  test("the endpoint is no site: any other path or method is a bare 404", async () => {
    await refused(call(fresh(), { path: "/" }), 404);
    await refused(call(fresh(), { path: "/api/fn" }), 404);
    await refused(call(fresh(), { method: "GET" }), 404);
    await refused(call(fresh(), { method: "PUT" }), 404);
  });

  test("the socket endpoint takes only signed, fresh calls for an app server", async () => {
    const socketCall = (c: FunctionCall, options: { auth?: NodeAuth; signature?: string } = {}) => {
      const { bytes, signature } = signCall(options.auth ?? deps.nodeAuth, c);
      return fetch(`${node.url}${SOCKET_PATH}`, {
        headers: {
          [SIGNATURE_HEADER]: options.signature ?? signature,
          [CALL_HEADER]: Buffer.from(bytes).toString("base64url"),
          connection: "Upgrade",
          upgrade: "websocket",
          "sec-websocket-version": "13",
          "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
      });
    };
    const app = { idleMs: 1000, maxInstances: 1 };
    await refused(
      socketCall(fresh({ app }), { auth: createNodeAuth(crypto.getRandomValues(new Uint8Array(32))) }),
    );
    await refused(socketCall(fresh({ app }), { signature: "A".repeat(43) }));
    await refused(socketCall(fresh({ app, at: Date.now() - 2 * MAX_SKEW_MS })));
    await refused(socketCall(fresh({ app, node: crypto.randomUUID() })));
    const once = fresh({ app });
    // This deployment has no app server: the platform's 502, with nothing started.
    const first = await socketCall(once);
    expect(first.status).toBe(502);
    expect(await first.json()).toEqual({ reason: "the deployment has no app server" });
    await refused(socketCall(once));
    await refused(
      fetch(`${node.url}${SOCKET_PATH}`, { headers: { connection: "Upgrade", upgrade: "websocket" } }),
    );
    expect(node.runtime.apps?.view()).toEqual([]);
  });

  test("a function the deployment does not have is the platform's 502", async () => {
    const res = await call(fresh({ function: "/api/missing" }));
    expect(res.status).toBe(502);
    expect(res.headers.get(OUTCOME_HEADER)).toBe("failed");
    expect(await res.json()).toEqual({ reason: "the deployment's manifest has no function /api/missing" });
  });
});

describe("discovery", () => {
  test("a signed probe makes the node announce itself at once; a forged one does not", async () => {
    const heard: { type: string; id?: string; url?: string; sig?: string }[] = [];
    const sub = await deps.bus.consume(
      "function-nodes",
      `test-${crypto.randomUUID()}`,
      async (value) => void heard.push(value as (typeof heard)[number]),
    );
    const announcements = () => heard.filter((m) => m.type === "node" && m.id === node.id).length;
    // The node also announces itself every HEARTBEAT_MS: start right after a heartbeat, so that the windows below
    // (well under one interval) hold none, however late this test runs in the node's cycle.
    const settled = announcements();
    await eventually(async () => expect(announcements()).toBeGreaterThan(settled), HEARTBEAT_MS * 2 + 2000);
    const before = announcements();
    const other = createNodeAuth(crypto.getRandomValues(new Uint8Array(32)));
    await deps.bus.publish("function-nodes", "probe", signed(other, { type: "probe", at: Date.now() }));
    await Bun.sleep(150);
    expect(announcements()).toBe(before);
    const probed = performance.now();
    await deps.bus.publish(
      "function-nodes",
      "probe",
      signed(deps.nodeAuth, { type: "probe", at: Date.now() }),
    );
    await eventually(async () => expect(announcements()).toBeGreaterThan(before), HEARTBEAT_MS);
    // Within a fraction of the interval: the probe's answer, not the next heartbeat.
    expect(performance.now() - probed).toBeLessThan(HEARTBEAT_MS / 2);
    expect(heard.filter((m) => m.id === node.id).at(-1)).toEqual(
      expect.objectContaining({ type: "node", id: node.id, url: node.url, sig: expect.any(String) }),
    );
    await sub.stop();
  });
});

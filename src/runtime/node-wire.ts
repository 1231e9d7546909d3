// Between proxies and functions nodes, both ends. On the bus: signed announcements (a node's heartbeat, its
// leaving, a new proxy's probe). Over HTTP: POST /v1/invoke whose body is the call (schema/function-nodes.ts: which
// function, for which request) as 4 bytes of length and JSON, signed in a header, then the request's own body,
// streamed. The node answers with the function's status, headers and streamed body, and says in a header whether
// that is the function's answer or the platform's failure (502, 504). POST /v1/apps: an api process asks about one
// deployment's app server (its instances, or a restart), the signed question as the whole body.

import {
  type AppsCall,
  type FunctionCall,
  type NodeMessage,
  parseAppsCall,
  parseFunctionCall,
  parseNodeMessage,
  signedText,
  type UnsignedNodeMessage,
} from "../../schema/function-nodes.ts";
import type { NodeAuth } from "../identity/node-auth.ts";

/** How often a node announces itself. */
export const HEARTBEAT_MS = 2_000;
/** A node not heard from for this long is gone (three missed heartbeats and some slack). */
export const NODE_TIMEOUT_MS = 3 * HEARTBEAT_MS + 1_000;
/** Announcements whose clock is further off than this from ours are refused (stale, or replayed). */
const MAX_ANNOUNCEMENT_SKEW_MS = 60_000;

/** Signs a message for the topic `function-nodes`. */
export function signed<T extends UnsignedNodeMessage>(auth: NodeAuth, message: T): T & { sig: string } {
  return { ...message, sig: auth.sign(signedText(message)) };
}

/** Checks a message from the topic: well-formed, signed by this installation, and recent. */
export function verified(auth: NodeAuth, value: unknown, now = Date.now()): NodeMessage | null {
  const message = parseNodeMessage(value);
  if (!message || !auth.verify(signedText(message), message.sig)) return null;
  return Math.abs(now - message.at) <= MAX_ANNOUNCEMENT_SKEW_MS ? message : null;
}

export const INVOKE_PATH = "/v1/invoke";
/** A WebSocket to an app server: the signed call in headers (CALL_HEADER, SIGNATURE_HEADER) of the upgrade. */
export const SOCKET_PATH = "/v1/socket";
/** An api process's question about an app server's instances (AppsCall): the body is the signed call's JSON. */
export const APPS_PATH = "/v1/apps";
/** Largest AppsCall body. */
const MAX_APPS_CALL_BYTES = 4096;
/** On a socket call: the call's JSON bytes, base64url. */
export const CALL_HEADER = "x-minivercel-call";
/** Largest call that fits in a socket call's header (servers refuse heads much larger). */
export const MAX_HEADER_CALL_BYTES = 12 * 1024;
/** The call's signature (src/identity/node-auth.ts), over the call's JSON bytes. */
export const SIGNATURE_HEADER = "x-minivercel-signature";
/** On a node's answer: `response` (the function's own), or `failed` (a JSON body with the reason). */
export const OUTCOME_HEADER = "x-minivercel-outcome";
/** The platform's own headers: never taken from a visitor nor from a function. */
export const PLATFORM_HEADER_PREFIX = "x-minivercel-";
/** Largest call (its JSON, the request's headers included). */
export const MAX_CALL_BYTES = 1024 * 1024;
/** A call stamped further from the node's clock than this is refused; its nonce is remembered this long. */
export const MAX_SKEW_MS = 30_000;
/** A client that sends its call slower than this is cut off. */
const READ_CALL_MS = 10_000;

/**
 * The call's body: the signed call, then the request's body. Pulled only once the connection is open (`taken` says
 * when), and nothing is read from `body` before the node has the whole call (`touched` says when it is), so a call
 * the node never took can go to another node.
 */
export function callBody(
  call: Uint8Array,
  body: ReadableStream<Uint8Array> | null,
  events: { taken: () => void; touched: () => void },
): ReadableStream<Uint8Array> {
  let head = true;
  let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (head) {
          head = false;
          events.taken();
          const length = new Uint8Array(4);
          new DataView(length.buffer).setUint32(0, call.byteLength);
          controller.enqueue(length);
          controller.enqueue(call);
          return;
        }
        if (!body) return controller.close();
        if (!reader) {
          events.touched();
          reader = body.getReader();
        }
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel(reason) {
        return reader?.cancel(reason);
      },
    },
    // Pulled only when the connection wants bytes: not before it is open.
    { highWaterMark: 0 },
  );
}

export type ReadCall =
  | { ok: true; call: FunctionCall; body: ReadableStream<Uint8Array> | null }
  | { ok: false; status: 400 | 401; problem: string };

/** Nonces of the calls taken within the skew window: a replayed call is refused. */
export interface ReplayGuard {
  /** False when the nonce was seen already; records it otherwise. */
  fresh(nonce: string, at: number): boolean;
}

export function replayGuard(windowMs = 2 * MAX_SKEW_MS): ReplayGuard {
  const seen = new Map<string, number>();
  let sweptAt = Date.now();
  return {
    fresh(nonce, at) {
      const now = Date.now();
      if (now - sweptAt > windowMs / 4) {
        for (const [n, t] of seen) if (now - t > windowMs) seen.delete(n);
        sweptAt = now;
      }
      if (seen.has(nonce)) return false;
      seen.set(nonce, Math.max(at, now));
      return true;
    },
  };
}

/** Reads exactly the call's bytes from the front of the stream; what follows is the request's body. */
async function splitCall(
  stream: ReadableStream<Uint8Array>,
): Promise<{ call: Uint8Array; rest: ReadableStream<Uint8Array> } | null> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let have = 0;
  let need = 4;
  let length: number | null = null;
  const timer = setTimeout(() => void reader.cancel("too slow"), READ_CALL_MS);
  try {
    while (have < need) {
      const { done, value } = await reader.read();
      if (done) return null;
      chunks.push(value);
      have += value.byteLength;
      if (length === null && have >= 4) {
        const joined = Buffer.concat(chunks);
        length = joined.readUInt32BE(0);
        if (length > MAX_CALL_BYTES) return null;
        need = 4 + length;
      }
    }
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
  const joined = Buffer.concat(chunks);
  const call = joined.subarray(4, need);
  let leftover: Uint8Array | null = joined.byteLength > need ? joined.subarray(need) : null;
  const rest = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (leftover) {
          controller.enqueue(leftover);
          leftover = null;
          return;
        }
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
  return { call: new Uint8Array(call), rest };
}

/**
 * The node's side: the call, if it is signed with this installation's key, recent, for this node and not seen
 * before. Nothing of a refused call reaches a function.
 */
export async function readCall(
  request: Request,
  auth: NodeAuth,
  guard: ReplayGuard,
  nodeId: string,
): Promise<ReadCall> {
  const signature = request.headers.get(SIGNATURE_HEADER);
  if (!signature || !request.body) return { ok: false, status: 401, problem: "no signature" };
  const split = await splitCall(request.body);
  if (!split) return { ok: false, status: 401, problem: "no complete call" };
  if (!auth.verify(split.call, signature)) {
    await split.rest.cancel().catch(() => {});
    return { ok: false, status: 401, problem: "bad signature" };
  }
  const checked = checkCall(split.call, guard, nodeId, parseFunctionCall);
  if (!checked.ok) {
    void split.rest.cancel().catch(() => {});
    return checked;
  }
  const { call } = checked;
  const bodied = call.method !== "GET" && call.method !== "HEAD";
  return { ok: true, call, body: bodied ? split.rest : null };
}

/** A socket call's: from the upgrade request's headers, checked as a call in a body is. */
export function readSocketCall(
  request: Request,
  auth: NodeAuth,
  guard: ReplayGuard,
  nodeId: string,
): ReadCall {
  const signature = request.headers.get(SIGNATURE_HEADER);
  const encoded = request.headers.get(CALL_HEADER);
  if (!signature || !encoded) return { ok: false, status: 401, problem: "no signature" };
  const bytes = new Uint8Array(Buffer.from(encoded, "base64url"));
  if (!auth.verify(bytes, signature)) return { ok: false, status: 401, problem: "bad signature" };
  const checked = checkCall(bytes, guard, nodeId, parseFunctionCall);
  return checked.ok ? { ok: true, call: checked.call, body: null } : checked;
}

/** A verified call's bytes: well-formed, for this node, recent and not seen before. */
function checkCall<T extends { node: string; at: number; nonce: string }>(
  bytes: Uint8Array,
  guard: ReplayGuard,
  nodeId: string,
  parse: (value: unknown) => T | null,
): { ok: true; call: T } | { ok: false; status: 400 | 401; problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    value = null;
  }
  const call = parse(value);
  // Signed by a platform process, so not an attacker's: most likely a proxy of another version.
  if (!call) return { ok: false, status: 400, problem: "the call does not match this node's version of it" };
  if (call.node !== nodeId) return { ok: false, status: 401, problem: "for another node" };
  if (Math.abs(Date.now() - call.at) > MAX_SKEW_MS) return { ok: false, status: 401, problem: "stale" };
  if (!guard.fresh(call.nonce, call.at)) return { ok: false, status: 401, problem: "replayed" };
  return { ok: true, call };
}

/**
 * An api process's question about an app server (APPS_PATH): the whole body, signed, checked as a function call is
 * (for this node, recent, not seen before).
 */
export async function readAppsCall(
  request: Request,
  auth: NodeAuth,
  guard: ReplayGuard,
  nodeId: string,
): Promise<{ ok: true; call: AppsCall } | { ok: false; status: 400 | 401; problem: string }> {
  const signature = request.headers.get(SIGNATURE_HEADER);
  if (!signature) return { ok: false, status: 401, problem: "no signature" };
  const length = Number(request.headers.get("content-length") ?? Number.NaN);
  if (!(length <= MAX_APPS_CALL_BYTES)) return { ok: false, status: 400, problem: "no call, or too large" };
  const bytes = new Uint8Array(await request.arrayBuffer().catch(() => new ArrayBuffer(0)));
  if (!auth.verify(bytes, signature)) return { ok: false, status: 401, problem: "bad signature" };
  return checkCall(bytes, guard, nodeId, parseAppsCall);
}

/** The api's side: an AppsCall as bytes and its signature. */
export function signAppsCall(auth: NodeAuth, call: AppsCall): { bytes: Uint8Array; signature: string } {
  const bytes = new TextEncoder().encode(JSON.stringify(call));
  return { bytes, signature: auth.sign(bytes) };
}

/** The proxy's side: the signed call as bytes and its signature. */
export function signCall(auth: NodeAuth, call: FunctionCall): { bytes: Uint8Array; signature: string } {
  const bytes = new TextEncoder().encode(JSON.stringify(call));
  return { bytes, signature: auth.sign(bytes) };
}

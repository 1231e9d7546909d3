// What the runtime sends to an instance and back, for functions and app servers alike: the visitor's request with
// the platform's forwarding headers (never the visitor's own), and the answer without hop-by-hop headers.

import type { Invocation, Outcome } from "./runtime.ts";

export const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "proxy-authorization",
];

/** Headers only a proxy in front may set, set below from the invocation. */
const CLIENT_FORWARDING = [
  "forwarded",
  "x-forwarded-for",
  "x-forwarded-port",
  "x-real-ip",
  "x-vercel-forwarded-for",
];

/** Deployment URL -> its host, parsed once (a `new URL` per request showed in the app server path's profile). */
const hosts = new Map<string, string>();

function hostOf(url: string): string {
  let host = hosts.get(url);
  if (host === undefined) {
    host = new URL(url).host;
    if (hosts.size >= 4096) hosts.clear();
    hosts.set(url, host);
  }
  return host;
}

/** The request's headers as an instance gets them; `deploymentUrl` is the deployment's own URL. */
export function forwardedHeaders(invocation: Invocation, deploymentUrl: string): Headers {
  const headers = new Headers(invocation.request.headers);
  for (const name of HOP_BY_HOP) headers.delete(name);
  // Who asked is the platform's to say, never the visitor's: their own forwarding headers are dropped.
  for (const name of CLIENT_FORWARDING) headers.delete(name);
  headers.set("host", invocation.host);
  headers.set("x-forwarded-host", invocation.host);
  headers.set("x-forwarded-proto", invocation.proto);
  headers.set("x-vercel-id", invocation.requestId);
  headers.set("x-vercel-deployment-url", hostOf(deploymentUrl));
  if (invocation.clientIp) {
    headers.set("x-forwarded-for", invocation.clientIp);
    headers.set("x-real-ip", invocation.clientIp);
    headers.set("x-vercel-forwarded-for", invocation.clientIp);
  }
  return headers;
}

/**
 * An instance's answer as the visitor gets it, for functions and app servers alike: hop-by-hop headers dropped;
 * no body; a body of known length up to `wholeMaxBytes` read whole (relaying a few bytes through a JavaScript stream
 * costs more than the rest of the request); anything else relayed as a stream. `done(status)` is called once the
 * answer is over (read, relayed to its end, or cut by the client), so the pool counts the instance free again; a
 * body to read whole that breaks off is `broken()`'s outcome instead (it calls `done` itself).
 */
export async function relayAnswer(
  answer: Response,
  wholeMaxBytes: number,
  done: (status: number) => void,
  broken: () => Outcome,
): Promise<Outcome> {
  const headers = new Headers(answer.headers);
  for (const name of HOP_BY_HOP) headers.delete(name);
  const length = Number(headers.get("content-length") ?? Number.NaN);
  headers.delete("content-length");
  const body = answer.body;
  if (body === null) {
    done(answer.status);
    return { kind: "response", response: new Response(null, { status: answer.status, headers }) };
  }
  if (Number.isInteger(length) && length >= 0 && length <= wholeMaxBytes) {
    let bytes: ArrayBuffer;
    try {
      bytes = await answer.arrayBuffer();
    } catch {
      return broken();
    }
    done(answer.status);
    // Its length said again (the one read may differ from what was announced): analytics counts it from there.
    headers.set("content-length", String(bytes.byteLength));
    return { kind: "response", response: new Response(bytes, { status: answer.status, headers }) };
  }
  // Streamed through as it comes; the instance counts as busy until the last byte (or the cut-off).
  const relay = countingRelay(body, () => done(answer.status));
  const response = new Response(relay.readable, { status: answer.status, headers });
  return { kind: "response", response: countedAs(response, relay.total) };
}

/** What streamed answers sent, settled when each stream is over: web analytics counts their bytes then. */
const streamedBytes = new WeakMap<Response, Promise<number>>();

/**
 * A relay of `source` that counts the bytes passing through. `end` is called once, when the stream is over
 * (finished, failed or cut off by the visitor); `total` then resolves with what passed.
 */
export function countingRelay(
  source: ReadableStream<Uint8Array>,
  end: () => void,
): { readable: ReadableStream<Uint8Array>; total: Promise<number> } {
  let bytes = 0;
  let settle: (bytes: number) => void = () => {};
  const total = new Promise<number>((resolve) => {
    settle = resolve;
  });
  let over = false;
  const finish = () => {
    if (over) return;
    over = true;
    end();
    settle(bytes);
  };
  const relay = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      bytes += chunk.byteLength;
      controller.enqueue(chunk);
    },
    flush: finish,
  });
  void source.pipeTo(relay.writable).catch(finish);
  return { readable: relay.readable, total };
}

/** Marks `response` as a streamed answer whose size `total` says once it is over. */
export function countedAs(response: Response, total: Promise<number>): Response {
  streamedBytes.set(response, total);
  return response;
}

/** The bytes a streamed answer sent, once it is over; undefined for any other response. */
export function bytesStreamed(response: Response): Promise<number> | undefined {
  return streamedBytes.get(response);
}

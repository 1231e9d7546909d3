// Proxy processes: what an extra proxy process cannot answer itself (a deployment with functions or an app server)
// goes to the first process, which owns the function runtime, over a Unix socket in a private directory. The
// request goes as the visitor sent it, with the socket facts only the first process can no longer see (the
// visitor's address, whether it came over HTTPS) in headers of our own, trusted only on that socket.

import { connectUpstream, type RelayData, withWebSockets } from "../runtime/websocket.ts";
import { page } from "./pages.ts";
import type { Forwarder, SiteProxy } from "./proxy.ts";
import { rawPathOf, splitUrl } from "./request-target.ts";

const PEER_HEADER = "x-minivercel-forwarded-peer";
const SECURE_HEADER = "x-minivercel-forwarded-secure";
/** Headers Bun's fetch adds when a request has none: removed again on arrival, so the function sees none. */
const ABSENT_HEADER = "x-minivercel-forwarded-absent";
const ADDED_BY_FETCH = ["accept", "accept-encoding", "user-agent"];
const OURS = [PEER_HEADER, SECURE_HEADER, ABSENT_HEADER];

/** The visitor's headers plus the socket facts; a visitor's own copy of ours is dropped, never passed on. */
function headersFor(request: Request, peer: string | null, secure: boolean): Headers {
  const headers = new Headers(request.headers);
  for (const name of OURS) headers.delete(name);
  if (peer !== null) headers.set(PEER_HEADER, peer);
  if (secure) headers.set(SECURE_HEADER, "1");
  const absent = ADDED_BY_FETCH.filter((name) => !request.headers.has(name));
  if (absent.length > 0) headers.set(ABSENT_HEADER, absent.join(","));
  return headers;
}

/** The extra process's side: sends requests (and WebSockets) to the first process's socket at `socketPath`. */
export function socketForwarder(
  socketPath: string,
  socketFacts: { peer: (request: Request) => string | null; secure: (request: Request) => boolean },
): Forwarder {
  const targetOf = (request: Request) => `${rawPathOf(request.url)}${splitUrl(request.url).search}`;
  return {
    async fetch(request) {
      const hasBody = request.method !== "GET" && request.method !== "HEAD";
      try {
        return await fetch(`http://localhost${targetOf(request)}`, {
          unix: socketPath,
          method: request.method,
          headers: headersFor(request, socketFacts.peer(request), socketFacts.secure(request)),
          body: hasBody ? request.body : null,
          duplex: "half",
          redirect: "manual",
          decompress: false,
        } as RequestInit);
      } catch {
        return page("error", request.method);
      }
    },
    async websocket(request, upgrade) {
      const headers = headersFor(request, socketFacts.peer(request), socketFacts.secure(request));
      const opened = await connectUpstream({ unix: socketPath }, targetOf(request), headers).catch(
        () => null,
      );
      if (opened === null) return page("app-failed", request.method);
      if (opened.kind === "refused") return opened.response;
      const data: RelayData = { upstream: opened.socket, release: () => {}, protocol: opened.protocol };
      if (upgrade(request, data, opened.protocol)) return undefined;
      opened.socket.end();
      return new Response("expected a WebSocket upgrade", { status: 400 });
    },
  };
}

/** The first process's side: the socket facts of requests that arrived through its forwarding socket. */
export interface ForwardedRequests {
  /** Takes our headers off a request that came over the socket and remembers what they said. */
  adopt(request: Request): void;
  peer(request: Request): string | null | undefined;
  secure(request: Request): boolean;
  /** Whether the request came from an extra process. */
  has(request: Request): boolean;
}

export function forwardedRequests(): ForwardedRequests {
  const facts = new WeakMap<Request, { peer: string | null; secure: boolean }>();
  return {
    adopt(request) {
      const { headers } = request;
      facts.set(request, { peer: headers.get(PEER_HEADER), secure: headers.get(SECURE_HEADER) === "1" });
      for (const name of (headers.get(ABSENT_HEADER) ?? "").split(",")) {
        if (ADDED_BY_FETCH.includes(name)) headers.delete(name);
      }
      for (const name of OURS) headers.delete(name);
    },
    peer: (request) => facts.get(request)?.peer,
    secure: (request) => facts.get(request)?.secure === true,
    has: (request) => facts.has(request),
  };
}

/**
 * The first process's forwarding socket: what arrives there is answered by its proxy as a visitor's request would
 * be (protection, functions, app servers and their WebSockets), with the socket facts the extra process sent.
 * Not counted or logged again: the extra process that took the visitor's request did that.
 */
export function serveForwarded(
  socketPath: string,
  proxy: SiteProxy,
  forwarded: ForwardedRequests,
  maxRequestBodySize: number,
): ReturnType<typeof Bun.serve<RelayData>> {
  const handlers = withWebSockets(proxy, (request) => proxy.fetch(request));
  return Bun.serve<RelayData>({
    unix: socketPath,
    maxRequestBodySize,
    fetch(request, server) {
      forwarded.adopt(request);
      return handlers.fetch(request, server);
    },
    websocket: handlers.websocket,
    error: (error) => proxy.error(error),
  });
}

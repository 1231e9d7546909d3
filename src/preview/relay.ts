// Preview images, the relay: the sandboxed browser's only way out. An HTTP proxy on a unix socket (bound into the
// sandbox) that answers only GET and HEAD for the one host being captured, fetched from where that deployment is
// served; anything else (another host, CONNECT, a form post) is refused. So a page cannot reach the platform's
// services, the host's loopback, the LAN or the internet through the browser, and nothing it does changes state.

import { chmodSync } from "node:fs";

/** Where the relay fetches the captured host's pages: an origin (the proxy) and the Host header to send. */
export interface RelayUpstream {
  /** e.g. http://127.0.0.1:8001, or the deployment's public https://<host> origin. */
  origin: string;
  /** The Host header the proxy routes by (the deployment's host, with its port when not the default). */
  host: string;
  /** Sent with every request (a protection bypass held by the platform); never answered back to the browser. */
  headers?: Record<string, string>;
}

/** Headers that belong to one hop, or that the browser must not pass on. */
const DROPPED_REQUEST = [
  "host",
  "proxy-connection",
  "proxy-authorization",
  "connection",
  "keep-alive",
  "cookie",
];
const DROPPED_RESPONSE = [
  "content-encoding",
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
];
/** A capture reads at most this many responses (a page that loops on itself ends here). */
const MAX_REQUESTS = 300;

export function startRelay(socketPath: string, allowedHost: string, upstream: RelayUpstream) {
  let requests = 0;
  const server = Bun.serve({
    unix: socketPath,
    async fetch(request) {
      const url = new URL(request.url);
      if (url.host !== allowedHost || url.protocol !== "http:")
        return refuse(403, `only http://${allowedHost} is reachable from a preview capture`);
      if (request.method !== "GET" && request.method !== "HEAD") return refuse(405, "only GET and HEAD");
      requests += 1;
      if (requests > MAX_REQUESTS) return refuse(429, "too many requests for one capture");
      const headers = new Headers(request.headers);
      for (const name of DROPPED_REQUEST) headers.delete(name);
      headers.set("host", upstream.host);
      headers.set("accept-encoding", "identity");
      for (const [name, value] of Object.entries(upstream.headers ?? {})) headers.set(name, value);
      try {
        const answer = await fetch(`${upstream.origin}${url.pathname}${url.search}`, {
          method: request.method,
          headers,
          redirect: "manual",
          signal: AbortSignal.timeout(20_000),
        });
        const out = new Headers(answer.headers);
        for (const name of DROPPED_RESPONSE) out.delete(name);
        // Cookies the site sets stay with the site's pages in this one capture; a redirect back to the same host
        // over https comes back through here.
        const location = out.get("location");
        if (location !== null) out.set("location", location.replace(/^https:\/\//i, "http://"));
        return new Response(request.method === "HEAD" ? null : answer.body, {
          status: answer.status,
          headers: out,
        });
      } catch {
        return refuse(502, "the deployment did not answer");
      }
    },
  });
  // The sandbox's own uid connects to it.
  chmodSync(socketPath, 0o666);
  return {
    stop: async () => {
      await server.stop(true);
    },
  };
}

function refuse(status: number, message: string): Response {
  return new Response(message, { status, headers: { "content-type": "text/plain" } });
}

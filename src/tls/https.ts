// Automatic HTTPS, step 4: the listeners. Port 80 (PROXY_PORT) answers the CA's HTTP-01 requests from the store
// and redirects everything else to https. Port 443 (HTTPS_PORT) is a node:tls server whose SNICallback picks the
// certificate per host at handshake time; it hands the decrypted stream to an in-process Bun.serve on loopback,
// which serves the dashboard host (in process, or forwarded to DASHBOARD_UPSTREAM) and every site by Host.
//
// Why this shape (Bun 1.4.5, tried first): Bun.serve's `tls` array selects by SNI but is fixed at start
// (`server.reload()` does not change certificates) and has no callback, and node:https ignores SNICallback;
// node:tls.createServer honours an asynchronous SNICallback, so certificates can be ordered, renewed and picked
// up from other processes without restarting the listener.

import { connect, type Socket } from "node:net";
import { createServer, type TLSSocket } from "node:tls";
import type { HttpsConfig } from "../config/config.ts";
import type { Logger } from "../observe/log.ts";
import { type RelayData, relayHandlers, type WebSocketRouter } from "../runtime/websocket.ts";
import type { Certificates } from "../store/certs.ts";
import type { CertManager } from "./certificates.ts";

type Handler = (request: Request) => Response | Promise<Response>;

const CHALLENGE_PREFIX = "/.well-known/acme-challenge/";
const TOKEN = /^[A-Za-z0-9_-]{1,256}$/;
const HOST_HEADER = /^([a-z0-9.-]+)(?::\d{1,5})?$/;
/** Headers of one connection (RFC 9110 7.6.1), not passed on to DASHBOARD_UPSTREAM. */
const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade"];

/** The plain-HTTP listener's handler with ACME on: HTTP-01 answers, else a permanent redirect to https. */
export function httpFront(
  /** The HTTPS listener's port (a function: with HTTPS_PORT=0 it is known only once that listener runs). */
  httpsPort: () => number,
  certificates: Pick<Certificates, "challenge">,
): Handler {
  return async (request) => {
    const url = new URL(request.url);
    if (url.pathname.startsWith(CHALLENGE_PREFIX)) {
      const token = url.pathname.slice(CHALLENGE_PREFIX.length);
      const answer = TOKEN.test(token) ? await certificates.challenge(token, new Date().toISOString()) : null;
      return answer === null
        ? new Response("no such challenge\n", { status: 404 })
        : new Response(answer, { headers: { "content-type": "text/plain" } });
    }
    // Only a well-formed host goes into Location: a crafted Host header cannot redirect elsewhere by injection.
    const host = HOST_HEADER.exec((request.headers.get("host") ?? "").toLowerCase())?.[1];
    if (!host) return new Response("bad Host header\n", { status: 400 });
    const port = httpsPort() === 443 ? "" : `:${httpsPort()}`;
    return new Response(null, {
      status: 301,
      headers: { location: `https://${host}${port}${url.pathname}${url.search}` },
    });
  };
}

export interface HttpsListener {
  port: number;
  /** The client's address for a request that came in over TLS (the loopback hop hides it from requestIP). */
  clientOf(request: Request): string | null;
  /** Lifts the idle cut-off for a request over TLS whose answer may pause (a function's stream). */
  unbounded(request: Request): void;
  stop(): Promise<void>;
}

export async function startHttpsListener(deps: {
  https: HttpsConfig;
  /** Address to bind (LISTEN_HOST). */
  host: string;
  certs: CertManager;
  sites: Handler;
  /** Where a site's WebSocket requests go (app servers), as on the plain-HTTP port; absent: answered by `sites`. */
  websockets?: WebSocketRouter;
  /** The dashboard and API in this process, or null (then DASHBOARD_UPSTREAM, or 404). */
  dashboard: Handler | null;
  log: Logger;
}): Promise<HttpsListener> {
  const { https, certs, sites, dashboard, log } = deps;
  // The loopback hop's source port -> the TLS client's address, while its connection lasts.
  const clients = new Map<number, string>();
  const viaTls = new WeakMap<Request, string>();
  const upstream = https.dashboardUpstream;

  async function forward(request: Request, client: string): Promise<Response> {
    if (upstream === null) return new Response("the dashboard is not served here\n", { status: 404 });
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    for (const name of HOP_BY_HOP) headers.delete(name);
    // The TLS client is the only address we know first-hand: a client's own X-Forwarded-For is not passed on.
    headers.set("x-forwarded-for", client);
    headers.set("x-forwarded-host", https.dashboardHost);
    const hasBody = request.method !== "GET" && request.method !== "HEAD";
    try {
      return await fetch(`${upstream}${url.pathname}${url.search}`, {
        method: request.method,
        headers,
        // The browser follows redirects and decodes compressed bodies, not us.
        redirect: "manual",
        decompress: false,
        ...(hasBody && { body: request.body, duplex: "half" }),
      });
    } catch (error) {
      log.warn("tls: DASHBOARD_UPSTREAM did not answer", { upstream, path: url.pathname, error });
      return new Response("the dashboard is unreachable\n", { status: 502 });
    }
  }

  const inner = Bun.serve<RelayData>({
    hostname: "127.0.0.1",
    port: 0,
    // The API's cap (one uploaded file); the site proxy and dashboard check their own limits.
    maxRequestBodySize: 128 * 1024 * 1024,
    fetch(request, server) {
      const peer = server.requestIP(request);
      const client = (peer && clients.get(peer.port)) ?? "unknown";
      viaTls.set(request, client);
      // Handlers read the scheme from here (Secure cookies); a client's own value is overwritten.
      request.headers.set("x-forwarded-proto", "https");
      const host = HOST_HEADER.exec((request.headers.get("host") ?? "").toLowerCase())?.[1];
      if (host === https.dashboardHost) return dashboard ? dashboard(request) : forward(request, client);
      if (deps.websockets && request.headers.get("upgrade")?.toLowerCase() === "websocket")
        return deps.websockets.websocket(request, (req, data, protocol) =>
          server.upgrade(req, { data, ...(protocol && { headers: { "sec-websocket-protocol": protocol } }) }),
        );
      return sites(request);
    },
    websocket: relayHandlers,
  });

  const tls = createServer({
    SNICallback(servername, done) {
      certs.contextFor(servername).then(
        (context) => (context ? done(null, context) : done(new Error(`no certificate for ${servername}`))),
        (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
      );
    },
  });
  tls.on("secureConnection", (socket: TLSSocket) => {
    const plain: Socket = connect({ host: "127.0.0.1", port: inner.port ?? 0 });
    const address = socket.remoteAddress ?? "unknown";
    let local = 0;
    // Bytes flow only once the hop's source port is known, so the first request already finds its client.
    plain.once("connect", () => {
      local = plain.localPort ?? 0;
      clients.set(local, address);
      socket.pipe(plain);
      plain.pipe(socket);
    });
    const close = () => {
      if (local) clients.delete(local);
      socket.destroy();
      plain.destroy();
    };
    socket.on("error", close);
    plain.on("error", close);
    socket.on("close", close);
    plain.on("close", close);
  });
  // A refused handshake (unknown host) is the client's problem, not an error of ours.
  tls.on("tlsClientError", () => {});
  await new Promise<void>((resolve, reject) => {
    tls.once("error", reject);
    tls.listen(https.port, deps.host, () => resolve());
  });
  const bound = tls.address();
  return {
    port: typeof bound === "object" && bound ? bound.port : https.port,
    clientOf: (request) => viaTls.get(request) ?? null,
    unbounded: (request) => inner.timeout(request, 0),
    async stop() {
      await new Promise<void>((resolve) => tls.close(() => resolve()));
      await inner.stop();
    },
  };
}

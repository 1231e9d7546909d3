// What the runtime sends to an instance and back, for functions and app servers alike: the visitor's request with
// the platform's forwarding headers (never the visitor's own), and the answer without hop-by-hop headers.

import type { Invocation } from "./runtime.ts";

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

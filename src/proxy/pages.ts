// Proxy: the proxy's own pages (unknown host, not deployed, errors). Fixed texts only: nothing from the request
// (Host, path) is ever written into them, so they cannot reflect markup.

import type { Route } from "./route-table.ts";

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "strict-origin-when-cross-origin",
  "x-frame-options": "SAMEORIGIN",
};

export type PageKind =
  | "bad-host"
  | "bad-path"
  | "too-long"
  | "method"
  | "unknown-host"
  | "not-deployed"
  | "no-deployment"
  | "no-branch"
  | "not-found"
  | "missing-files"
  | "function-failed"
  | "function-timeout"
  | "functions-unavailable"
  | "app-failed"
  | "app-crash-loop"
  | "apps-unavailable"
  | "app-unavailable"
  | "error";

const PAGES: Record<PageKind, [status: number, title: string, detail: string]> = {
  "bad-host": [400, "Bad request", "The Host header is missing or malformed."],
  "bad-path": [400, "Bad request", "The request path is malformed or not allowed."],
  "too-long": [414, "URI too long", "The request path is too long."],
  method: [405, "Method not allowed", "Sites are static: only GET and HEAD requests are served."],
  "unknown-host": [404, "No site here", "This host is not a project of this minivercel server."],
  "not-deployed": [404, "Not deployed yet", "This project has no production deployment yet."],
  "no-deployment": [404, "No deployment here", "There is no ready deployment at this address."],
  "no-branch": [404, "No deployment here", "This branch has no ready deployment yet."],
  "not-found": [404, "Page not found", "There is no page at this address."],
  "missing-files": [
    502,
    "Deployment unavailable",
    "This deployment's files could not be read from the artifact store. Try again shortly.",
  ],
  "function-failed": [502, "Function failed", "This page's function crashed or could not start. Try again."],
  "function-timeout": [504, "Function timed out", "This page's function did not answer in time."],
  "functions-unavailable": [
    503,
    "Functions unavailable",
    "No server is available to run this page's function right now. Try again shortly.",
  ],
  "app-failed": [502, "App server failed", "This app's server crashed or could not start. Try again."],
  "app-crash-loop": [
    502,
    "App server crash loop",
    "This app's server keeps crashing on start; its owner can see why in the deployment's runtime logs.",
  ],
  "apps-unavailable": [503, "App servers unavailable", "This proxy runs no app servers."],
  "app-unavailable": [
    503,
    "App server unavailable",
    "No server is available to run this app right now. Try again shortly.",
  ],
  error: [500, "Server error", "Something went wrong while serving this page."],
};

/** Titles of the statuses a deployment's routes may answer with, for statusPage. */
const STATUS_TITLES: Record<number, string> = {
  400: "Bad request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Page not found",
  405: "Method not allowed",
  410: "Gone",
  429: "Too many requests",
  500: "Server error",
  502: "Bad gateway",
  503: "Service unavailable",
};

const bodies = new Map<PageKind, string>(
  Object.entries(PAGES).map(([kind, [, title, detail]]) => [
    kind as PageKind,
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;margin:15vh auto;max-width:32rem;padding:0 1rem;color:#222}
h1{font-size:1.4rem}p{color:#555}</style></head><body><h1>${title}</h1><p>${detail}</p></body></html>`,
  ]),
);

/** A page for a bare status a deployment's routes answered with (a 404 is the not-found page). */
export function statusPage(status: number, method = "GET"): Response {
  if (status === 404) return page("not-found", method);
  const title = STATUS_TITLES[status] ?? (status >= 500 ? "Server error" : "Request refused");
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1></body></html>`;
  const headers = {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    ...SECURITY_HEADERS,
  };
  return new Response(method === "HEAD" ? null : body, { status, headers });
}

/**
 * Each page's body and headers, made once: a prebuilt Headers instance is copied far faster than a plain object
 * is turned into one, and a Blob body is not copied per response (bench/README.md: 404s are a hot path too).
 */
const prebuilt = new Map<PageKind, { status: number; body: Blob; headers: Headers }>();
function prebuiltPage(kind: PageKind) {
  let found = prebuilt.get(kind);
  if (!found) {
    const [status] = PAGES[kind];
    const text = bodies.get(kind) ?? "";
    const headers = new Headers({
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      ...SECURITY_HEADERS,
      // Also on GET, where Bun would add it itself: the access log reads the size from here.
      "content-length": String(Buffer.byteLength(text)),
      ...(status === 405 && { allow: "GET, HEAD" }),
    });
    found = { status, body: new Blob([text]), headers };
    prebuilt.set(kind, found);
  }
  return found;
}

/** The page as a response; a HEAD request gets the headers only. */
export function page(kind: PageKind, method = "GET"): Response {
  const { status, body, headers } = prebuiltPage(kind);
  return new Response(method === "HEAD" ? null : body, { status, headers });
}

/** The page for a host with no site to serve: unknown, nothing deployed, no such deployment or branch. */
export function missingRoutePage(
  route: Exclude<Route, { kind: "site" } | { kind: "redirect" }>,
  method: string,
): Response {
  if (route.kind === "unknown") return page("unknown-host", method);
  if (route.what === "production") return page("not-deployed", method);
  return page(route.what === "deployment" ? "no-deployment" : "no-branch", method);
}

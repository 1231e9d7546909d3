// Proxy: the proxy's own pages (unknown host, not deployed, errors). Fixed texts only: nothing from the request
// (Host, path) is ever written into them, so they cannot reflect markup.

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
  error: [500, "Server error", "Something went wrong while serving this page."],
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

/** The page as a response; a HEAD request gets the headers only. */
export function page(kind: PageKind, method = "GET"): Response {
  const [status] = PAGES[kind];
  const body = bodies.get(kind) ?? "";
  const headers: Record<string, string> = {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    ...SECURITY_HEADERS,
  };
  if (status === 405) headers.allow = "GET, HEAD";
  // Also on GET, where Bun would add it itself: the access log reads the size from here.
  headers["content-length"] = String(Buffer.byteLength(body));
  if (method === "HEAD") return new Response(null, { status, headers });
  return new Response(body, { status, headers });
}

// Dashboard responses: server-rendered HTML with security headers, and redirects htmx understands.

import type { VNode } from "preact";
import { renderToString } from "preact-render-to-string";

// Everything is served by us: no inline scripts or styles, no other origins, no framing (clickjacking).
const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "x-frame-options": "DENY",
};

export function securityHeaders(extra?: HeadersInit): Headers {
  const headers = new Headers(extra);
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) headers.set(name, value);
  return headers;
}

/** True for requests htmx made (they get fragments swapped in, and HX-Redirect instead of 303). */
export const isHtmx = (request: Request): boolean => request.headers.get("hx-request") === "true";

/** Renders a page (or fragment) to an HTML response. */
export function html(node: VNode, status = 200, extra?: HeadersInit): Response {
  const headers = securityHeaders(extra);
  headers.set("content-type", "text/html; charset=utf-8");
  headers.set("cache-control", "no-store");
  const body = renderToString(node);
  return new Response(body.startsWith("<html") ? `<!doctype html>${body}` : body, { status, headers });
}

/** After a successful POST: 303 to `location`, or for htmx a full navigation there (HX-Redirect). */
export function redirect(request: Request, location: string, extra?: HeadersInit): Response {
  const headers = securityHeaders(extra);
  headers.set("cache-control", "no-store");
  if (isHtmx(request)) {
    headers.set("hx-redirect", location);
    // A new fragment on the same page is only a scroll for the browser; make it reload as well.
    if (sameDocument(request.headers.get("hx-current-url"), location)) headers.set("hx-refresh", "true");
    return new Response(null, { status: 200, headers });
  }
  headers.set("location", location);
  return new Response(null, { status: 303, headers });
}

function sameDocument(current: string | null, location: string): boolean {
  if (!current || !location.includes("#")) return false;
  try {
    const target = new URL(location, current);
    const now = new URL(current);
    return target.origin === now.origin && target.pathname === now.pathname && target.search === now.search;
  } catch {
    return false;
  }
}

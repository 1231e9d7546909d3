// Build Output routes: what routing decides for one request, and the two pure helpers whoever serves it uses to
// apply the routes' header edits to the request sent to a function and to the response.

import { type ResolvedTransform, transformHeaders } from "./transforms.ts";

/** A request as routing sees it. */
export interface RouteRequest {
  method: string;
  /** The decoded path, as the proxy's `normalizePath` returns it. */
  path: string;
  /** The raw query string, without "?". */
  query: string;
  headers: Headers;
  /** Lowercase, without the port. */
  host: string;
}

/** Headers routing adds to the response, in the order they apply. */
export interface ResponsePlan {
  /** From routes' `headers`: they replace a static file's defaults; a function's own headers win over them. */
  headers: Record<string, string>;
  /** From routes marked `important`: they win over the function's own headers too. */
  important: Record<string, string>;
  /** The `response.headers` transforms of the last route that had some (as Vercel's proxy keeps them). */
  transforms: ResolvedTransform[];
}

export type RouteAnswer =
  /** A static file (`file`: its manifest path). Only GET and HEAD are served from files. */
  | { kind: "static"; file: string; contentType?: string; status: number; response: ResponsePlan }
  /**
   * A function (`name`: its path, "/api/hello"), invoked with `path` (the path the visitor asked for, unless a
   * `request.path` transform set another; percent-encoded, ready for a URL) and `query` (the visitor's, merged
   * with the rewrites', raw, without "?"). `status` is set when a route forced one. `requestHeaders`:
   * transforms for the request sent to the function (see `requestHeaders()`).
   */
  | {
      kind: "function";
      name: string;
      prerendered: boolean;
      path: string;
      query: string;
      status?: number;
      requestHeaders: ResolvedTransform[];
      response: ResponsePlan;
    }
  /** A redirect; `location` is ready to send (placeholders filled and encoded, the visitor's query kept). */
  | { kind: "redirect"; status: number; location: string; response: ResponsePlan }
  /** Nothing to serve: a bare status (404 when no route found anything), with the routes' headers. */
  | { kind: "status"; status: number; reason?: string; response: ResponsePlan };

export const emptyPlan = (): ResponsePlan => ({ headers: {}, important: {}, transforms: [] });

/**
 * The response headers to send: `own` are the file's defaults or the function's response headers. Route headers
 * win over a static file's defaults but not over a function's own headers; `important` ones win over both.
 */
export function responseHeaders(plan: ResponsePlan, own: Headers, from: "static" | "function"): Headers {
  const out = new Headers(own);
  for (const [name, value] of Object.entries(plan.headers)) {
    if (from === "static" || !own.has(name)) out.set(name, value);
  }
  for (const [name, value] of Object.entries(plan.important)) out.set(name, value);
  for (const transform of plan.transforms) transformHeaders(out, transform);
  return out;
}

/** responseHeaders applied to `headers` itself (those of a response the platform made); nothing to do, no work. */
export function applyResponseHeaders(
  plan: ResponsePlan,
  headers: Headers,
  from: "static" | "function",
): void {
  const empty =
    plan.transforms.length === 0 &&
    Object.keys(plan.headers).length === 0 &&
    Object.keys(plan.important).length === 0;
  if (empty) return;
  const merged = responseHeaders(plan, headers, from);
  for (const name of [...headers.keys()]) headers.delete(name);
  for (const [name, value] of merged) headers.append(name, value);
}

/** The headers of the request sent to a function, after the routes' `request.headers` transforms. */
export function requestHeaders(transforms: ResolvedTransform[], incoming: Headers): Headers {
  const out = new Headers(incoming);
  for (const transform of transforms) transformHeaders(out, transform);
  return out;
}

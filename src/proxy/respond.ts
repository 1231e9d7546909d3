// Proxy, last step: one manifest file -> an HTTP response. Headers are built once per (deployment, path) and
// reused; per request only content negotiation, conditional requests, ranges and the body remain.

import type { ManifestFile } from "../store/artifacts.ts";
import type { Bodies, BodyRef } from "./bodies.ts";
import { COOKIE_SEPARATOR } from "./headers-file.ts";
import { page, SECURITY_HEADERS } from "./pages.ts";
import { isFingerprinted } from "./request-target.ts";

export const IMMUTABLE = "public, max-age=31536000, immutable";
export const REVALIDATE = "public, max-age=0, must-revalidate";

type HeaderMap = Record<string, string>;

interface Variant extends BodyRef {
  hash: string;
  size: number;
  etag: string;
  /** Shared by every response of this variant: never mutated (a Headers instance is much faster to copy). */
  headers: Headers;
}

/**
 * A file ready to answer with: its status and prebuilt headers per encoding. Only a 200 answers conditional and
 * range requests; other statuses (a site's 404 page, a Build Output route's 500 page) send the file as it is.
 */
export interface Served {
  status: number;
  identity: Variant;
  gzip: Variant | null;
  br: Variant | null;
  /** The deployment's time, in ms, whole seconds (Last-Modified); null when unknown. */
  modifiedAt: number | null;
}

/** A deployment's files never change: their Last-Modified is when it was made, as an HTTP-date. */
export function httpDate(iso: string): string | null {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : new Date(ms).toUTCString();
}

/** Cache policy: fingerprinted non-HTML assets forever, everything else revalidated on each use (cheap: 304). */
export function cacheControl(path: string, type: string, status: number): string {
  if (status !== 200 || type.startsWith("text/html")) return REVALIDATE;
  return isFingerprinted(path) ? IMMUTABLE : REVALIDATE;
}

/**
 * Prebuilds the headers of `file` (at manifest path `path`) answered with `status`, plus the `_headers` rules'
 * headers for the request path (`custom`, lowercase names), which override the defaults.
 */
export function prepare(
  path: string,
  file: ManifestFile,
  status: Served["status"],
  custom: HeaderMap,
  lastModified: string | null = null,
): Served {
  const compressed = file.gzip !== undefined || file.br !== undefined;
  const { "set-cookie": cookies, ...rest } = custom;
  const base: HeaderMap = {
    "content-type": file.type,
    "cache-control": cacheControl(path, file.type, status),
    ...(lastModified !== null && status === 200 && { "last-modified": lastModified }),
    ...SECURITY_HEADERS,
    ...(compressed && { vary: "Accept-Encoding" }),
    ...rest,
  };
  const variant = (hash: string, size: number, etag: string, encoding: string | null): Variant => {
    const headers = new Headers({
      ...base,
      etag,
      ...(encoding ? { "content-encoding": encoding } : { "accept-ranges": "bytes" }),
    });
    // Each cookie is a header of its own (RFC 6265: Set-Cookie values are never folded with commas).
    for (const cookie of cookies?.split(COOKIE_SEPARATOR) ?? []) headers.append("set-cookie", cookie);
    return { hash, size, etag, headers, slot: null };
  };
  return {
    status,
    identity: variant(file.hash, file.size, `"${file.hash}"`, null),
    gzip: file.gzip ? variant(file.gzip.hash, file.gzip.size, `"${file.hash}-gz"`, "gzip") : null,
    br: file.br ? variant(file.br.hash, file.br.size, `"${file.hash}-br"`, "br") : null,
    modifiedAt: lastModified === null || status !== 200 ? null : Date.parse(lastModified),
  };
}

/**
 * If-Modified-Since (RFC 9110 13.1.3): true when the file has not changed since the date given. Only asked
 * without If-None-Match; a date that does not parse is ignored.
 */
export function notModifiedSince(header: string, modifiedAt: number): boolean {
  const since = Date.parse(header);
  return !Number.isNaN(since) && modifiedAt <= since;
}

/** If-Range (RFC 9110 13.1.5): the range applies when the validator is the variant's ETag or exact Last-Modified. */
function rangeStillValid(ifRange: string, variant: Variant, served: Served): boolean {
  const value = ifRange.trim();
  if (value === variant.etag) return true;
  return (
    served.modifiedAt !== null &&
    !value.startsWith('"') &&
    !value.startsWith("W/") &&
    Date.parse(value) === served.modifiedAt
  );
}

type Accepted = { br: boolean; gzip: boolean };
const acceptCache = new Map<string, Accepted>();
const NONE: Accepted = { br: false, gzip: false };

/** Which of br and gzip an Accept-Encoding header allows (q=0 refuses; "*" allows what is not named). */
export function acceptedEncodings(header: string | null): Accepted {
  if (header === null || header === "") return NONE;
  const cached = acceptCache.get(header);
  if (cached) return cached;
  const q = new Map<string, number>();
  for (const part of header.toLowerCase().split(",")) {
    const [name = "", ...params] = part.split(";").map((s) => s.trim());
    const weight = params.find((p) => p.startsWith("q="));
    const value = weight ? Number(weight.slice(2)) : 1;
    q.set(name, Number.isNaN(value) ? 0 : value);
  }
  const allows = (name: string) => (q.get(name) ?? q.get("*") ?? 0) > 0;
  const result = { br: allows("br"), gzip: allows("gzip") || allows("x-gzip") };
  // Header values repeat across clients; the bound keeps odd ones from growing the map.
  if (acceptCache.size >= 256) acceptCache.clear();
  acceptCache.set(header, result);
  return result;
}

/** If-None-Match against a strong ETag, by weak comparison (RFC 9110 13.1.2). */
export function etagMatches(header: string, etag: string): boolean {
  if (header.trim() === "*") return true;
  for (const part of header.split(",")) {
    const tag = part.trim();
    if ((tag.startsWith("W/") ? tag.slice(2) : tag) === etag) return true;
  }
  return false;
}

export type RangeResult =
  | { kind: "full" }
  | { kind: "partial"; start: number; end: number }
  | { kind: "unsatisfiable" };

/** One `bytes=` range; several ranges or a malformed header mean the whole file (RFC 9110 allows ignoring). */
export function parseRange(header: string, size: number): RangeResult {
  const found = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!found) return { kind: "full" };
  const [, first = "", last = ""] = found;
  if (first === "" && last === "") return { kind: "full" };
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "partial", start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (start >= size) return { kind: "unsatisfiable" };
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  if (end < start) return { kind: "full" };
  return { kind: "partial", start, end };
}

function chooseVariant(served: Served, headers: Headers, ranged: boolean): Variant {
  if (ranged || (served.br === null && served.gzip === null)) return served.identity;
  const accepted = acceptedEncodings(headers.get("accept-encoding"));
  if (served.br && accepted.br) return served.br;
  if (served.gzip && accepted.gzip) return served.gzip;
  return served.identity;
}

function withHeaders(variant: Variant, extra: HeaderMap): Headers {
  const headers = new Headers(variant.headers);
  for (const [name, value] of Object.entries(extra)) headers.set(name, value);
  return headers;
}

function withBody(
  body: Blob | null | Promise<Blob | null>,
  method: string,
  make: (body: Blob) => Response,
): Response | Promise<Response> {
  if (body instanceof Promise)
    return body.then((b) => (b === null ? page("missing-files", method) : make(b)));
  return body === null ? page("missing-files", method) : make(body);
}

/**
 * Answers a GET or HEAD for a prepared file, reading the body through `bodies` (502 when it is gone).
 * Synchronous when the body is in memory: the common case costs no promise.
 */
export function respond(served: Served, request: Request, bodies: Bodies): Response | Promise<Response> {
  const method = request.method;
  const headers = request.headers;
  const rangeHeader = served.status === 200 ? headers.get("range") : null;
  const variant = chooseVariant(served, headers, rangeHeader !== null);
  if (served.status === 200) {
    const inm = headers.get("if-none-match");
    if (inm !== null) {
      if (etagMatches(inm, variant.etag))
        return new Response(null, { status: 304, headers: variant.headers });
    } else if (served.modifiedAt !== null) {
      const ims = headers.get("if-modified-since");
      if (ims !== null && notModifiedSince(ims, served.modifiedAt))
        return new Response(null, { status: 304, headers: variant.headers });
    }
  }
  let range: RangeResult = { kind: "full" };
  if (rangeHeader !== null) {
    const ifRange = headers.get("if-range");
    if (ifRange === null || rangeStillValid(ifRange, variant, served))
      range = parseRange(rangeHeader, variant.size);
  }
  if (range.kind === "unsatisfiable") {
    return new Response(null, {
      status: 416,
      headers: withHeaders(variant, { "content-range": `bytes */${variant.size}` }),
    });
  }
  if (range.kind === "partial") {
    const { start, end } = range;
    const partial = { "content-range": `bytes ${start}-${end}/${variant.size}` };
    if (method === "HEAD") {
      const head = withHeaders(variant, { ...partial, "content-length": String(end - start + 1) });
      return new Response(null, { status: 206, headers: head });
    }
    return withBody(bodies.get(variant.hash, variant.size, variant), method, (body) => {
      const part = body.slice(start, end + 1);
      return new Response(part, { status: 206, headers: withHeaders(variant, partial) });
    });
  }
  if (method === "HEAD") {
    const head = withHeaders(variant, { "content-length": String(variant.size) });
    return new Response(null, { status: served.status, headers: head });
  }
  // The hot path: no closure, and no promise when the body is in memory.
  const body = bodies.get(variant.hash, variant.size, variant);
  if (body instanceof Promise) {
    return body.then((b) =>
      b === null
        ? page("missing-files", method)
        : new Response(b, { status: served.status, headers: variant.headers }),
    );
  }
  if (body === null) return page("missing-files", method);
  return new Response(body, { status: served.status, headers: variant.headers });
}

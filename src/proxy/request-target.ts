// Proxy, first step: what a request asks for. The Host header and the URL path are untrusted input; anything
// that could name a file outside the deployment (dot segments, encoded slashes, double encoding, NUL) is refused.

import { FORBIDDEN_NAME_CHARS } from "../store/artifacts.ts";

/** Longest URL path served (before decoding); longer paths get 414. */
export const MAX_PATH_CHARS = 1024;

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const IPV6_LITERAL = /^\[[0-9a-f:.]{2,45}\]$/;
const PORT = /^\d{1,5}$/;

/**
 * The host a request names: lowercased, without the port or a final dot. Null when missing or malformed
 * (RFC 1123 labels, at most 253 characters). A bracketed IPv6 literal is well-formed but names no site.
 */
export function normalizeHost(header: string | null): string | null {
  if (header === null) return null;
  let host = header.toLowerCase();
  const bracket = host.lastIndexOf("]");
  const colon = host.lastIndexOf(":");
  if (colon > bracket) {
    const port = host.slice(colon + 1);
    if (!PORT.test(port) || Number(port) > 65535) return null;
    host = host.slice(0, colon);
  }
  if (host.startsWith("[")) return IPV6_LITERAL.test(host) ? host : null;
  if (host.endsWith(".")) host = host.slice(0, -1);
  if (host.length === 0 || host.length > 253) return null;
  for (const label of host.split(".")) if (!LABEL.test(label)) return null;
  return host;
}

function pathStart(url: string): number {
  if (url.startsWith("/")) return 0;
  const scheme = url.indexOf("://");
  return url.indexOf("/", scheme < 0 ? 0 : scheme + 3);
}

/** The raw (still percent-encoded) path of a request URL (absolute or origin-form). */
export function rawPathOf(url: string): string {
  const start = pathStart(url);
  if (start < 0) return "/";
  for (let i = start; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 63 /* ? */ || c === 35 /* # */) return url.slice(start, i);
  }
  return start === 0 ? url : url.slice(start);
}

/** The raw path and the query (with its "?", or "") of a request URL. */
export function splitUrl(url: string): { rawPath: string; search: string } {
  const start = pathStart(url);
  if (start < 0) return { rawPath: "/", search: "" };
  const hash = url.indexOf("#", start);
  const end = hash < 0 ? url.length : hash;
  const query = url.indexOf("?", start);
  if (query < 0 || query > end) return { rawPath: url.slice(start, end), search: "" };
  return { rawPath: url.slice(start, query), search: url.slice(query, end) };
}

/** A decoded path, or the status refusing it (400 malformed or unsafe, 414 too long). */
export type PathResult = string | 400 | 414;

/** Characters that need no decoding: the common case skips the slow path entirely. */
const PLAIN = /^[A-Za-z0-9\-._~/!$&'()*+,;=:@]*$/;
const BAD_ESCAPE = /%(?![0-9A-Fa-f]{2})/;
/** Encoded "/", "\" and "%" (the last is how double encoding hides "%2e%2e" or "%2f" from one decode). */
const DANGEROUS_ESCAPE = /%(?:2f|5c|25)/i;

/**
 * Decodes the path once and checks it: no "." or ".." segments, no encoded slash or backslash, no "%25"
 * (double encoding), no NUL or control characters, valid UTF-8, at most MAX_PATH_CHARS. Repeated slashes are
 * merged; a trailing slash is kept (it selects a directory's index.html).
 */
export function normalizePath(rawPath: string): PathResult {
  if (rawPath.length > MAX_PATH_CHARS) return 414;
  if (!rawPath.startsWith("/")) return 400;
  let path = rawPath;
  if (!PLAIN.test(rawPath)) {
    if (BAD_ESCAPE.test(rawPath) || DANGEROUS_ESCAPE.test(rawPath)) return 400;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      return 400;
    }
    if (FORBIDDEN_NAME_CHARS.test(path) || path.includes("\uFFFD")) return 400;
  }
  if (!path.includes("/.") && !path.includes("//")) return path;
  const segments = path.split("/");
  const kept: string[] = [];
  for (const segment of segments) {
    if (segment === "." || segment === "..") return 400;
    if (segment !== "") kept.push(segment);
  }
  const trailing = path.length > 1 && path.endsWith("/");
  return `/${kept.join("/")}${trailing && kept.length > 0 ? "/" : ""}`;
}

const HEX_HASH = /^[0-9a-f]{8,}$/;
const MIXED_HASH = /^[A-Za-z0-9_]{8,}$/;
/** Build tools' output directories whose every file name is content-hashed. */
const IMMUTABLE_DIRS = ["/_next/static/", "/_app/immutable/", "/_astro/"];

/**
 * Whether a file name carries a content hash (`app.3f9a1c2b.js`, `index-BQ8Xk2a1.js`), so it can be cached
 * forever. Conservative: a miss only costs a revalidation, a false hit would serve stale content for a year.
 * A hash is a "."- or "-"-separated part of the name (not its first part, not the extension): 8+ lowercase hex
 * with a digit and a letter, or 8+ base64url-like characters with a digit, an uppercase and a lowercase letter.
 */
export function isFingerprinted(path: string): boolean {
  if (IMMUTABLE_DIRS.some((dir) => path.startsWith(dir))) return true;
  const name = path.slice(path.lastIndexOf("/") + 1);
  const dot = name.lastIndexOf(".");
  if (dot <= 0) return false;
  return name.slice(0, dot).split(/[.-]/).slice(1).some(looksLikeHash);
}

function looksLikeHash(part: string): boolean {
  if (HEX_HASH.test(part)) return /\d/.test(part) && /[a-f]/.test(part);
  return MIXED_HASH.test(part) && /\d/.test(part) && /[A-Z]/.test(part) && /[a-z]/.test(part);
}

/**
 * A request's Host, normalized (null when there is none or it is not a host). Host header values repeat; their
 * normalized form is remembered (bounded), the last one without even hashing it.
 */
export function createHostOf(): (request: Request) => string | null {
  const hosts = new Map<string, string | null>();
  let lastHeader = "";
  let lastHost: string | null = null;
  function hostOf(request: Request): string | null {
    const header = request.headers.get("host");
    if (header === null) return null;
    if (header === lastHeader) return lastHost;
    let host = hosts.get(header);
    if (host === undefined) {
      host = normalizeHost(header);
      if (hosts.size >= 4096) hosts.clear();
      hosts.set(header, host);
    }
    lastHeader = header;
    lastHost = host;
    return host;
  }
  return hostOf;
}

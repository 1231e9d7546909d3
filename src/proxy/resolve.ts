// Proxy: a request path -> what to answer from one deployment's manifest. The rules, in order:
//   1. the static lookup: exact file; "/" and "/dir/" -> index.html; "/about" -> /about.html; "/dir" (only
//      /dir/index.html exists) -> 308 to "/dir/"; "/about/" -> /about/index.html, else /about.html
//   2. `_redirects`: a forced rule ("!") applies even when step 1 found a file; others only when it did not
//   3. nothing: the site's /404.html with status 404, else (SPA fallback, decided per request) /index.html
// `_redirects` and `_headers` themselves are never served. Answers are memoized per path (bounded).

import type { Manifest, ManifestFile, ManifestServer } from "../store/artifacts.ts";
import type { BuildOutputSite } from "./build-output/site.ts";
import { type HeaderRule, matchHeaders } from "./headers-file.ts";
import {
  encodePath,
  isRedirect,
  matchRedirect,
  type RedirectMatch,
  type RedirectRule,
  substitute,
} from "./redirects.ts";
import { httpDate, prepare, type Served } from "./respond.ts";

/** Names read as configuration, never served (at any depth: only the root ones are read). */
const HIDDEN = new Set(["_redirects", "_headers"]);
const MAX_MEMO = 10_000;

export interface Site {
  deploymentId: string;
  files: Map<string, ManifestFile>;
  redirects: RedirectRule[];
  headers: HeaderRule[];
  /** Answers by normalized request path. */
  memo: Map<string, Answer>;
  /** Last-Modified of every file: when the deployment was made (an HTTP-date), or null. */
  lastModified: string | null;
  /**
   * A Build Output API deployment (manifest version 2 with a config.json): its router decides instead of the
   * rules above, and it may have functions. `broken` says why its config cannot be used (an older deployment).
   */
  buildOutput?: { router: BuildOutputSite | null; manifest: Manifest; broken: string | null };
  /** An app server deployment: it answers whatever is not one of `files` by its exact path. */
  server?: ManifestServer;
}

export type Answer =
  | { kind: "file"; served: Served }
  | { kind: "redirect"; status: 301 | 302 | 303 | 307 | 308; location: string; keepQuery: boolean }
  /** No file: `notFound` is the site's 404.html; `spa` its index.html, used when the project enables it. */
  | { kind: "missing"; notFound: Served | null; spa: Served | null };

export function createSite(manifest: Manifest, redirects: RedirectRule[], headers: HeaderRule[]): Site {
  const files = new Map<string, ManifestFile>();
  for (const [path, file] of Object.entries(manifest.files)) {
    if (!HIDDEN.has(path.slice(path.lastIndexOf("/") + 1))) files.set(path, file);
  }
  return {
    deploymentId: manifest.deploymentId,
    files,
    redirects,
    headers,
    memo: new Map(),
    lastModified: httpDate(manifest.createdAt),
    ...(manifest.server && { server: manifest.server }),
  };
}

type Lookup = { kind: "file"; path: string; file: ManifestFile } | { kind: "slash" } | null;

/** Step 1: the manifest path serving `path`, a redirect to add the trailing slash, or null. */
export function staticLookup(files: Map<string, ManifestFile>, path: string): Lookup {
  const found = (p: string): Lookup => {
    const file = files.get(p);
    return file ? { kind: "file", path: p, file } : null;
  };
  if (path.endsWith("/")) {
    return found(`${path}index.html`) ?? (path.length > 1 ? found(`${path.slice(0, -1)}.html`) : null);
  }
  const exact = found(path) ?? found(`${path}.html`);
  if (exact) return exact;
  return files.has(`${path}/index.html`) ? { kind: "slash" } : null;
}

function fileAnswer(
  site: Site,
  requestPath: string,
  lookup: { path: string; file: ManifestFile },
  status: Served["status"],
): Answer {
  return {
    kind: "file",
    served: prepare(
      lookup.path,
      lookup.file,
      status,
      matchHeaders(site.headers, requestPath),
      site.lastModified,
    ),
  };
}

function missing(site: Site, requestPath: string): Answer {
  const custom = matchHeaders(site.headers, requestPath);
  const notFound = site.files.get("/404.html");
  const index = site.files.get("/index.html");
  return {
    kind: "missing",
    notFound: notFound ? prepare("/404.html", notFound, 404, custom) : null,
    spa: !notFound && index ? prepare("/index.html", index, 200, custom, site.lastModified) : null,
  };
}

function applyRule(site: Site, requestPath: string, match: RedirectMatch): Answer {
  const { status } = match.rule;
  if (isRedirect(status)) {
    const location = substitute(match, true);
    return {
      kind: "redirect",
      status: status as 301 | 302 | 303 | 307 | 308,
      location,
      keepQuery: !location.includes("?"),
    };
  }
  // A rewrite (200) or a custom error page (404/410): serve the target's file without changing the URL.
  const target = substitute(match, false).split("?")[0] ?? "";
  let found = target.startsWith("/") ? staticLookup(site.files, target) : null;
  if (found?.kind === "slash") found = staticLookup(site.files, `${target}/`);
  if (found?.kind === "file") return fileAnswer(site, requestPath, found, status as Served["status"]);
  return missing(site, requestPath);
}

function compute(site: Site, path: string): Answer {
  const found = staticLookup(site.files, path);
  if (found) {
    const forced = matchRedirect(site.redirects, path, true);
    if (forced) return applyRule(site, path, forced);
    if (found.kind === "file") return fileAnswer(site, path, found, 200);
    return { kind: "redirect", status: 308, location: `${encodePath(path)}/`, keepQuery: true };
  }
  const rule = matchRedirect(site.redirects, path, false);
  return rule ? applyRule(site, path, rule) : missing(site, path);
}

/** The answer for a normalized, decoded request path (memoized; the memo is reset when it grows too large). */
export function answer(site: Site, path: string): Answer {
  const known = site.memo.get(path);
  if (known) return known;
  const computed = compute(site, path);
  if (site.memo.size >= MAX_MEMO) site.memo.clear();
  site.memo.set(path, computed);
  return computed;
}

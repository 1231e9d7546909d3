// Build Output routes: the state of one request while routing walks the phases (path, query, status, headers,
// pending redirect, transforms), and what applying one matched route does to it.

import type { ResponsePlan, RouteRequest } from "./answer.ts";
import type { SourceRoute } from "./config-routes.ts";
import { type ConditionFacts, parseCookies } from "./has.ts";
import { formatQuery, mergeQuery, parseQuery, type QueryEntry } from "./query.ts";
import { type Captures, substitute, substituteTarget } from "./substitute.ts";
import { type ResolvedTransform, resolveTransform, transformQuery } from "./transforms.ts";

/** Rewrites one request may go through before routing gives up with a 500 (loop protection). */
export const MAX_REWRITES = 32;
/** Route matches one request may try (all phases, probes included) before routing gives up. */
export const MAX_MATCHES = 20_000;

const EXTERNAL = /^https?:\/\//i;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const REQUEST_PATH = /^\/(?!\/)[^?#\s\u0000-\u001f\u007f]*$/;

export const isRedirectStatus = (status: number | undefined): boolean =>
  status !== undefined && status >= 300 && status < 400;

export class Walk {
  readonly method: string;
  readonly originalPath: string;
  readonly facts: ConditionFacts;
  path: string;
  query: QueryEntry[];
  status: number | undefined;
  headers: Record<string, string> = {};
  important: Record<string, string> = {};
  /** A Location a route set (filled and encoded); it redirects when the status is 3xx. */
  location: string | undefined;
  /** An absolute URL a rewrite asked for (parseBuildOutputConfig refuses them: never served). */
  external: string | undefined;
  requestTransforms: ResolvedTransform[] = [];
  responseTransforms: ResolvedTransform[] = [];
  /** Set by a `request.path` transform: the path the function sees instead of the visitor's. */
  functionPath: string | undefined;
  rewrites = 0;
  matches = 0;

  constructor(request: RouteRequest) {
    this.method = request.method;
    this.originalPath = request.path;
    this.path = request.path;
    this.query = parseQuery(request.query);
    let cookies: Map<string, string> | null = null;
    this.facts = {
      headers: request.headers,
      host: request.host,
      cookies: () => {
        cookies ??= parseCookies(request.headers.get("cookie"));
        return cookies;
      },
    };
  }

  /** Everything a failed probe must undo. */
  snapshot(): () => void {
    const { path, query, status, location, external, functionPath } = this;
    const headers = { ...this.headers };
    const important = { ...this.important };
    const requestCount = this.requestTransforms.length;
    const response = this.responseTransforms;
    return () => {
      Object.assign(this, { path, query, status, headers, important, location, external, functionPath });
      this.requestTransforms.length = requestCount;
      this.responseTransforms = response;
    };
  }

  plan(): ResponsePlan {
    const headers = { ...this.headers };
    // A Location that does not redirect (no 3xx status) is just a header, as written.
    if (this.location !== undefined && !isRedirectStatus(this.status)) headers.location = this.location;
    return { headers, important: { ...this.important }, transforms: this.responseTransforms };
  }

  /**
   * Applies a matched route's `override`, `headers`, `transforms` and `status`. In the hit and miss phases a
   * header already set is kept (`keepExisting`), as Vercel's dev server does.
   */
  applyEffects(route: SourceRoute, captures: Captures, keepExisting: boolean): void {
    if (route.override) {
      this.status = undefined;
      this.headers = {};
      this.important = {};
      this.location = undefined;
    }
    for (const [name, template] of Object.entries(route.headers)) {
      if (name === "location") {
        if (!keepExisting || this.location === undefined)
          this.location = this.redirectTarget(template, captures);
        continue;
      }
      if (keepExisting && Object.hasOwn(this.headers, name)) continue;
      const value = substitute(template, captures, "header");
      this.headers[name] = value;
      if (route.important) this.important[name] = value;
    }
    const resolved = route.transforms.map((t) => resolveTransform(t, captures));
    for (const transform of resolved) {
      if (transform.type === "request.query") this.query = transformQuery(this.query, transform);
      else if (transform.type === "request.headers") this.requestTransforms.push(transform);
      else if (transform.type === "request.path") {
        const path = transform.args?.[0];
        if (path !== undefined && REQUEST_PATH.test(path) && path.length <= 2048) this.functionPath = path;
      }
    }
    const response = resolved.filter((t) => t.type === "response.headers");
    if (response.length > 0) this.responseTransforms = response;
    if (route.status !== undefined) this.status = route.status;
  }

  /** A destination: a redirect target when the route redirects with `dest`, else a rewrite. */
  applyDest(route: SourceRoute, captures: Captures): void {
    const dest = route.dest;
    if (dest === undefined) return;
    if (isRedirectStatus(route.status) && !Object.hasOwn(route.headers, "location")) {
      this.location = this.redirectTarget(dest, captures);
      return;
    }
    this.rewrites++;
    // parseBuildOutputConfig refuses these and makes every other dest absolute ("$to" becomes "/$to", so no
    // capture can turn a rewrite into a fetch elsewhere); this guards configs built by other means.
    if (EXTERNAL.test(dest)) {
      this.external = substitute(dest, captures, "url");
      return;
    }
    const target = substituteTarget(dest, captures, "path");
    this.path = target.path.startsWith("/") ? target.path : `/${target.path}`;
    this.query = mergeQuery(this.query, parseQuery(target.query));
  }

  /** A redirect's Location: placeholders filled for a URL, the visitor's query kept unless the target sets it. */
  private redirectTarget(template: string, captures: Captures): string {
    const hash = template.indexOf("#");
    const fragment = hash < 0 ? "" : substitute(template.slice(hash), captures, "url");
    const { path, query } = substituteTarget(hash < 0 ? template : template.slice(0, hash), captures, "url");
    const own = parseQuery(query);
    const keys = new Set(own.map((entry) => entry.key));
    const merged = formatQuery([...own, ...this.query.filter((entry) => !keys.has(entry.key))]);
    return `${path}${merged === "" ? "" : `?${merged}`}${fragment}`;
  }
}

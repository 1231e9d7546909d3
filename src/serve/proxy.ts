// The proxy role: Host -> deployment (route-table) -> manifest (sites) -> answer (resolve) -> response
// (respond, bodies). Everything on the hot path is in memory; the store is read only on a cache miss.

import type { Deps } from "../deps.ts";
import { type Bodies, createBodies, DEFAULT_BODIES } from "./bodies.ts";
import { page } from "./pages.ts";
import { normalizeHost, normalizePath, rawPathOf, splitUrl } from "./request-target.ts";
import { type Answer, answer, type Site } from "./resolve.ts";
import { respond } from "./respond.ts";
import { openRouteTable, type Route, type RouteTable } from "./route-table.ts";
import { createSites, type Sites } from "./sites.ts";

export interface ProxyOptions {
  reconcileMs: number;
  lookupTtlMs: number;
  accessLog: boolean;
  /** Where access log lines go (stdout by default). */
  logLine: (line: string) => void;
  /** Memory cache of small bodies, bytes. */
  cacheBytes: number;
  /** Bodies up to this size are kept in memory. */
  maxItemBytes: number;
  /** Deployments (manifest + rules) kept in memory. */
  maxSites: number;
}

export interface SiteProxy {
  /** Synchronous when everything is in memory (most requests), so the hot path costs no promise. */
  fetch(request: Request): Response | Promise<Response>;
  /** For Bun.serve's `error` option: a body that failed while being sent (e.g. a blob removed) -> 502 page. */
  error(error: Error): Response;
  /** Re-reads every project's routes now (tests; the proxy also does it every `reconcileMs`). */
  reconcile(): Promise<void>;
  stop(): Promise<void>;
}

const EXTENSION = /\.[^/]*$/;

/** The SPA fallback only answers what looks like a page: no file extension, or a browser asking for HTML. */
function wantsPage(path: string, request: Request): boolean {
  const name = path.slice(path.lastIndexOf("/") + 1);
  return !EXTENSION.test(name) || (request.headers.get("accept") ?? "").includes("text/html");
}

function redirect(found: Extract<Answer, { kind: "redirect" }>, search: string): Response {
  const location = found.keepQuery && search.length > 1 ? found.location + search : found.location;
  return new Response(null, {
    status: found.status,
    headers: { location, "cache-control": "public, max-age=0, must-revalidate" },
  });
}

function missingRoute(route: Exclude<Route, { kind: "site" }>, method: string): Response {
  if (route.kind === "unknown") return page("unknown-host", method);
  if (route.what === "production") return page("not-deployed", method);
  return page(route.what === "deployment" ? "no-deployment" : "no-branch", method);
}

export async function createProxy(
  deps: Pick<Deps, "config" | "store" | "artifacts" | "bus">,
  overrides: Partial<ProxyOptions> = {},
): Promise<SiteProxy> {
  const { config } = deps;
  const options: ProxyOptions = {
    reconcileMs: config.proxy.reconcileSeconds * 1000,
    lookupTtlMs: 5000,
    accessLog: config.proxy.accessLog,
    logLine: (line) => console.log(line),
    cacheBytes: config.proxy.cacheMb * 1024 * 1024,
    maxItemBytes: DEFAULT_BODIES.maxItemBytes,
    maxSites: 256,
    ...overrides,
  };
  const table: RouteTable = await openRouteTable(deps, options);
  const sites: Sites = createSites(deps.artifacts, options.maxSites);
  const bodies: Bodies = createBodies(deps.artifacts, {
    maxBytes: options.cacheBytes,
    maxItemBytes: options.maxItemBytes,
  });

  // Host header values repeat; remember their normalized form (bounded), the last one without even hashing it.
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

  function handle(request: Request): Response | Promise<Response> {
    const method = request.method;
    const host = hostOf(request);
    if (host === null) return page("bad-host", method);
    if (method !== "GET" && method !== "HEAD") return page("method", method);
    const path = normalizePath(rawPathOf(request.url));
    if (typeof path === "number") return page(path === 414 ? "too-long" : "bad-path", method);
    const route = table.lookup(host);
    if (route instanceof Promise) return route.then((r) => routed(r, request, path));
    return routed(route, request, path);
  }

  function routed(route: Route, request: Request, path: string): Response | Promise<Response> {
    const method = request.method;
    if (route.kind !== "site") return missingRoute(route, method);
    const loaded = sites.get(route.deploymentId);
    if (loaded instanceof Promise) {
      return loaded.then(
        (site) => (site === null ? page("missing-files", method) : serve(site, route, request, path)),
        (error: unknown) => {
          console.error(`proxy: cannot load deployment ${route.deploymentId}:`, error);
          return page("missing-files", method);
        },
      );
    }
    if (loaded === null) return page("missing-files", method);
    return serve(loaded, route, request, path);
  }

  function serve(
    site: Site,
    route: Extract<Route, { kind: "site" }>,
    request: Request,
    path: string,
  ): Response | Promise<Response> {
    const found = answer(site, path);
    switch (found.kind) {
      case "file":
        return respond(found.served, request, bodies);
      case "redirect":
        return redirect(found, splitUrl(request.url).search);
      case "missing": {
        if (found.notFound) return respond(found.notFound, request, bodies);
        if (found.spa && route.project.spaFallback && wantsPage(path, request))
          return respond(found.spa, request, bodies);
        return page("not-found", request.method);
      }
    }
  }

  const failed = (method: string) => (error: unknown) => {
    console.error("proxy: request failed:", error);
    return page("error", method);
  };

  function log(request: Request, response: Response, started: number): Response {
    const ms = (performance.now() - started).toFixed(1);
    // JSON strings: a request cannot forge log lines with newlines or quotes.
    const host = JSON.stringify(request.headers.get("host") ?? "");
    const path = JSON.stringify(rawPathOf(request.url));
    options.logLine(`proxy ${host} ${request.method} ${path} ${response.status} ${ms}ms`);
    return response;
  }

  function fetch(request: Request): Response | Promise<Response> {
    const started = options.accessLog ? performance.now() : 0;
    let result: Response | Promise<Response>;
    try {
      result = handle(request);
    } catch (error) {
      result = failed(request.method)(error);
    }
    if (result instanceof Promise) result = result.catch(failed(request.method));
    if (!options.accessLog) return result;
    return result instanceof Promise
      ? result.then((r) => log(request, r, started))
      : log(request, result, started);
  }

  return {
    fetch,
    error(error) {
      console.error("proxy: response failed:", error);
      return page("missing-files");
    },
    reconcile: () => table.reconcile(),
    stop: () => table.stop(),
  };
}

// The proxy role: Host -> deployment (route-table) -> manifest (sites) -> answer (resolve) -> response
// (respond, bodies). Everything on the hot path is in memory; the store is read only on a cache miss.

import type { Deps } from "../deps.ts";
import type { ProjectRoute } from "../model/entities.ts";
import { isProtected } from "../model/protection.ts";
import { APP_DEFAULTS } from "../model/settings.ts";
import { deploymentUrl } from "../model/urls.ts";
import { requestIdOf } from "../observe/http.ts";
import type { AppTarget } from "../runtime/apps.ts";
import { forwardedHeaders } from "../runtime/forward.ts";
import { OUTCOME_HEADER } from "../runtime/node-wire.ts";
import { createPrerenderCache } from "../runtime/prerender.ts";
import type { FunctionRuntime } from "../runtime/runtime.ts";
import { connectUpstream, type RelayData } from "../runtime/websocket.ts";
import { type AnalyticsRecorder, type Answered, createAnalyticsRecorder } from "./analytics.ts";
import { type Bodies, createBodies, DEFAULT_BODIES } from "./bodies.ts";
import { domainRedirect } from "./domain-redirect.ts";
import { type DeploymentContext, type FunctionServing, serveAnswer } from "./functions.ts";
import { loadGeoIp } from "./geoip.ts";
import { page } from "./pages.ts";
import { createProtectionGate, type Decision, markProtected, withoutCredentials } from "./protection.ts";
import { normalizeHost, normalizePath, rawPathOf, splitUrl } from "./request-target.ts";
import { type Answer, answer, type Site } from "./resolve.ts";
import { respond, type Served } from "./respond.ts";
import { openRouteTable, type Route, type RouteTable } from "./route-table.ts";
import { createSites, type Sites } from "./sites.ts";

/** Memory for prerendered (ISR) responses, per proxy process. */
const PRERENDER_CACHE_BYTES = 64 * 1024 * 1024;

export interface ProxyOptions {
  reconcileMs: number;
  lookupTtlMs: number;
  /** Remember which deployment answered each request, for the access log (PROXY_ACCESS_LOG). */
  accessLog: boolean;
  /** Memory cache of small bodies, bytes. */
  cacheBytes: number;
  /** Bodies up to this size are kept in memory. */
  maxItemBytes: number;
  /** Deployments (manifest + rules) kept in memory. */
  maxSites: number;
  /** How long one minute of a project's idleTimeoutMinutes lasts (tests shorten it). */
  appMinuteMs: number;
}

export interface SiteProxy {
  /** Synchronous when everything is in memory (most requests), so the hot path costs no promise. */
  fetch(request: Request): Response | Promise<Response>;
  /**
   * A WebSocket request: relayed to the deployment's app server (resolves undefined once `upgrade` took it), or
   * answered as any request when the deployment has none.
   */
  websocket(
    request: Request,
    upgrade: (request: Request, data: RelayData, protocol: string | null) => boolean,
  ): Promise<Response | undefined>;
  /**
   * For the access log, after the response: the deployment that answered and the body's size (a Blob body
   * carries no Content-Length yet). Empty when the access log is off.
   */
  accessFields(request: Request, response: Response): { deploymentId: string | null; bytes?: number };
  /** For Bun.serve's `error` option: a body that failed while being sent (e.g. a blob removed) -> 502 page. */
  error(error: Error): Response;
  /** Re-reads every project's routes now (tests; the proxy also does it every `reconcileMs`). */
  reconcile(): Promise<void>;
  /** What a host routes to: automatic HTTPS orders certificates only for hosts that are served (src/tls/hosts.ts). */
  route(host: string): Route | Promise<Route>;
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

function missingRoute(
  route: Exclude<Route, { kind: "site" } | { kind: "redirect" }>,
  method: string,
): Response {
  if (route.kind === "unknown") return page("unknown-host", method);
  if (route.what === "production") return page("not-deployed", method);
  return page(route.what === "deployment" ? "no-deployment" : "no-branch", method);
}

/** The size of the body respond() sent for `served`: the variant its Content-Encoding names, or its range. */
function bodyBytes(served: Served, request: Request, response: Response): number | null {
  if (request.method === "HEAD" || response.status === 304 || response.status === 416) return 0;
  const range = /^bytes (\d+)-(\d+)\//.exec(response.headers.get("content-range") ?? "");
  if (range) return Number(range[2]) - Number(range[1]) + 1;
  const encoding = response.headers.get("content-encoding");
  const variant = encoding === "br" ? served.br : encoding === "gzip" ? served.gzip : served.identity;
  return variant?.size ?? null;
}

/** What answered a request, for analytics: set along the way, counted when the response exists. */
type Hit = Answered & { served?: Served; started: number; weight: number };

/** Counts an answered request for analytics: its deployment, status, body size and time to first byte. */
function count(recorder: AnalyticsRecorder, hit: Hit, request: Request, response: Response): void {
  let bytes = 0;
  if (hit.served) bytes = bodyBytes(hit.served, request, response) ?? 0;
  else {
    const length = response.headers.get("content-length");
    if (length !== null) bytes = Number(length) || 0;
  }
  recorder.record(request, hit, response.status, bytes, hit.started, hit.weight);
}

/** How the proxy runs functions: the runtime it invokes (made on first use) and who is asking. */
export interface ProxyFunctions {
  /** The function runtime; called once, on the first request for a function. */
  runtime: () => FunctionRuntime;
  /** The socket address of a request's client (roles.ts: Bun's server.requestIP, or the TLS front's). */
  peer?: (request: Request) => string | null;
  /** Whether the request came over this process's HTTPS listener (roles.ts: the TLS front). */
  secure?: (request: Request) => boolean;
  /**
   * Lifts the server's idle cut-off (Bun's 10 s) for a request a function answers: its stream may pause for
   * longer (an event stream's keep-alive), up to its maxDuration, which the runtime enforces.
   */
  unbounded?: (request: Request) => void;
  /**
   * In an extra proxy process (src/roles-proxy-processes.ts): the process that owns the function runtime. Requests for
   * a deployment with functions or an app server go there as they came, and it answers them whole (protection
   * included), so that instances, their limits and idle timers exist once.
   */
  forward?: Forwarder;
}

/** Where an extra proxy process sends what needs the function runtime (src/proxy/forward.ts). */
export interface Forwarder {
  fetch(request: Request): Promise<Response>;
  websocket(
    request: Request,
    upgrade: (request: Request, data: RelayData, protocol: string | null) => boolean,
  ): Promise<Response | undefined>;
}

/** Whether answering the deployment may take the function runtime: an app server, or functions. */
const runtimeNeeds = new WeakMap<Site, boolean>();
function needsRuntime(site: Site): boolean {
  let needs = runtimeNeeds.get(site);
  if (needs === undefined) {
    needs = site.server !== undefined || Object.keys(site.buildOutput?.manifest.functions ?? {}).length > 0;
    runtimeNeeds.set(site, needs);
  }
  return needs;
}

export async function createProxy(
  deps: Pick<Deps, "config" | "store" | "artifacts" | "bus" | "metrics" | "log" | "accessTokens">,
  overrides: Partial<ProxyOptions> = {},
  functions: ProxyFunctions | null = null,
): Promise<SiteProxy> {
  const { config } = deps;
  const options: ProxyOptions = {
    reconcileMs: config.proxy.reconcileSeconds * 1000,
    lookupTtlMs: 5000,
    accessLog: config.proxy.accessLog,
    cacheBytes: config.proxy.cacheMb * 1024 * 1024,
    maxItemBytes: DEFAULT_BODIES.maxItemBytes,
    maxSites: 256,
    appMinuteMs: 60_000,
    ...overrides,
  };
  // Declared before the table, which calls it when production moves (promote, rollback, a new deployment).
  let warm: (route: ProjectRoute) => Promise<void> = async () => {};
  const table: RouteTable = await openRouteTable(deps, { ...options, warm: (route) => warm(route) });
  const log = deps.log.child({ role: "proxy" });
  const sites: Sites = createSites(deps.artifacts, options.maxSites, log);
  const bodies: Bodies = createBodies(
    deps.artifacts,
    { maxBytes: options.cacheBytes, maxItemBytes: options.maxItemBytes },
    log,
  );
  // Read at scrape time; a second proxy in the same process (tests) takes the series over.
  const unwatch = deps.metrics.registry.collect(
    "minivercel_proxy_cache_requests_total",
    "Lookups of small files in the proxy's memory cache, by result (hit, miss).",
    "counter",
    () => {
      const { hits, misses } = bodies.stats();
      return [
        { labels: { result: "hit" }, value: hits },
        { labels: { result: "miss" }, value: misses },
      ];
    },
  );
  const unwatchRatio = deps.metrics.registry.collect(
    "minivercel_proxy_cache_hit_ratio",
    "Share of the proxy's memory-cache lookups answered from memory since start (0 before any lookup).",
    "gauge",
    (remote) => {
      // Over every proxy process of this server (src/roles-proxy-processes.ts), as the counter above is.
      const local = bodies.stats();
      const hits = local.hits + remote.counter("minivercel_proxy_cache_requests_total", { result: "hit" });
      const misses =
        local.misses + remote.counter("minivercel_proxy_cache_requests_total", { result: "miss" });
      return [{ value: hits + misses === 0 ? 0 : hits / (hits + misses) }];
    },
  );
  /** request -> what answered it, for the access log and analytics; weak, so nothing outlives its request. */
  const answeredBy = new WeakMap<Request, { deploymentId: string; served?: Served }>();
  // Web analytics (ANALYTICS): counted here, sent on the bus every ANALYTICS_FLUSH_SECONDS (src/proxy/analytics.ts).
  const recorder: AnalyticsRecorder | null = config.analytics.enabled
    ? createAnalyticsRecorder(deps, {
        flushMs: config.analytics.flushSeconds * 1000,
        geo: config.analytics.geoipCsv ? loadGeoIp(config.analytics.geoipCsv) : null,
        trustProxyHops: config.limits.trustProxyHops,
        peer: (request) => functions?.peer?.(request) ?? null,
        sampleAbove: config.analytics.sampleAbove,
      })
    : null;
  /**
   * When the request being handled synchronously arrived (performance.now()), for its time to first byte; -1
   * outside fetch. A request whose route was looked up asynchronously is timed from when routing resumed.
   */
  let syncStart = -1;

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
    const path = normalizePath(rawPathOf(request.url));
    if (typeof path === "number") return page(path === 414 ? "too-long" : "bad-path", method);
    const route = table.lookup(host);
    if (route instanceof Promise) return route.then((r) => guarded(r, request, host, path));
    return guarded(route, request, host, path);
  }

  // Deployment protection runs first: nothing of a protected deployment is read, cached or run without access.
  const gate = createProtectionGate({
    store: deps.store,
    accessTokens: deps.accessTokens,
    dashboardUrl: config.protection.dashboardUrl,
    limits: config.limits,
    secure: (request) => invocationOf(request).proto === "https",
    peer: (request) => functions?.peer?.(request) ?? null,
  });

  const forward = functions?.forward ?? null;
  /** In an extra process: a deployment that needs the runtime is answered by the process that has it. */
  function guarded(route: Route, request: Request, host: string, path: string): Response | Promise<Response> {
    if (forward === null || route.kind !== "site") return checked(route, request, host, path);
    const loaded = sites.get(route.deploymentId);
    const decide = (site: Site | null) => {
      if (site === null || !needsRuntime(site)) return checked(route, request, host, path);
      if (options.accessLog) answeredBy.set(request, { deploymentId: route.deploymentId });
      functions?.unbounded?.(request);
      return forward.fetch(request);
    };
    if (loaded instanceof Promise) return loaded.then(decide, () => checked(route, request, host, path));
    return decide(loaded);
  }

  function checked(route: Route, request: Request, host: string, path: string): Response | Promise<Response> {
    if (route.kind !== "site" || route.access === null || !isProtected(route.access.mode, route.what))
      return routed(route, request, path);
    const decision = gate.check(route.access, request, host, path);
    if (decision instanceof Promise) return decision.then((d) => admitted(d, route, request, path));
    return admitted(decision, route, request, path);
  }

  function admitted(
    decision: Decision,
    route: Route,
    request: Request,
    path: string,
  ): Response | Promise<Response> {
    if (decision.kind === "answer") return decision.response;
    withoutCredentials(request);
    const result = routed(route, request, path);
    return result instanceof Promise
      ? result.then((r) => markProtected(r, decision.setCookie))
      : markProtected(result, decision.setCookie);
  }

  function routed(route: Route, request: Request, path: string): Response | Promise<Response> {
    const method = request.method;
    if (route.kind === "redirect") return domainRedirect(route, request, invocationOf(request).proto);
    if (route.kind !== "site") return missingRoute(route, method);
    if (options.accessLog) answeredBy.set(request, { deploymentId: route.deploymentId });
    // Analytics: what answered, passed along (no per-request map), counted once the response exists; a request
    // sampling leaves out (a busy proxy) costs nothing more.
    const weight = recorder === null ? 0 : recorder.weight();
    if (recorder === null || weight === 0) return routedSite(route, request, path, null);
    const hit: Hit = {
      projectId: route.project.id,
      deploymentId: route.deploymentId,
      path,
      started: syncStart >= 0 ? syncStart : performance.now(),
      weight,
    };
    const result = routedSite(route, request, path, hit);
    if (result instanceof Promise)
      return result.then((response) => {
        count(recorder, hit, request, response);
        return response;
      });
    count(recorder, hit, request, result);
    return result;
  }

  function routedSite(
    route: Extract<Route, { kind: "site" }>,
    request: Request,
    path: string,
    hit: Hit | null,
  ): Response | Promise<Response> {
    const method = request.method;
    const loaded = sites.get(route.deploymentId);
    if (loaded instanceof Promise) {
      return loaded.then(
        (site) => (site === null ? page("missing-files", method) : serve(site, route, request, path, hit)),
        (error: unknown) => {
          log.error("cannot load deployment", {
            requestId: requestIdOf(request),
            deploymentId: route.deploymentId,
            error,
          });
          return page("missing-files", method);
        },
      );
    }
    if (loaded === null) return page("missing-files", method);
    return serve(loaded, route, request, path, hit);
  }

  function sendFile(
    served: Served,
    route: Extract<Route, { kind: "site" }>,
    request: Request,
    hit: Hit | null,
  ): Response | Promise<Response> {
    if (options.accessLog) answeredBy.set(request, { deploymentId: route.deploymentId, served });
    if (hit) hit.served = served;
    return respond(served, request, bodies);
  }

  function serve(
    site: Site,
    route: Extract<Route, { kind: "site" }>,
    request: Request,
    path: string,
    hit: Hit | null,
  ): Response | Promise<Response> {
    if (site.buildOutput) return serveBuildOutput(site, site.buildOutput, route, request, path);
    if (site.server) return serveApp(site, site.server, route, request, path, hit);
    // Static sites answer GET and HEAD only: their request bodies are never read.
    if (request.method !== "GET" && request.method !== "HEAD") return page("method", request.method);
    const found = answer(site, path);
    switch (found.kind) {
      case "file":
        return sendFile(found.served, route, request, hit);
      case "redirect":
        return redirect(found, splitUrl(request.url).search);
      case "missing": {
        if (found.notFound) return sendFile(found.notFound, route, request, hit);
        if (found.spa && route.project.spaFallback && wantsPage(path, request))
          return sendFile(found.spa, route, request, hit);
        return page("not-found", request.method);
      }
    }
  }

  // Functions: a Build Output API deployment's routes, its functions through the runtime, ISR in memory.
  const prerender = createPrerenderCache(PRERENDER_CACHE_BYTES);
  let runtime: FunctionRuntime | null = null;
  const serving: FunctionServing = {
    runtime: () => {
      if (!functions) throw new Error("this proxy runs no functions");
      runtime ??= functions.runtime();
      return runtime;
    },
    prerender,
    artifacts: deps.artifacts,
    bodies,
  };
  /** production or preview, by the deployment's target (read once per deployment). */
  const environments = new Map<string, Promise<"production" | "preview">>();
  const environmentOf = (deploymentId: string) => {
    let known = environments.get(deploymentId);
    if (!known) {
      known = deps.store.deployments.find(deploymentId).then((d) => d?.target ?? "preview");
      if (environments.size > 4096) environments.clear();
      environments.set(deploymentId, known);
    }
    return known;
  };

  function serveBuildOutput(
    site: Site,
    output: NonNullable<Site["buildOutput"]>,
    route: Extract<Route, { kind: "site" }>,
    request: Request,
    path: string,
  ): Response | Promise<Response> {
    if (!output.router) return page("error", request.method);
    const { search } = splitUrl(request.url);
    const decision = output.router.route({
      method: request.method,
      path,
      query: search.slice(1),
      headers: request.headers,
      host: hostOf(request) ?? "",
    });
    if (decision.kind !== "function") {
      return serveAnswer(
        serving,
        contextOf(site, output, route, "preview"),
        decision,
        request,
        invocationOf(request),
      );
    }
    if (!functions) return page("function-failed", request.method);
    functions.unbounded?.(request);
    return environmentOf(route.deploymentId).then((environment) =>
      serveAnswer(
        serving,
        contextOf(site, output, route, environment),
        decision,
        request,
        invocationOf(request),
      ),
    );
  }

  /** A project's app server settings, read at most every few seconds (a change applies to running servers). */
  const appSettings = new Map<string, { at: number; value: Promise<{ idle: number; max: number }> }>();
  const settingsOf = (projectId: string) => {
    const known = appSettings.get(projectId);
    if (known && Date.now() - known.at < options.lookupTtlMs) return known.value;
    const value = deps.store.projects.find(projectId).then((p) => ({
      idle: p?.idleTimeoutMinutes ?? APP_DEFAULTS.idleTimeoutMinutes,
      max: p?.maxInstances ?? APP_DEFAULTS.maxInstances,
    }));
    if (appSettings.size > 4096) appSettings.clear();
    appSettings.set(projectId, { at: Date.now(), value });
    return value;
  };

  async function appTarget(
    route: Extract<Route, { kind: "site" }>,
    server: NonNullable<Site["server"]>,
  ): Promise<AppTarget> {
    const [environment, settings] = await Promise.all([
      environmentOf(route.deploymentId),
      settingsOf(route.project.id),
    ]);
    return {
      deploymentId: route.deploymentId,
      projectId: route.project.id,
      environment,
      deploymentUrl: deploymentUrl(route.project, route.deploymentId, config),
      server,
      idleMs: settings.idle * options.appMinuteMs,
      maxInstances: settings.max,
    };
  }

  /** A new production deployment's app server is started and healthy before its hosts switch to it. */
  warm = async (projectRoute) => {
    const id = projectRoute.productionDeploymentId;
    // An extra proxy process has no runtime: the first process warms the app server for all of them.
    if (!id || !functions || functions.forward) return;
    const site = await sites.get(id);
    const apps = site?.server ? serving.runtime().apps : undefined;
    if (!site?.server || !apps) return;
    // Warming only starts the server: no visitor's request, so no access rule applies.
    const route: Extract<Route, { kind: "site" }> = {
      kind: "site",
      deploymentId: id,
      project: projectRoute,
      what: "production",
      access: null,
    };
    await apps.warm(await appTarget(route, site.server));
  };

  async function websocket(
    request: Request,
    upgrade: (request: Request, data: RelayData, protocol: string | null) => boolean,
  ): Promise<Response | undefined> {
    const host = hostOf(request);
    const path = normalizePath(rawPathOf(request.url));
    if (host === null || typeof path === "number") return fetch(request);
    const route = await table.lookup(host);
    if (route.kind !== "site") return fetch(request);
    if (forward !== null) {
      const site = await Promise.resolve(sites.get(route.deploymentId)).catch(() => null);
      if (site?.server) return forward.websocket(request, upgrade);
    }
    // A protected deployment's app server gets no WebSocket without access, as it gets no request.
    if (route.access !== null && isProtected(route.access.mode, route.what)) {
      const decision = await gate.check(route.access, request, host, path);
      if (decision.kind === "answer") return decision.response;
      withoutCredentials(request);
    }
    const site = await sites.get(route.deploymentId);
    const apps = functions ? serving.runtime().apps : undefined;
    if (!site?.server || !apps) return fetch(request);
    const target = await appTarget(route, site.server);
    const { search } = splitUrl(request.url);
    const invocation = { ...invocationOf(request), request, path: rawPathOf(request.url), search };
    const acquired = await apps.acquire(target, invocation);
    if ("failed" in acquired) {
      log.warn("app server: no WebSocket", { deploymentId: route.deploymentId, reason: acquired.failed });
      return page(acquired.failed.includes("crash loop") ? "app-crash-loop" : "app-failed", request.method);
    }
    const opened = await connectUpstream(
      acquired.address,
      `${invocation.path}${search}`,
      forwardedHeaders(invocation, target.deploymentUrl),
    ).catch(() => null);
    if (opened === null || opened.kind === "refused") {
      acquired.release();
      // The app's own refusal reaches the visitor as it is; a functions node's failure is the platform's page.
      const own = opened !== null && !opened.response.headers.has(OUTCOME_HEADER);
      return own ? opened.response : page("app-failed", request.method);
    }
    const data: RelayData = { upstream: opened.socket, release: acquired.release, protocol: opened.protocol };
    if (upgrade(request, data, opened.protocol)) return undefined;
    opened.socket.end();
    acquired.release();
    return new Response("expected a WebSocket upgrade", { status: 400 });
  }

  /** An app server deployment: its static files by exact path from here, everything else from its server. */
  function serveApp(
    site: Site,
    server: NonNullable<Site["server"]>,
    route: Extract<Route, { kind: "site" }>,
    request: Request,
    path: string,
    hit: Hit | null,
  ): Response | Promise<Response> {
    const method = request.method;
    if ((method === "GET" || method === "HEAD") && site.files.has(path)) {
      const found = answer(site, path);
      if (found.kind === "file") return sendFile(found.served, route, request, hit);
    }
    const apps = functions ? serving.runtime().apps : undefined;
    if (!apps) return page("apps-unavailable", method);
    functions?.unbounded?.(request);
    const { search } = splitUrl(request.url);
    const invocation = invocationOf(request);
    return Promise.all([environmentOf(route.deploymentId), settingsOf(route.project.id)]).then(
      async ([environment, settings]) => {
        const target: AppTarget = {
          deploymentId: route.deploymentId,
          projectId: route.project.id,
          environment,
          deploymentUrl: deploymentUrl(route.project, route.deploymentId, config),
          server,
          idleMs: settings.idle * options.appMinuteMs,
          maxInstances: settings.max,
        };
        // The path as the visitor sent it (still percent-encoded), not its decoded form.
        const sent = rawPathOf(request.url);
        const outcome = await apps.invoke(target, { ...invocation, request, path: sent, search });
        if (outcome.kind === "response") return outcome.response;
        log.warn("app server: no answer", { deploymentId: route.deploymentId, reason: outcome.reason });
        if (outcome.status === 503) return page("app-unavailable", method);
        return page(outcome.reason.includes("crash loop") ? "app-crash-loop" : "app-failed", method);
      },
    );
  }

  function contextOf(
    site: Site,
    output: NonNullable<Site["buildOutput"]>,
    route: Extract<Route, { kind: "site" }>,
    environment: "production" | "preview",
  ): DeploymentContext {
    return {
      deploymentId: route.deploymentId,
      projectId: route.project.id,
      environment,
      deploymentUrl: deploymentUrl(route.project, route.deploymentId, config),
      manifest: output.manifest,
      lastModified: site.lastModified,
    };
  }

  const trustForwarded = config.limits.trustProxyHops > 0;
  function invocationOf(request: Request) {
    // A visitor's own X-Forwarded-Proto counts only behind a trusted reverse proxy (TRUST_PROXY) that sets it.
    const https =
      request.url.startsWith("https:") ||
      functions?.secure?.(request) === true ||
      (trustForwarded && request.headers.get("x-forwarded-proto") === "https");
    return {
      host: request.headers.get("host") ?? "",
      proto: https ? ("https" as const) : ("http" as const),
      clientIp: functions?.peer?.(request) ?? null,
      requestId: requestIdOf(request) ?? crypto.randomUUID(),
    };
  }

  const failed = (request: Request) => (error: unknown) => {
    log.error("request failed", { requestId: requestIdOf(request), error });
    return page("error", request.method);
  };

  // The access log line itself is written by the wrapper every role shares (src/observe/http.ts).
  function fetch(request: Request): Response | Promise<Response> {
    if (recorder) syncStart = performance.now();
    let result: Response | Promise<Response>;
    try {
      result = handle(request);
    } catch (error) {
      result = failed(request)(error);
    } finally {
      syncStart = -1;
    }
    if (result instanceof Promise) result = result.catch(failed(request));
    return result;
  }

  return {
    fetch,
    websocket,
    accessFields(request, response) {
      const found = answeredBy.get(request);
      const bytes = found?.served ? bodyBytes(found.served, request, response) : null;
      return { deploymentId: found?.deploymentId ?? null, ...(bytes !== null && { bytes }) };
    },
    error(error) {
      log.error("response failed", { error });
      return page("missing-files");
    },
    reconcile: () => table.reconcile(),
    route: (host) => table.lookup(host),
    async stop() {
      unwatch();
      unwatchRatio();
      await recorder?.stop();
      await table.stop();
      await runtime?.stop();
    },
  };
}

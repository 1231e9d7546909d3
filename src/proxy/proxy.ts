// The proxy role: Host -> deployment (route-table) -> manifest (sites) -> answer (resolve) -> response
// (respond, bodies). Everything on the hot path is in memory; the store is read only on a cache miss.

import type { Deps } from "../deps.ts";
import type { ProjectRoute } from "../model/entities.ts";
import { isProtected } from "../model/protection.ts";
import { requestIdOf } from "../observe/http.ts";
import type { FunctionRuntime } from "../runtime/runtime.ts";
import type { RelayData } from "../runtime/websocket.ts";
import { type Bodies, collectCacheMetrics, createBodies, DEFAULT_BODIES } from "./bodies.ts";
import { domainRedirect } from "./domain-redirect.ts";
import { missingRoutePage, page } from "./pages.ts";
import { createProtectionGate, type Decision, markProtected, withoutCredentials } from "./protection.ts";
import { bodyBytes, type Hit, openProxyAnalytics } from "./proxy-analytics.ts";
import { createHostOf, normalizePath, rawPathOf } from "./request-target.ts";
import { answer, type Site } from "./resolve.ts";
import { respond, type Served } from "./respond.ts";
import { openRouteTable, type Route, type RouteTable } from "./route-table.ts";
import { createAppServing } from "./serve-app.ts";
import { createBuildOutputServing } from "./serve-build-output.ts";
import { serveStatic } from "./serve-static.ts";
import { createSites, type Sites } from "./sites.ts";

export interface ProxyOptions {
  reconcileMs: number;
  lookupTtlMs: number;
  /** How long a project's "nothing in production" is trusted before a request re-reads it (route-table.ts). */
  recheckMissingMs: number;
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
    recheckMissingMs: 1000,
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
  const unwatch = collectCacheMetrics(deps.metrics.registry, bodies);
  /** request -> what answered it, for the access log and analytics; weak, so nothing outlives its request. */
  const answeredBy = new WeakMap<Request, { deploymentId: string; served?: Served }>();
  // Web analytics (ANALYTICS): null when off (src/proxy/proxy-analytics.ts).
  const analytics = openProxyAnalytics(deps, config, (request) => functions?.peer?.(request) ?? null);
  /**
   * When the request being handled synchronously arrived (performance.now()), for its time to first byte; -1
   * outside fetch. A request whose route was looked up asynchronously is timed from when routing resumed.
   */
  let syncStart = -1;

  const hostOf = createHostOf();

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
    if (route.kind !== "site") return missingRoutePage(route, method);
    if (options.accessLog) answeredBy.set(request, { deploymentId: route.deploymentId });
    // Analytics: what answered, passed along (no per-request map), counted once the response exists; a request
    // sampling leaves out (a busy proxy) costs nothing more.
    const hit = analytics?.hit(route, path, syncStart) ?? null;
    if (analytics === null || hit === null) return routedSite(route, request, path, null);
    return analytics.counted(hit, request, routedSite(route, request, path, hit));
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
    if (site.buildOutput)
      return buildOutput.serve(site, site.buildOutput, route, request, path, invocationOf(request));
    if (site.server) return serveApp(site, site.server, route, request, path, hit);
    return serveStatic(site, route, request, path, hit, sendFile);
  }

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

  // Functions: a Build Output API deployment's routes and functions (src/proxy/serve-build-output.ts).
  const buildOutput = createBuildOutputServing({
    config,
    artifacts: deps.artifacts,
    bodies,
    runtime: functions ? () => functions.runtime() : null,
    ...(functions?.unbounded && { unbounded: functions.unbounded }),
    environmentOf,
    hostOf,
  });

  // App servers: requests and WebSockets relayed to the runtime's instances (src/proxy/serve-app.ts).
  const appServing = createAppServing({
    config,
    store: deps.store,
    lookupTtlMs: options.lookupTtlMs,
    appMinuteMs: options.appMinuteMs,
    environmentOf,
    log,
  });

  /** A new production deployment's app server is started and healthy before its hosts switch to it. */
  warm = async (projectRoute) => {
    const id = projectRoute.productionDeploymentId;
    // An extra proxy process has no runtime: the first process warms the app server for all of them.
    if (!id || !functions || functions.forward) return;
    const site = await sites.get(id);
    const apps = site?.server ? buildOutput.runtime().apps : undefined;
    if (!site?.server || !apps) return;
    await appServing.warm(apps, projectRoute, id, site.server);
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
    const apps = functions ? buildOutput.runtime().apps : undefined;
    if (!site?.server || !apps) return fetch(request);
    return appServing.websocket(apps, route, site.server, request, invocationOf(request), upgrade);
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
    const apps = functions ? buildOutput.runtime().apps : undefined;
    if (!apps) return page("apps-unavailable", method);
    functions?.unbounded?.(request);
    return appServing.invoke(apps, route, server, request, invocationOf(request));
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
    if (analytics) syncStart = performance.now();
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
      await analytics?.stop();
      await table.stop();
      await buildOutput.stop();
    },
  };
}

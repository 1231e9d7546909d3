// Roles: start what the config asks for (api + dashboard, worker, proxy, functions) and stop it again, draining
// first.

import { createApi } from "./api/app.ts";
import { MAX_UPLOAD_BODY } from "./api/body-limit.ts";
import type { Subscription } from "./bus/bus.ts";
import { startRuntimeLogFeed } from "./bus/runtime-live.ts";
import type { Config } from "./config/config.ts";
import type { DashboardDeps, DashboardOptions } from "./dashboard/app.ts";
import type { Deps } from "./deps.ts";
import { createGitBackend, isGitPath } from "./git/http-backend.ts";
import { isMetricsPath, METRICS_PATH, metricsHandler, startMetricsServer } from "./observe/endpoint.ts";
import { observe } from "./observe/http.ts";
import type { Logger } from "./observe/log.ts";
import { type Previewer, startPreviewer } from "./preview/previews.ts";
import { appServersFor } from "./proxy/apps-nodes.ts";
import { type CronSchedule, startCronSchedule } from "./proxy/crons.ts";
import { forwardedRequests } from "./proxy/forward.ts";
import { type NodeDirectory, watchFunctionNodes } from "./proxy/function-nodes.ts";
import { remoteRuntime } from "./proxy/functions-remote.ts";
import { createProxy, type SiteProxy } from "./proxy/proxy.ts";
import { type ProxyProcesses, startProxyProcesses } from "./roles-proxy-processes.ts";
import { startFunctionsNode } from "./runtime/node.ts";
import { createRuntime, type FunctionRuntime } from "./runtime/runtime.ts";
import { type RelayData, relayHandlers, withWebSockets } from "./runtime/websocket.ts";
import { httpFront } from "./tls/https.ts";
import type { RunningTls } from "./tls/start.ts";
import { startAnalyticsConsumer } from "./worker/analytics.ts";
import { startEventWorkers, startLiveFeed } from "./worker/apply-events.ts";
import { startPeriodicGc } from "./worker/gc.ts";
import { startReportDispatcher } from "./worker/git-reports.ts";
import { type Launcher, startLauncher } from "./worker/launcher.ts";
import { startOutgoingDispatcher } from "./worker/outgoing.ts";
import { buildsStatus } from "./worker/readiness.ts";

export interface Running {
  /** Where each server listens, for the start-up message and tests. */
  urls: { api?: string; proxy?: string; metrics?: string; https?: string; functions?: string };
  /**
   * Stops listening at once, ends live log streams (clients reconnect), and lets requests and builds finish
   * for up to `graceMs`; builds still running then are stopped and queued again, and the events already taken
   * are applied. Without `graceMs` (tests): requests may take as long as they need, builds stop at once.
   */
  stop(graceMs?: number): Promise<void>;
}

/** The server's cap is one uploaded file (PUT /api/files/:hash); every other route has its own smaller limit. */
const MAX_API_BODY = MAX_UPLOAD_BODY;

function isApiPath(url: string): boolean {
  const { pathname } = new URL(url);
  return pathname === "/api" || pathname.startsWith("/api/");
}

/**
 * The dashboard, loaded on its first request: its pages, preact and the embedded assets are parsed only once
 * someone opens it, not in every api process at start (bench/idle.ts).
 */
function lazyDashboard(
  deps: DashboardDeps,
  options: DashboardOptions,
): (request: Request) => Promise<Response> {
  let app: Promise<{ handle(request: Request): Promise<Response> }> | null = null;
  return async (request) => {
    app ??= import("./dashboard/app.ts").then(({ createDashboard }) => createDashboard(deps, options));
    return (await app).handle(request);
  };
}

/**
 * The worker role: applies build events, runs builds, sends outgoing webhooks and collects garbage every
 * GC_INTERVAL_MINUTES.
 */
async function startWorker(
  deps: Deps,
  localProxy: () => string | null,
): Promise<{
  launcher: Launcher;
  events: Subscription;
  gc: { stop(): Promise<void> } | null;
  hooks: { stop(): Promise<void> };
  reports: { stop(): Promise<void> };
  previews: Previewer;
  analytics: Subscription;
}> {
  const { config } = deps;
  const builds = buildsStatus(config, deps.runner);
  if (builds.ready === false)
    deps.log.warn(`${builds.message}; deployments fail at once until it is fixed: ${builds.fix}`);
  else if (builds.sandbox === "none") deps.log.warn(builds.message);
  // Preview images: a READY deployment's front page, captured after it (src/preview/).
  const previews = startPreviewer({ ...deps, localProxy });
  const events = await startEventWorkers({ ...deps, onReady: (deployment) => previews.capture(deployment) });
  const launcher = startLauncher({ ...deps, pollMs: 250 });
  const minutes = config.gc.intervalMinutes;
  const gc = minutes > 0 ? startPeriodicGc(deps.gc, minutes * 60_000) : null;
  // Outgoing webhooks: every worker sends from the store's outbox (a delivery is leased to one at a time).
  const hooks = startOutgoingDispatcher(deps);
  // Commit statuses and pull-request comments: the same, from their own outbox.
  const reports = startReportDispatcher(deps);
  // Web analytics: the proxies' records into the analytics store (one worker stores each message).
  const analytics = await startAnalyticsConsumer(deps);
  return { launcher, events, gc, hooks, reports, previews, analytics };
}

/** Plain HTTP on a real domain that sites share with the dashboard: the one setup cookie tossing can disturb. */
const sharesDashboardDomain = (config: Config): boolean =>
  config.https === null && config.sitesDomain === config.baseDomain && config.baseDomain.includes(".");

export interface RoleOptions {
  /** Start the proxy's extra processes (PROXY_PROCESSES > 1): `serve` does, tests running roles in process do not. */
  proxyProcesses?: boolean;
}

export async function startRoles(deps: Deps, roleOptions: RoleOptions = {}): Promise<Running> {
  const { config } = deps;
  // This process's own proxy, once it listens (plain HTTP without ACME): where preview captures fetch the pages.
  let localProxy: string | null = null;
  const worker = config.roles.includes("worker") ? await startWorker(deps, () => localProxy) : null;
  // An api process without a worker hears build events from the bus for its live log streams.
  const liveFeed = config.roles.includes("api") && !worker ? await startLiveFeed(deps) : null;
  // Every api process hears runtime lines from the bus, wherever the functions run (this process included).
  const runtimeFeed = config.roles.includes("api") ? await startRuntimeLogFeed(deps) : null;
  const servers: ReturnType<typeof Bun.serve>[] = [];
  const urls: Running["urls"] = {};
  // The proxy starts first so that with PROXY_PORT=0 the API's project URLs carry the port it really got.
  let proxyPort = config.proxyPort;
  let proxy: SiteProxy | null = null;
  let crons: CronSchedule | null = null;
  // Automatic HTTPS (src/tls/): sites and the dashboard on HTTPS_PORT, started below once both handlers exist.
  let tls: RunningTls | null = null;
  let httpsSites: ((request: Request) => Response | Promise<Response>) | null = null;
  let apiHandler: ((request: Request) => Response | Promise<Response>) | null = null;
  if (config.roles.includes("api") && sharesDashboardDomain(config))
    deps.log.warn(
      `sites are served under the dashboard's domain ${config.baseDomain} over plain HTTP: a site can sign ` +
        "visitors out of the dashboard. Set SITES_DOMAIN to a domain of its own, or turn HTTPS on (docs/security.md).",
    );
  // This process's function runtime, once its proxy made one: the dashboard shows (and restarts) its app servers.
  let localRuntime: FunctionRuntime | null = null;
  // Functions nodes as this proxy knows them, with PROXY_FUNCTIONS=remote (src/proxy/function-nodes.ts).
  let functionNodes: NodeDirectory | null = null;
  // The api's own view of the functions nodes when no proxy here keeps one (PROXY_FUNCTIONS=remote on an api).
  let ownNodes: NodeDirectory | null = null;
  // Extra proxy processes on the same port (src/roles-proxy-processes.ts); this one owns the function runtime.
  const processCount = roleOptions.proxyProcesses === true ? config.proxy.processes : 1;
  const forwarded = processCount > 1 ? forwardedRequests() : null;
  let extraProxies: ProxyProcesses | null = null;
  if (config.roles.includes("proxy")) {
    let proxyServer: ReturnType<typeof Bun.serve> | null = null;
    const nodes = config.functions.placement === "remote" ? await watchFunctionNodes(deps) : null;
    functionNodes = nodes;
    // Functions run in this process (the runtime is made on the first request for one: src/runtime/), or on
    // the functions nodes.
    const started = await createProxy(
      deps,
      {},
      {
        runtime: () => {
          if (nodes) return remoteRuntime(deps, nodes);
          localRuntime = createRuntime(deps);
          return localRuntime;
        },
        peer: (request) =>
          forwarded?.has(request)
            ? (forwarded.peer(request) ?? null)
            : (tls?.clientOf(request) ?? proxyServer?.requestIP(request)?.address ?? null),
        secure: (request) => forwarded?.secure(request) === true || tls?.clientOf(request) != null,
        unbounded: (request) => {
          if (forwarded?.has(request)) extraProxies?.internal.timeout(request, 0);
          else if (tls?.clientOf(request) != null) tls.unbounded(request);
          else proxyServer?.timeout(request, 0);
        },
      },
    );
    proxy = started;
    // Every proxy keeps the production deployments' cron jobs; the store lets one of them run each.
    crons = startCronSchedule(deps, started, { timer: true });
    // With ACME on, plain HTTP only answers the CA's challenges and redirects to https.
    const httpsPort = config.https?.port ?? 443;
    const front = config.https ? httpFront(() => tls?.port ?? httpsPort, deps.store.certificates) : null;
    // With several processes, each access line says which one answered.
    const siteDeps = forwarded ? { ...deps, log: deps.log.child({ pid: process.pid }) } : deps;
    const observedSites = (handler: (request: Request) => Response | Promise<Response>) =>
      observe("proxy", handler, siteDeps, {
        accessLog: config.proxy.accessLog,
        fields: (request, response) => started.accessFields(request, response),
        idsOnlyWhenLogged: true,
      });
    if (config.https) httpsSites = observedSites((request) => started.fetch(request));
    const sitesFetch = observedSites(front ?? ((request) => started.fetch(request)));
    const server = Bun.serve<RelayData>({
      hostname: config.host,
      port: config.proxyPort,
      reusePort: processCount > 1,
      // Static files never read a body; a function's request may carry one up to FUNCTION_MAX_BODY_MB.
      maxRequestBodySize: config.functions.maxBodyMb * 1024 * 1024,
      // WebSockets to app servers are relayed; with HTTPS on, plain HTTP only redirects.
      ...(front ? { fetch: sitesFetch, websocket: relayHandlers } : withWebSockets(started, sitesFetch)),
      error: (error) => started.error(error),
    });
    proxyServer = server;
    servers.push(server);
    proxyPort = server.port ?? config.proxyPort;
    const loopback = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
    if (!config.https)
      localProxy = `http://${loopback.includes(":") ? `[${loopback}]` : loopback}:${proxyPort}`;
    urls.proxy = `http://<project>.${config.sitesDomain}:${proxyPort}`;
    if (forwarded)
      extraProxies = await startProxyProcesses(deps, {
        count: processCount,
        port: proxyPort,
        proxy: started,
        forwarded,
      });
  }
  if (config.roles.includes("api")) {
    // Per-address limits need the socket's address; the server exists by the time a request arrives.
    const peer = (request: Request) => tls?.clientOf(request) ?? server.requestIP(request)?.address ?? null;
    const apps = await appServersFor(deps, functionNodes, () => localRuntime?.apps ?? null);
    if (apps.directory) ownNodes = apps.directory;
    const localApps = apps.servers ? { apps: apps.servers } : {};
    const api = createApi({ ...deps, config: { ...config, proxyPort } }, { peer, ...localApps });
    const dashboard = lazyDashboard({ ...deps, config: { ...config, proxyPort } }, { peer, ...localApps });
    const gitBackend = createGitBackend({ ...deps, config: { ...config, proxyPort } }, { peer });
    // Each part counted under its own role; access lines only with API_ACCESS_LOG.
    const observed = (
      role: "api" | "git" | "dashboard",
      handler: (r: Request) => Response | Promise<Response>,
    ) => observe(role, handler, deps, { accessLog: config.log.apiAccess });
    const apiFetch = observed("api", (request) => api.handle(request));
    const gitFetch = observed("git", gitBackend);
    // The dashboard checks its own body sizes (src/dashboard/body-limit.ts).
    const dashboardFetch = observed("dashboard", dashboard);
    // With a token, Prometheus may scrape the API port too (without one, only METRICS_PORT serves /metrics).
    const { token } = config.metrics;
    const scrape = token ? observe("metrics", metricsHandler(deps.metrics, token), deps) : null;
    // /api/* is the JSON API; /git/* the push remotes (src/git/http-backend.ts); every other path is the dashboard.
    const handler = (request: Request) => {
      if (isApiPath(request.url)) return apiFetch(request);
      if (isGitPath(request.url)) return gitFetch(request);
      if (scrape && isMetricsPath(request.url)) return scrape(request);
      return dashboardFetch(request);
    };
    // The HTTPS listener serves the dashboard host with the same handler.
    apiHandler = handler;
    const server = Bun.serve({
      hostname: config.host,
      port: config.port,
      maxRequestBodySize: MAX_API_BODY,
      fetch: handler,
    });
    servers.push(server);
    urls.api = `http://localhost:${server.port}`;
  }
  // The functions role: the runtime behind an internal port of its own, for proxies only (src/runtime/node.ts).
  const functionsNode = config.roles.includes("functions") ? await startFunctionsNode(deps) : null;
  if (functionsNode) {
    servers.push(functionsNode.server);
    urls.functions = functionsNode.url;
  }
  if (config.https && proxy && httpsSites) {
    const route = proxy.route;
    // Loaded only with HTTPS on: the ACME client (and its HTTP library) costs memory nobody else needs.
    const { startTls } = await import("./tls/start.ts");
    tls = await startTls(deps, config.https, {
      sites: httpsSites,
      route,
      websockets: proxy,
      dashboard: apiHandler,
    });
    urls.https = `https://<project>.${config.sitesDomain}${tls.port === 443 ? "" : `:${tls.port}`}`;
  }
  const metricsServer = startMetricsServer(deps);
  if (metricsServer) {
    servers.push(metricsServer);
    urls.metrics = new URL(METRICS_PATH, metricsServer.url).href;
  }
  return {
    urls,
    async stop(graceMs) {
      const deadline = graceMs === undefined ? null : Date.now() + graceMs;
      // Watchers first: their streams end with `restarting`, so the drain below does not wait on them.
      const streams = deps.live.close() + deps.runtimeLive.close();
      if (streams > 0)
        deps.log.info(`shutdown: ended ${streams} live log stream(s); their clients reconnect`);
      // A functions node first tells the proxies it leaves, so that they send their next calls elsewhere.
      await functionsNode?.leave();
      // The extra proxy processes drain alongside this one; the forwarding socket closes after them.
      const extra = extraProxies?.stop(graceMs);
      const http = drainServers(servers, deadline, deps.log);
      // The worker in parallel: builds finish (or are queued again), then the events they sent are applied.
      const work = (async () => {
        if (!worker) return;
        await worker.gc?.stop();
        await worker.launcher.stop(deadline === null ? 0 : Math.max(0, deadline - Date.now()));
        await worker.events.stop();
        await worker.previews.stop();
        // Last: the events applied above may have queued deliveries; those not sent yet wait in the store.
        await worker.hooks.stop();
        await worker.reports.stop();
      })();
      await Promise.all([http, work, extra]);
      await tls?.stop();
      await liveFeed?.stop();
      await runtimeFeed?.stop();
      // Cron runs under way end with their functions, which the proxy's runtime stops.
      await Promise.all([crons?.stop(), proxy?.stop()]);
      // After the proxy's last analytics flush, which this process's worker may store.
      await worker?.analytics.stop();
      await functionNodes?.stop();
      await ownNodes?.stop();
      await functionsNode?.stop();
    },
  };
}

// Lifecycle: how `serve` stops. The first SIGTERM/SIGINT drains (requests, log streams, builds, events) within
// SHUTDOWN_TIMEOUT_SECONDS; a second one, or a drain that hangs well past the timeout, exits at once.

type Server = Pick<ReturnType<typeof Bun.serve>, "stop" | "pendingRequests">;

export const SHUTDOWN_SIGNALS = ["SIGTERM", "SIGINT"] as const;
export type ShutdownSignal = (typeof SHUTDOWN_SIGNALS)[number];

/** Beyond the timeout: stopped builders get their own kill grace, and the bus its last commit. */
const WATCHDOG_EXTRA_MS = 30_000;

/** Resolves with the first shutdown signal this process receives. */
export function waitForSignal(): Promise<ShutdownSignal> {
  return new Promise((resolve) => {
    const handlers = SHUTDOWN_SIGNALS.map((signal) => {
      const handler = () => {
        for (const [s, h] of handlers) process.off(s, h);
        resolve(signal);
      };
      process.on(signal, handler);
      return [signal, handler] as const;
    });
  });
}

/**
 * While a drain runs: a second signal, or the drain outliving `graceMs` by far, exits the process at once
 * (anything left IN_PROGRESS is ended and queued again at the next start). Returns the disarm function.
 */
export function armForcedExit(log: Logger, graceMs: number): () => void {
  const force = (why: string) => {
    log.error(`${why}: exiting now without finishing the shutdown`);
    process.exit(1);
  };
  const onSignal = (signal: ShutdownSignal) => force(`second ${signal}`);
  for (const signal of SHUTDOWN_SIGNALS) process.on(signal, onSignal);
  const watchdog = setTimeout(
    () =>
      force(`shutdown still running ${Math.round((graceMs + WATCHDOG_EXTRA_MS) / 1000)} s after the signal`),
    graceMs + WATCHDOG_EXTRA_MS,
  );
  watchdog.unref();
  return () => {
    clearTimeout(watchdog);
    for (const signal of SHUTDOWN_SIGNALS) process.off(signal, onSignal);
  };
}

/**
 * Stops the servers listening at once and lets their in-flight requests finish, until `deadline` (epoch ms;
 * null: as long as they take); requests still running then are cut.
 */
export async function drainServers(servers: Server[], deadline: number | null, log: Logger): Promise<void> {
  const pending = servers.reduce((n, s) => n + s.pendingRequests, 0);
  if (pending > 0) log.info(`shutdown: finishing ${pending} in-flight request(s)`);
  // Without `true`, stop() closes the listeners and idle connections and resolves once every request is done.
  const drained = Promise.all(servers.map((s) => s.stop()));
  if (deadline === null) {
    await drained;
    return;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), Math.max(0, deadline - Date.now()));
  });
  const outcome = await Promise.race([drained.then(() => "drained" as const), late]);
  clearTimeout(timer);
  if (outcome === "late") {
    const left = servers.reduce((n, s) => n + s.pendingRequests, 0);
    log.warn(`shutdown: cutting ${left} request(s) still running at SHUTDOWN_TIMEOUT_SECONDS`);
    await Promise.all(servers.map((s) => s.stop(true)));
  }
}

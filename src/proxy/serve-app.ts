// The proxy's side of app servers: a deployment with a server gets its requests and WebSockets relayed to an
// instance in the runtime pool (src/runtime/apps.ts), with its project's idle time and instance limit (read at
// most every few seconds), and a new production deployment's server is warmed before its hosts switch to it.

import type { Config } from "../config/config.ts";
import type { ProjectRoute } from "../model/entities.ts";
import { APP_DEFAULTS } from "../model/settings.ts";
import { deploymentUrl } from "../model/urls.ts";
import type { Logger } from "../observe/log.ts";
import type { AppPool, AppTarget } from "../runtime/apps.ts";
import { forwardedHeaders } from "../runtime/forward.ts";
import { OUTCOME_HEADER } from "../runtime/node-wire.ts";
import type { Invocation } from "../runtime/runtime.ts";
import { connectUpstream, type RelayData } from "../runtime/websocket.ts";
import type { Store } from "../store/store.ts";
import { page } from "./pages.ts";
import { rawPathOf, splitUrl } from "./request-target.ts";
import type { Site } from "./resolve.ts";
import type { Route } from "./route-table.ts";

type SiteRoute = Extract<Route, { kind: "site" }>;
type Server = NonNullable<Site["server"]>;
/** Who asked and how (src/proxy/proxy.ts: invocationOf): an Invocation without the request itself. */
type Caller = Omit<Invocation, "request" | "path" | "search">;

export interface AppServing {
  /** A request for the deployment's server (not one of its static files), answered by an instance. */
  invoke(
    apps: AppPool,
    route: SiteRoute,
    server: Server,
    request: Request,
    caller: Caller,
  ): Promise<Response>;
  /**
   * A WebSocket relayed to an instance of the deployment's server: undefined once `upgrade` took it, else the
   * answer (the app's own refusal, or the platform's page).
   */
  websocket(
    apps: AppPool,
    route: SiteRoute,
    server: Server,
    request: Request,
    caller: Caller,
    upgrade: (request: Request, data: RelayData, protocol: string | null) => boolean,
  ): Promise<Response | undefined>;
  /** Starts the production deployment's server (healthy) without a request. */
  warm(apps: AppPool, projectRoute: ProjectRoute, deploymentId: string, server: Server): Promise<void>;
}

export function createAppServing(context: {
  config: Config;
  store: Pick<Store, "projects">;
  /** How long a project's app settings are reused; how long one minute of its idleTimeoutMinutes lasts. */
  lookupTtlMs: number;
  appMinuteMs: number;
  environmentOf: (deploymentId: string) => Promise<"production" | "preview">;
  log: Logger;
}): AppServing {
  const { config, environmentOf, log } = context;

  /** A project's app server settings, read at most every few seconds (a change applies to running servers). */
  const appSettings = new Map<string, { at: number; value: Promise<{ idle: number; max: number }> }>();
  const settingsOf = (projectId: string) => {
    const known = appSettings.get(projectId);
    if (known && Date.now() - known.at < context.lookupTtlMs) return known.value;
    const value = context.store.projects.find(projectId).then((p) => ({
      idle: p?.idleTimeoutMinutes ?? APP_DEFAULTS.idleTimeoutMinutes,
      max: p?.maxInstances ?? APP_DEFAULTS.maxInstances,
    }));
    if (appSettings.size > 4096) appSettings.clear();
    appSettings.set(projectId, { at: Date.now(), value });
    return value;
  };

  async function appTarget(route: SiteRoute, server: Server): Promise<AppTarget> {
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
      idleMs: settings.idle * context.appMinuteMs,
      maxInstances: settings.max,
    };
  }

  async function invoke(
    apps: AppPool,
    route: SiteRoute,
    server: Server,
    request: Request,
    caller: Caller,
  ): Promise<Response> {
    const method = request.method;
    const { search } = splitUrl(request.url);
    const target = await appTarget(route, server);
    // The path as the visitor sent it (still percent-encoded), not its decoded form.
    const sent = rawPathOf(request.url);
    const outcome = await apps.invoke(target, { ...caller, request, path: sent, search });
    if (outcome.kind === "response") return outcome.response;
    log.warn("app server: no answer", { deploymentId: route.deploymentId, reason: outcome.reason });
    if (outcome.status === 503) return page("app-unavailable", method);
    return page(outcome.reason.includes("crash loop") ? "app-crash-loop" : "app-failed", method);
  }

  async function websocket(
    apps: AppPool,
    route: SiteRoute,
    server: Server,
    request: Request,
    caller: Caller,
    upgrade: (request: Request, data: RelayData, protocol: string | null) => boolean,
  ): Promise<Response | undefined> {
    const target = await appTarget(route, server);
    const { search } = splitUrl(request.url);
    const invocation = { ...caller, request, path: rawPathOf(request.url), search };
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

  return {
    invoke,
    websocket,
    async warm(apps, projectRoute, deploymentId, server) {
      // Warming only starts the server: no visitor's request, so no access rule applies.
      const route: SiteRoute = {
        kind: "site",
        deploymentId,
        project: projectRoute,
        what: "production",
        access: null,
      };
      await apps.warm(await appTarget(route, server));
    },
  };
}

// Roles: start what the config asks for: api (+ dashboard), worker (event workers + build launcher), proxy.

import { createApi } from "./api/app.ts";
import { MAX_UPLOAD_BODY } from "./api/body-limit.ts";
import { type Launcher, startLauncher } from "./build/launcher.ts";
import { sandboxProblem } from "./build/sandbox.ts";
import type { Subscription } from "./bus/bus.ts";
import { createDashboard } from "./dashboard/app.ts";
import { startEventWorkers, startLiveFeed } from "./deploy/apply-events.ts";
import { startPeriodicGc } from "./deploy/gc.ts";
import type { Deps } from "./deps.ts";
import { createGitBackend, isGitPath } from "./git/http-backend.ts";
import { createProxy, type SiteProxy } from "./serve/proxy.ts";

export interface Running {
  /** Where each server listens, for the start-up message and tests. */
  urls: { api?: string; proxy?: string };
  stop(): Promise<void>;
}

/** The server's cap is one uploaded file (PUT /api/files/:hash); every other route has its own smaller limit. */
const MAX_API_BODY = MAX_UPLOAD_BODY;
/** Dashboard forms are small; the API checks its own routes (src/api/body-limit.ts). */
const MAX_DASHBOARD_BODY = 1024 * 1024;

function isApiPath(url: string): boolean {
  const { pathname } = new URL(url);
  return pathname === "/api" || pathname.startsWith("/api/");
}

/** The worker role: applies build events, runs builds, and collects garbage every GC_INTERVAL_MINUTES. */
async function startWorker(
  deps: Deps,
): Promise<{ launcher: Launcher; events: Subscription; gc: { stop(): Promise<void> } | null }> {
  const { config } = deps;
  if (config.build.sandbox === "none") {
    console.warn("WARNING: BUILD_SANDBOX=none: builds run without isolation; use only for code you trust.");
  } else {
    const problem = sandboxProblem();
    if (problem) console.warn(`WARNING: builds will fail until the sandbox works: ${problem}`);
  }
  const events = await startEventWorkers(deps);
  const launcher = startLauncher({ ...deps, pollMs: 250 });
  const minutes = config.gc.intervalMinutes;
  const gc = minutes > 0 ? startPeriodicGc(deps.gc, minutes * 60_000) : null;
  return { launcher, events, gc };
}

export async function startRoles(deps: Deps): Promise<Running> {
  const { config } = deps;
  const worker = config.roles.includes("worker") ? await startWorker(deps) : null;
  // An api process without a worker hears build events from the bus for its live log streams.
  const liveFeed = config.roles.includes("api") && !worker ? await startLiveFeed(deps) : null;
  const servers: ReturnType<typeof Bun.serve>[] = [];
  const urls: Running["urls"] = {};
  // The proxy starts first so that with PROXY_PORT=0 the API's project URLs carry the port it really got.
  let proxyPort = config.proxyPort;
  let proxy: SiteProxy | null = null;
  if (config.roles.includes("proxy")) {
    const started = await createProxy(deps);
    proxy = started;
    const server = Bun.serve({
      hostname: config.host,
      port: config.proxyPort,
      // Sites are static: GET and HEAD only, so request bodies are never read.
      maxRequestBodySize: 64 * 1024,
      fetch: (request) => started.fetch(request),
      error: (error) => started.error(error),
    });
    servers.push(server);
    proxyPort = server.port ?? config.proxyPort;
    urls.proxy = `http://<project>.${config.baseDomain}:${proxyPort}`;
  }
  if (config.roles.includes("api")) {
    const api = createApi({ ...deps, config: { ...config, proxyPort } });
    const dashboard = createDashboard({ ...deps, config: { ...config, proxyPort } });
    const gitBackend = createGitBackend({ ...deps, config: { ...config, proxyPort } });
    const server = Bun.serve({
      hostname: config.host,
      port: config.port,
      maxRequestBodySize: MAX_API_BODY,
      // /api/* is the JSON API; /git/* the push remotes (src/git/http-backend.ts); every other path is the dashboard.
      fetch: (request) => {
        if (isApiPath(request.url)) return api.handle(request);
        if (isGitPath(request.url)) return gitBackend(request);
        if (Number(request.headers.get("content-length") ?? "0") > MAX_DASHBOARD_BODY)
          return new Response("request body is too large", { status: 413 });
        return dashboard.handle(request);
      },
    });
    servers.push(server);
    urls.api = `http://localhost:${server.port}`;
  }
  return {
    urls,
    async stop() {
      await Promise.all(servers.map((s) => s.stop()));
      await liveFeed?.stop();
      await proxy?.stop();
      if (worker) {
        await worker.gc?.stop();
        await worker.launcher.stop();
        await worker.events.stop();
      }
    },
  };
}

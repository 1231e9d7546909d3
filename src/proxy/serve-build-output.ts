// The proxy's side of functions: a Build Output API deployment's request routed by its config (build-output/),
// then answered (src/proxy/functions.ts): static files as any site's, functions through the function runtime
// (made on first use, in the deployment's environment), prerendered ones through the ISR cache in memory.

import type { Config } from "../config/config.ts";
import { deploymentUrl } from "../model/urls.ts";
import { createPrerenderCache } from "../runtime/prerender.ts";
import type { FunctionRuntime, Invocation } from "../runtime/runtime.ts";
import type { Artifacts } from "../store/artifacts.ts";
import type { Bodies } from "./bodies.ts";
import { type DeploymentContext, type FunctionServing, serveAnswer } from "./functions.ts";
import { page } from "./pages.ts";
import { splitUrl } from "./request-target.ts";
import type { Site } from "./resolve.ts";
import type { Route } from "./route-table.ts";

/** Memory for prerendered (ISR) responses, per proxy process. */
const PRERENDER_CACHE_BYTES = 64 * 1024 * 1024;

type SiteRoute = Extract<Route, { kind: "site" }>;
type Output = NonNullable<Site["buildOutput"]>;

export interface BuildOutputServing {
  /** A request for a Build Output API deployment; `caller` says who asked and how (proxy.ts: invocationOf). */
  serve(
    site: Site,
    output: Output,
    route: SiteRoute,
    request: Request,
    path: string,
    caller: Omit<Invocation, "request" | "path" | "search">,
  ): Response | Promise<Response>;
  /** The function runtime, made on first use (app servers run in it too); throws in a proxy without functions. */
  runtime(): FunctionRuntime;
  /** Stops the function runtime, if it was made. */
  stop(): Promise<void>;
}

export function createBuildOutputServing(context: {
  config: Config;
  artifacts: Pick<Artifacts, "getBlob">;
  bodies: Bodies;
  /** Makes the function runtime; null: this proxy runs no functions. */
  runtime: (() => FunctionRuntime) | null;
  /** Lifts the server's idle cut-off for a request a function answers (ProxyFunctions.unbounded). */
  unbounded?: (request: Request) => void;
  environmentOf: (deploymentId: string) => Promise<"production" | "preview">;
  hostOf: (request: Request) => string | null;
}): BuildOutputServing {
  const { config, environmentOf, hostOf } = context;
  let runtime: FunctionRuntime | null = null;
  const serving: FunctionServing = {
    runtime: () => {
      if (!context.runtime) throw new Error("this proxy runs no functions");
      runtime ??= context.runtime();
      return runtime;
    },
    prerender: createPrerenderCache(PRERENDER_CACHE_BYTES),
    artifacts: context.artifacts,
    bodies: context.bodies,
  };

  function contextOf(
    site: Site,
    output: Output,
    route: SiteRoute,
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

  return {
    serve(site, output, route, request, path, caller) {
      if (!output.router) return page("error", request.method);
      const { search } = splitUrl(request.url);
      const decision = output.router.route({
        method: request.method,
        path,
        query: search.slice(1),
        headers: request.headers,
        host: hostOf(request) ?? "",
      });
      if (decision.kind !== "function")
        return serveAnswer(serving, contextOf(site, output, route, "preview"), decision, request, caller);
      if (!context.runtime) return page("function-failed", request.method);
      context.unbounded?.(request);
      return environmentOf(route.deploymentId).then((environment) =>
        serveAnswer(serving, contextOf(site, output, route, environment), decision, request, caller),
      );
    },
    runtime: serving.runtime,
    stop: async () => {
      await runtime?.stop();
    },
  };
}

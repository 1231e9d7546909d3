// Proxy: a Build Output API deployment's answer -> a response. The router (build-output/) decides; static files
// are served as any site's, functions through the runtime (src/runtime/), prerendered ones through the ISR cache.

import { type PrerenderConfig, parsePrerenderConfig } from "../model/prerender-config.ts";
import { cacheQuery, type PrerenderCache, type Rendered } from "../runtime/prerender.ts";
import type { FunctionRuntime, FunctionTarget, Invocation, Outcome } from "../runtime/runtime.ts";
import type { Artifacts, Manifest, ManifestFile } from "../store/artifacts.ts";
import type { Bodies } from "./bodies.ts";
import type { RouteAnswer } from "./build-output/answer.ts";
import { applyResponseHeaders, requestHeaders, responseHeaders } from "./build-output/answer.ts";
import { page, statusPage } from "./pages.ts";
import { prepare, respond } from "./respond.ts";

/** What the proxy knows of the deployment a request is for. */
export interface DeploymentContext {
  deploymentId: string;
  projectId: string;
  environment: "production" | "preview";
  deploymentUrl: string;
  manifest: Manifest;
  /** Its static files' Last-Modified (Site.lastModified, made once per deployment). */
  lastModified: string | null;
}

export interface FunctionServing {
  runtime: () => FunctionRuntime;
  prerender: PrerenderCache;
  artifacts: Pick<Artifacts, "getBlob">;
  bodies: Bodies;
}

/** Prerender configs by deployment and function, parsed once (they are immutable, as manifests are). */
const prerenderConfigs = new Map<string, PrerenderConfig | null>();

async function prerenderConfigOf(
  serving: FunctionServing,
  context: DeploymentContext,
  name: string,
): Promise<PrerenderConfig | null> {
  const key = `${context.deploymentId}:${name}`;
  if (prerenderConfigs.has(key)) return prerenderConfigs.get(key) ?? null;
  const blob = context.manifest.functions?.[name]?.prerender;
  const text = blob ? await (await serving.artifacts.getBlob(blob.hash))?.text() : undefined;
  const parsed = text === undefined ? null : parsePrerenderConfig(text);
  const config = parsed && "config" in parsed ? parsed.config : null;
  if (prerenderConfigs.size > 4096) prerenderConfigs.clear();
  prerenderConfigs.set(key, config);
  return config;
}

/** The build's fallback file as a cache entry made at deploy time. */
function fallbackOf(
  serving: FunctionServing,
  context: DeploymentContext,
  file: ManifestFile,
  config: PrerenderConfig,
) {
  return async (): Promise<Rendered | null> => {
    const blob = await serving.artifacts.getBlob(file.hash);
    if (!blob) return null;
    const headers: [string, string][] = [
      ["content-type", file.type],
      ...Object.entries(config.initialHeaders),
    ];
    return {
      status: config.initialStatus,
      headers,
      body: new Uint8Array(await blob.arrayBuffer()),
      at: Date.parse(context.manifest.createdAt),
    };
  };
}

function failure(outcome: Extract<Outcome, { kind: "failed" }>, method: string): Response {
  switch (outcome.status) {
    case 502:
      return page("function-failed", method);
    case 503:
      return page("functions-unavailable", method);
    case 504:
      return page("function-timeout", method);
  }
}

async function invoke(
  serving: FunctionServing,
  context: DeploymentContext,
  answer: Extract<RouteAnswer, { kind: "function" }>,
  request: Request,
  invocation: Omit<Invocation, "request" | "path" | "search">,
): Promise<Response> {
  const fn = context.manifest.functions?.[answer.name];
  if (!fn) return page("not-found", request.method);
  const target: FunctionTarget = {
    deploymentId: context.deploymentId,
    projectId: context.projectId,
    environment: context.environment,
    deploymentUrl: context.deploymentUrl,
    path: answer.name,
    fn,
  };
  const forwarded =
    answer.requestHeaders.length === 0
      ? request
      : new Request(request, { headers: requestHeaders(answer.requestHeaders, request.headers) });
  const search = answer.query === "" ? "" : `?${answer.query}`;
  const call = (searchOverride = search) =>
    serving
      .runtime()
      .invoke(target, { ...invocation, request: forwarded, path: answer.path, search: searchOverride });

  let outcome: Outcome;
  const config = answer.prerendered ? await prerenderConfigOf(serving, context, answer.name) : null;
  if (config && (request.method === "GET" || request.method === "HEAD")) {
    const keyQuery = cacheQuery(search, config.allowQuery);
    outcome = await serving.prerender.answer({
      key: `${context.deploymentId}:${answer.name}:${answer.path}${keyQuery}`,
      config,
      request,
      fallback: fn.fallback ? fallbackOf(serving, context, fn.fallback, config) : null,
      // Only the query that makes the entry reaches the render, unless the function asked for all of it.
      render: () => call(config.passQuery ? search : keyQuery),
    });
  } else outcome = await call();

  if (outcome.kind === "failed") return failure(outcome, request.method);
  const { response } = outcome;
  // The runtime's answer is a Response of the platform's own (never the function's), so its headers may change in
  // place; wrapping its body in another Response would relay it through a stream again, at a cost per request.
  if (answer.status === undefined || answer.status === response.status) {
    applyResponseHeaders(answer.response, response.headers, "function");
    return response;
  }
  const headers = responseHeaders(answer.response, response.headers, "function");
  return new Response(response.body, { status: answer.status, headers });
}

/** Serves one router answer for a Build Output API deployment. */
export function serveAnswer(
  serving: FunctionServing,
  context: DeploymentContext,
  answer: RouteAnswer,
  request: Request,
  invocation: Omit<Invocation, "request" | "path" | "search">,
): Response | Promise<Response> {
  const method = request.method;
  switch (answer.kind) {
    case "static": {
      if (method !== "GET" && method !== "HEAD") return page("method", method);
      const file = context.manifest.files[answer.file];
      if (!file) return page("not-found", method);
      const typed = answer.contentType ? { ...file, type: answer.contentType } : file;
      // The routes' status, whatever it is: `{ "dest": "/500.html", "status": 500 }` answers a 500 with that page.
      const served = prepare(answer.file, typed, answer.status, {}, context.lastModified);
      const response = respond(served, request, serving.bodies);
      const withRoutes = (r: Response) =>
        new Response(r.body, {
          status: r.status,
          headers: responseHeaders(answer.response, r.headers, "static"),
        });
      return response instanceof Promise ? response.then(withRoutes) : withRoutes(response);
    }
    case "redirect": {
      const headers = responseHeaders(answer.response, new Headers({ location: answer.location }), "static");
      return new Response(null, { status: answer.status, headers });
    }
    case "status": {
      const base = statusPage(answer.status, method);
      return new Response(base.body, {
        status: answer.status,
        headers: responseHeaders(answer.response, base.headers, "static"),
      });
    }
    case "function":
      return invoke(serving, context, answer, request, invocation);
  }
}

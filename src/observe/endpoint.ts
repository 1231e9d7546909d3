// Observe: GET /metrics for Prometheus, on its own listener (METRICS_PORT, any role, loopback by default) and,
// when METRICS_TOKEN is set, on the API port too. A proxy-only process cannot use its own port: /metrics there
// is a path of the sites it serves.

import { createHash, timingSafeEqual } from "node:crypto";
import type { MetricsConfig } from "../config/config.ts";
import { observe } from "./http.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import { CONTENT_TYPE } from "./registry.ts";

export const METRICS_PATH = "/metrics";

export function isMetricsPath(url: string): boolean {
  return new URL(url).pathname === METRICS_PATH;
}

function problem(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return Response.json({ error: { code, message } }, { status, headers });
}

const digest = (value: string) => createHash("sha256").update(value).digest();

/** Compares hashes, so the time taken says nothing about how much of the token was right. */
function tokenMatches(header: string | null, token: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1] !== undefined && timingSafeEqual(digest(match[1]), digest(token));
}

/** The /metrics answer; with a token, only for a request that carries it as a bearer token. */
export function metricsHandler(
  metrics: Pick<Metrics, "registry">,
  token: string | null,
): (request: Request) => Promise<Response> {
  return async (request) => {
    if (!isMetricsPath(request.url)) return problem(404, "not_found", "only /metrics is served here");
    if (request.method !== "GET" && request.method !== "HEAD")
      return problem(405, "method_not_allowed", "use GET", { allow: "GET, HEAD" });
    if (token !== null && !tokenMatches(request.headers.get("authorization"), token)) {
      return problem(401, "unauthorized", "send the METRICS_TOKEN as a bearer token", {
        "www-authenticate": 'Bearer realm="metrics"',
      });
    }
    const body = await metrics.registry.expose();
    return new Response(request.method === "HEAD" ? null : body, {
      headers: { "content-type": CONTENT_TYPE, "cache-control": "no-store" },
    });
  };
}

/** The dedicated listener; null when METRICS_PORT is not set. */
export function startMetricsServer(deps: {
  config: { metrics: MetricsConfig };
  metrics: Metrics;
  log: Logger;
}): ReturnType<typeof Bun.serve> | null {
  const { port, host, token } = deps.config.metrics;
  if (port === null) return null;
  return Bun.serve({
    hostname: host,
    port,
    maxRequestBodySize: 1024,
    fetch: observe("metrics", metricsHandler(deps.metrics, token), deps),
  });
}

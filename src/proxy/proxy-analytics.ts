// The proxy's wiring of web analytics (ANALYTICS): which site requests are counted (sampling), what answered them,
// and the answer's body size and time to first byte, handed to the recorder (src/proxy/analytics.ts) once the
// response exists. Off, it costs the hot path nothing: the proxy holds null instead.

import type { Config } from "../config/config.ts";
import type { Deps } from "../deps.ts";
import { bytesStreamed } from "../runtime/forward.ts";
import { type AnalyticsRecorder, type Answered, createAnalyticsRecorder } from "./analytics.ts";
import { loadGeoIp } from "./geoip.ts";
import type { Served } from "./respond.ts";
import type { Route } from "./route-table.ts";

/** The size of the body respond() sent for `served`: the variant its Content-Encoding names, or its range. */
export function bodyBytes(served: Served, request: Request, response: Response): number | null {
  if (request.method === "HEAD" || response.status === 304 || response.status === 416) return 0;
  const range = /^bytes (\d+)-(\d+)\//.exec(response.headers.get("content-range") ?? "");
  if (range) return Number(range[2]) - Number(range[1]) + 1;
  const encoding = response.headers.get("content-encoding");
  const variant = encoding === "br" ? served.br : encoding === "gzip" ? served.gzip : served.identity;
  return variant?.size ?? null;
}

/** What answered a request, for analytics: set along the way, counted when the response exists. */
export type Hit = Answered & { served?: Served; started: number; weight: number };

/** Counts an answered request for analytics: its deployment, status, body size and time to first byte. */
function count(recorder: AnalyticsRecorder, hit: Hit, request: Request, response: Response): void {
  let bytes = 0;
  if (hit.served) bytes = bodyBytes(hit.served, request, response) ?? 0;
  else if (request.method !== "HEAD") {
    const length = response.headers.get("content-length");
    if (length !== null) bytes = Number(length) || 0;
    else {
      // A streamed answer (a function's or app server's): counted once it is over, timed from now.
      const streamed = bytesStreamed(response);
      if (streamed !== undefined) {
        const answeredAt = performance.now();
        void streamed.then((sent) =>
          recorder.record(request, hit, response.status, sent, hit.started, hit.weight, answeredAt),
        );
        return;
      }
    }
  }
  recorder.record(request, hit, response.status, bytes, hit.started, hit.weight);
}

export interface ProxyAnalytics {
  /**
   * The record of a request a site answers, when it is counted (null for one sampling leaves out: a busy proxy).
   * `arrived` is when it arrived (performance.now()), or -1 to time it from now (routing resumed asynchronously).
   */
  hit(route: Extract<Route, { kind: "site" }>, path: string, arrived: number): Hit | null;
  /** Counts `hit` once its response exists, and passes the response on. */
  counted(hit: Hit, request: Request, result: Response | Promise<Response>): Response | Promise<Response>;
  /** Flushes what is counted; later requests are not. */
  stop(): Promise<void>;
}

/** The proxy's analytics, or null when ANALYTICS is off. `peer` is a request's socket address. */
export function openProxyAnalytics(
  deps: Pick<Deps, "store" | "bus" | "log">,
  config: Pick<Config, "analytics" | "limits">,
  peer: (request: Request) => string | null,
): ProxyAnalytics | null {
  if (!config.analytics.enabled) return null;
  // Counted here, sent on the bus every ANALYTICS_FLUSH_SECONDS (src/proxy/analytics.ts).
  const recorder = createAnalyticsRecorder(deps, {
    flushMs: config.analytics.flushSeconds * 1000,
    geo: config.analytics.geoipCsv ? loadGeoIp(config.analytics.geoipCsv) : null,
    trustProxyHops: config.limits.trustProxyHops,
    peer,
    sampleAbove: config.analytics.sampleAbove,
  });
  return {
    hit(route, path, arrived) {
      const weight = recorder.weight();
      if (weight === 0) return null;
      const started = arrived >= 0 ? arrived : performance.now();
      return { projectId: route.project.id, deploymentId: route.deploymentId, path, started, weight };
    },
    counted(hit, request, result) {
      if (result instanceof Promise)
        return result.then((response) => {
          count(recorder, hit, request, response);
          return response;
        });
      count(recorder, hit, request, result);
      return result;
    },
    stop: () => recorder.stop(),
  };
}

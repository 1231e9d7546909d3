// Observe: the wrapper around each role's fetch handler: a request id (taken or made, echoed in X-Request-Id),
// the request series (count by role/method/code, latency by role) and, when switched on, one access log line.

import type { LogFields, Logger } from "./log.ts";
import type { HttpRole, Metrics } from "./metrics.ts";

export type Handler = (request: Request) => Response | Promise<Response>;

export const REQUEST_ID_HEADER = "x-request-id";

/** What an incoming id may look like: short and plain, so it can go into logs and headers as is. */
const WELL_FORMED_ID = /^[A-Za-z0-9._:@+=-]{1,128}$/;

/** Methods get their own label value; anything else is "other", so a client cannot grow the series. */
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

export interface ObserveOptions {
  /** One log line per request (PROXY_ACCESS_LOG for the proxy, API_ACCESS_LOG for the others). */
  accessLog: boolean;
  /** More fields for the access log line (the proxy adds the deployment it served and the body's size). */
  fields?: (request: Request, response: Response) => LogFields;
  /**
   * Make (and echo) an id only when there is a log line to find it in, or the client sent one: the proxy's
   * answers are static, and setting a header on every request and response costs it ~10% of its throughput.
   */
  idsOnlyWhenLogged?: boolean;
}

/** The request's id as the wrapper left it on the request (handlers put it in their error logs). */
export function requestIdOf(request: Request): string | null {
  return request.headers.get(REQUEST_ID_HEADER);
}

/**
 * Ids this process makes: a random prefix per wrapper and a counter, unique without asking the system for
 * randomness on every request (the proxy's hot path).
 */
function idMaker(): () => string {
  const prefix = crypto.randomUUID().slice(0, 8);
  let n = 0;
  return () => `${prefix}-${(++n).toString(36)}`;
}

export function observe(
  role: HttpRole,
  handler: Handler,
  deps: { metrics: Metrics; log: Logger },
  options: ObserveOptions = { accessLog: false },
): Handler {
  const nextId = idMaker();
  const lazyIds = options.idsOnlyWhenLogged === true && !options.accessLog;
  const access = deps.log.child({ role });
  const latency = deps.metrics.requestSeconds.labels({ role });
  // Bound counters by method and status, made on first use: no label lookup per request.
  const bound = new Map<string, ({ inc(): void } | undefined)[]>();
  function count(request: Request, status: number): void {
    const method = METHODS.has(request.method) ? request.method : "other";
    let byStatus = bound.get(method);
    if (!byStatus) {
      byStatus = [];
      bound.set(method, byStatus);
    }
    let counter = byStatus[status];
    if (!counter) {
      counter = deps.metrics.requests.labels({ role, method, code: String(status) });
      byStatus[status] = counter;
    }
    counter.inc();
  }

  function done(request: Request, response: Response, id: string | null, started: number): Response {
    const seconds = (performance.now() - started) / 1000;
    count(request, response.status);
    latency.observe(seconds);
    if (id !== null) {
      try {
        response.headers.set(REQUEST_ID_HEADER, id);
      } catch {
        // Immutable headers (a Response.redirect, a fetched response): served without the echo.
      }
    }
    if (options.accessLog) {
      const url = new URL(request.url);
      const bytes = response.headers.get("content-length");
      access.info("access", {
        requestId: id,
        host: request.headers.get("host") ?? "",
        method: request.method,
        path: url.pathname,
        status: response.status,
        bytes: bytes === null ? null : Number(bytes),
        durationMs: Math.round(seconds * 10_000) / 10,
        ...options.fields?.(request, response),
      });
    }
    return response;
  }

  /** A handler that threw: the server's error handler answers 500, and it is counted as one. */
  function failed(request: Request, started: number): void {
    count(request, 500);
    latency.observe((performance.now() - started) / 1000);
  }

  return (request) => {
    const started = performance.now();
    const given = request.headers.get(REQUEST_ID_HEADER);
    let id: string | null;
    if (given !== null && WELL_FORMED_ID.test(given)) id = given;
    else if (lazyIds && given === null) id = null;
    else {
      id = nextId();
      // On the request too, so the handler's own logs (and error logs) carry the same id.
      request.headers.set(REQUEST_ID_HEADER, id);
    }
    // Synchronous answers stay synchronous: the proxy answers most requests without a promise.
    let result: Response | Promise<Response>;
    try {
      result = handler(request);
    } catch (error) {
      failed(request, started);
      throw error;
    }
    if (result instanceof Promise) {
      return result.then(
        (response) => done(request, response, id, started),
        (error: unknown) => {
          failed(request, started);
          throw error;
        },
      );
    }
    return done(request, result, id, started);
  };
}

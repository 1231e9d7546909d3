// The request wrapper: request ids (kept, made, echoed), the request series, access lines only when switched on.

import { describe, expect, test } from "bun:test";
import { captureLog, parseExposition, sampleValue } from "../testing/metrics.ts";
import { observe, REQUEST_ID_HEADER, requestIdOf } from "./http.ts";
import { createMetrics } from "./metrics.ts";

function setup(accessLog: boolean) {
  const metrics = createMetrics();
  const { log, lines } = captureLog();
  const seen: (string | null)[] = [];
  const handler = observe(
    "api",
    (request) => {
      seen.push(requestIdOf(request));
      if (request.url.endsWith("/throw")) throw new Error("handler bug");
      if (request.url.endsWith("/async"))
        return Promise.resolve(Response.json({ ok: true }, { status: 201 }));
      return new Response("hello", { status: 200, headers: { "content-length": "5" } });
    },
    { metrics, log },
    { accessLog },
  );
  const scrape = async () => parseExposition(await metrics.registry.expose());
  return { handler, lines, seen, scrape };
}

const req = (path: string, init: RequestInit = {}) => new Request(`http://localhost${path}`, init);

describe("request ids", () => {
  test("a well-formed incoming id is kept and echoed; the handler sees it on the request", async () => {
    const { handler, seen } = setup(false);
    const res = await handler(req("/x", { headers: { "x-request-id": "lb-7f3a:42" } }));
    expect(res.headers.get(REQUEST_ID_HEADER)).toBe("lb-7f3a:42");
    expect(seen).toEqual(["lb-7f3a:42"]);
  });

  test("a missing, overlong or unsafe id is replaced by a fresh one, different per request", async () => {
    const { handler, seen } = setup(false);
    const given = [undefined, "x".repeat(129), "bad id", 'a"b', "line\tbreak"];
    const ids: string[] = [];
    for (const id of given) {
      const res = await handler(req("/x", { headers: id === undefined ? {} : { "x-request-id": id } }));
      ids.push(res.headers.get(REQUEST_ID_HEADER) ?? "");
    }
    expect(new Set(ids).size).toBe(given.length);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-z]+$/);
    expect(seen).toEqual(ids);
  });
});

describe("the request series", () => {
  test("counted by role, method and code, with a latency observation each; odd methods are 'other'", async () => {
    const { handler, scrape } = setup(false);
    await handler(req("/x"));
    await handler(req("/x"));
    await handler(req("/async", { method: "POST" }));
    await handler(req("/x", { method: "PROPFIND" }));
    const m = await scrape();
    const count = (method: string, code: string) =>
      sampleValue(m, "minivercel_http_requests_total", { role: "api", method, code });
    expect([count("GET", "200"), count("POST", "201"), count("other", "200")]).toEqual([2, 1, 1]);
    expect(sampleValue(m, "minivercel_http_request_duration_seconds_count", { role: "api" })).toBe(4);
    expect(
      sampleValue(m, "minivercel_http_request_duration_seconds_bucket", { role: "api", le: "+Inf" }),
    ).toBe(4);
  });

  test("a handler that throws is counted as a 500 and the error goes on to the server", async () => {
    const { handler, scrape } = setup(false);
    expect(() => handler(req("/throw"))).toThrow("handler bug");
    expect(
      sampleValue(await scrape(), "minivercel_http_requests_total", {
        role: "api",
        method: "GET",
        code: "500",
      }),
    ).toBe(1);
  });
});

describe("access log", () => {
  test("off: no line at all", async () => {
    const { handler, lines } = setup(false);
    await handler(req("/x"));
    expect(lines).toEqual([]);
  });

  test("on: one JSON line per request with its id, method, path (no query), status, bytes and duration", async () => {
    const { handler, lines } = setup(true);
    await handler(req("/x?token=secret", { headers: { "x-request-id": "abc-1", host: "example.test" } }));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: "info",
      msg: "access",
      role: "api",
      requestId: "abc-1",
      host: "example.test",
      method: "GET",
      path: "/x",
      status: 200,
      bytes: 5,
    });
    expect(typeof lines[0]?.durationMs).toBe("number");
    expect(JSON.stringify(lines[0])).not.toContain("secret");
  });
});

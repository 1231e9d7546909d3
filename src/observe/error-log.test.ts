// Unhandled errors: the client gets a bare 500 with the request id in X-Request-Id; the server log gets the
// error with the same id, so an operator can find what went wrong from what the user reports.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { createApi } from "../api/app.ts";
import { createDashboard } from "../dashboard/app.ts";
import type { Deps } from "../deps.ts";
import { SESSION_COOKIE } from "../identity/authenticate.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { captureLog } from "../testing/metrics.ts";
import { observe } from "./http.ts";

let deps: Deps;
let token: string;
let lines: Record<string, unknown>[];

beforeAll(async () => {
  deps = await testDeps();
  token = (await testUser(deps)).token;
  const captured = captureLog();
  deps.log = captured.log;
  lines = captured.lines;
  // A real internal failure: the database goes away under the running server.
  await deps.store.close();
});
afterAll(() => deps.close().catch(() => {}));

test("API: 500 with no internals, and one error line carrying the request id, method and path", async () => {
  const api = createApi(deps);
  const handler = observe("api", (r) => api.handle(r), deps);
  const res = await handler(
    new Request("http://localhost/api/projects", {
      headers: { authorization: `Bearer ${token}`, "x-request-id": "support-ticket-42" },
    }),
  );
  expect(res.status).toBe(500);
  expect(res.headers.get("x-request-id")).toBe("support-ticket-42");
  expect(await res.json()).toEqual({ error: { code: "internal", message: "internal error" } });
  const logged = lines.filter((l) => l.level === "error");
  expect(logged).toHaveLength(1);
  expect(logged[0]).toMatchObject({
    msg: "api: unhandled error",
    requestId: "support-ticket-42",
    method: "GET",
    path: "/api/projects",
  });
  expect(JSON.stringify(logged[0]?.error)).toContain("closed");
});

test("dashboard: the error page, and the error line with the id the wrapper made", async () => {
  lines.length = 0;
  const dashboard = createDashboard(deps);
  const handler = observe("dashboard", (r) => dashboard.handle(r), deps);
  const res = await handler(
    new Request("http://localhost/projects/new", { headers: { cookie: `${SESSION_COOKIE}=whatever` } }),
  );
  expect(res.status).toBe(500);
  const id = res.headers.get("x-request-id");
  expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-z]+$/);
  expect(lines.filter((l) => l.level === "error")).toEqual([
    expect.objectContaining({ msg: "dashboard: unhandled error", requestId: id, path: "/projects/new" }),
  ]);
});

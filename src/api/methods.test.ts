// Routing misses through the handler: a known path with a wrong method is 405 with Allow and the JSON error shape;
// an unknown path stays 404.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Deps } from "../deps.ts";
import { apiClient, type Client, obj, testDeps, testUser } from "../testing/deps.ts";
import { allowedMethods } from "./methods.ts";

let deps: Deps;
let alice: Client;
let anonymous: Client;

beforeAll(async () => {
  deps = await testDeps();
  alice = apiClient(deps, (await testUser(deps)).token);
  anonymous = apiClient(deps, null);
});
afterAll(() => deps.close());

describe("a known path with a wrong method", () => {
  test.each([
    ["PUT", "/api/projects", "GET, HEAD, POST"],
    ["POST", "/api/health", "GET, HEAD"],
    ["PUT", "/api/projects/p-1", "DELETE, GET, HEAD, PATCH"],
    ["GET", "/api/projects/p-1/env/KEY", "DELETE, PUT"],
    ["DELETE", "/api/deployments/d-1/logs", "GET, HEAD"],
    ["GET", "/api/files/abc", "PUT"],
    ["GET", "/api/hooks/p-1/github", "POST"],
    // Elysia matches a path with its trailing slash too.
    ["DELETE", "/api/tokens/", "GET, HEAD, POST"],
  ])("%s %s: 405, Allow: %s", async (method, path, allow) => {
    const res = await alice(method, path);
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe(allow);
    expect(res.headers.get("content-type")).toStartWith("application/json");
    expect(obj(res.body).error).toEqual({
      code: "method_not_allowed",
      message: `${method} is not allowed here; use ${allow}`,
    });
  });

  test("is answered before authentication: the methods of a path are public, like the OpenAPI document", async () => {
    const res = await anonymous("PATCH", "/api/projects");
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD, POST");
  });

  test("the allowed methods still answer", async () => {
    expect((await alice("GET", "/api/projects")).status).toBe(200);
    expect((await alice("HEAD", "/api/health")).status).toBe(200);
  });
});

describe("an unknown path", () => {
  test.each([
    ["GET", "/api/nope"],
    ["POST", "/api/projects/p-1/nope"],
    ["GET", "/api/projects/p-1/env/KEY/extra"],
    ["GET", "/api"],
  ])("%s %s: 404 without Allow", async (method, path) => {
    const res = await alice(method, path);
    expect(res.status).toBe(404);
    expect(res.headers.get("allow")).toBeNull();
    expect(obj(res.body).error).toEqual({ code: "not_found", message: "no such route" });
  });
});

test("allowedMethods: parameters take one non-empty segment, a trailing * the rest", () => {
  const allowed = allowedMethods([
    { method: "GET", path: "/a/:id" },
    { method: "post", path: "/a/:id" },
    { method: "GET", path: "/files/*" },
  ]);
  expect(allowed("/a/1")).toEqual(["GET", "HEAD", "POST"]);
  expect(allowed("/a/1/")).toEqual(["GET", "HEAD", "POST"]);
  expect(allowed("/a//")).toEqual([]);
  expect(allowed("/a")).toEqual([]);
  expect(allowed("/files/x/y/z")).toEqual(["GET", "HEAD"]);
});

// The OpenAPI document through the handler: numbers declared as the integers they are, every operation with its
// success and the statuses middleware adds where it can answer, and non-JSON bodies under their media types.
// (That it validates as OpenAPI 3.1, and that the server keeps to it: contract.e2e.test.ts.)

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Deps } from "../deps.ts";
import { apiClient, obj, testDeps } from "../testing/deps.ts";

let deps: Deps;
let document: Record<string, unknown>;

beforeAll(async () => {
  deps = await testDeps();
  document = obj((await apiClient(deps, null)("GET", "/api/openapi.json")).body);
});
afterAll(() => deps.close());

/** Follows a path of keys through the document (JSON Pointer segments, unescaped). */
function at(...keys: string[]): unknown {
  let node: unknown = document;
  for (const key of keys) node = obj(node)[key];
  return node;
}

const operations = () =>
  Object.entries(obj(document.paths)).flatMap(([path, item]) =>
    Object.entries(obj(item)).map(([method, operation]) => ({
      name: `${method.toUpperCase()} ${path}`,
      method,
      path,
      operation: obj(operation),
      responses: obj(obj(operation).responses),
    })),
  );

function* nodes(value: unknown, where = "#"): Generator<[string, Record<string, unknown>]> {
  if (Array.isArray(value)) for (const [i, item] of value.entries()) yield* nodes(item, `${where}/${i}`);
  else if (typeof value === "object" && value !== null) {
    yield [where, obj(value)];
    for (const [key, child] of Object.entries(value)) yield* nodes(child, `${where}/${key}`);
  }
}

const parameter = (path: string, method: string, name: string) =>
  (at("paths", path, method, "parameters") as Record<string, unknown>[]).find((p) => p.name === name)?.schema;

describe("numbers", () => {
  test("no schema keeps Elysia's numeric-string branch (a string with a numeric default is invalid)", () => {
    const strings = [...nodes(document)].filter(
      ([, node]) => node.type === "string" && (node.format === "integer" || node.format === "numeric"),
    );
    expect(strings.map(([where]) => where)).toEqual([]);
  });

  test("integer fields are integers, with their limits", () => {
    expect(parameter("/api/projects", "get", "limit")).toEqual({
      type: "integer",
      minimum: 1,
      maximum: 100,
      default: 20,
      description: "page size (1-100)",
    });
    expect(parameter("/api/deployments/{id}/logs", "get", "limit")).toEqual({
      type: "integer",
      minimum: 1,
      maximum: 5000,
      default: 1000,
    });
    expect(parameter("/api/deployments/{id}/logs", "get", "after")).toMatchObject({
      type: "integer",
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
    });
    const page = obj(at("paths", "/api/deployments/{id}/logs", "get", "responses", "200", "content"));
    const properties = obj(obj(obj(page["application/json"]).schema).properties);
    expect(obj(obj(obj(properties.items).items).properties).seq).toEqual({ type: "integer", minimum: 1 });
    expect(properties.nextAfter).toMatchObject({ type: ["integer", "null"], minimum: 1 });
    const upload = obj(at("paths", "/api/projects/{id}/deployments", "post", "requestBody", "content"));
    const files = obj(obj(obj(obj(upload["application/json"]).schema).properties).files);
    const file = obj(Object.values(obj(files.patternProperties))[0]);
    expect(obj(file.properties).size).toMatchObject({ type: "integer", minimum: 0 });
  });
});

describe("responses", () => {
  test("every operation declares a success, and every reference resolves", () => {
    for (const { name, responses } of operations()) {
      expect({ name, success: Object.keys(responses).some((s) => s.startsWith("2")) }).toEqual({
        name,
        success: true,
      });
    }
    for (const [where, node] of nodes(document)) {
      if (typeof node.$ref !== "string") continue;
      const keys = node.$ref.replace(/^#\//, "").split("/");
      expect({ where, resolved: at(...keys) !== undefined }).toEqual({ where, resolved: true });
    }
  });

  test("every error is the one ErrorBody shape", () => {
    expect(Object.keys(obj(at("components", "schemas", "ErrorBody", "properties")))).toEqual(["error"]);
    for (const { name, responses } of operations()) {
      for (const [status, response] of Object.entries(responses)) {
        if (!status.startsWith("4")) continue;
        const resolved = obj(
          typeof obj(response).$ref === "string"
            ? at(...String(obj(response).$ref).slice(2).split("/"))
            : response,
        );
        const schema = obj(obj(obj(resolved.content)["application/json"]).schema);
        expect({ name, status, schema }).toEqual({
          name,
          status,
          schema: { $ref: "#/components/schemas/ErrorBody" },
        });
      }
    }
  });

  const statuses = (name: string) => {
    const found = operations().find((o) => o.name === name);
    if (!found) throw new Error(`no operation ${name}`);
    return Object.keys(found.responses);
  };

  test.each([
    ["GET /api/health", ["200"]],
    ["GET /api/user", ["200", "401", "429"]],
    ["GET /api/projects", ["200", "400", "401", "404", "422", "429"]],
    ["GET /api/teams/{team}/audit", ["200", "400", "401", "403", "404", "422", "429"]],
    ["POST /api/projects", ["201", "400", "401", "403", "404", "409", "411", "413", "422", "429"]],
    ["DELETE /api/projects/{id}", ["204", "401", "403", "404", "422", "429"]],
    ["GET /api/deployments/{id}/logs/stream", ["200", "401", "404", "422", "429"]],
    ["PUT /api/projects/{id}/env/{key}", ["204", "400", "401", "403", "404", "411", "413", "422", "429"]],
    ["DELETE /api/tokens/{id}", ["204", "401", "403", "404", "422", "429"]],
    // Uploads stream their body: no 411. Builds are exempt from rate limits and use their own token.
    ["PUT /api/files/{hash}", ["204", "400", "401", "403", "413", "422", "429"]],
    ["PUT /api/builds/{id}/blobs/{hash}", ["204", "400", "401", "403", "409", "413", "422"]],
    ["GET /api/builds/{id}/source", ["200", "401", "403", "404", "409", "422"]],
    // Public: its signature is its authentication (a 401 of its own), and no CSRF.
    [
      "POST /api/hooks/{projectId}/{provider}",
      ["200", "202", "400", "401", "404", "411", "413", "422", "429"],
    ],
  ])("%s: %j", (name, expected) => {
    expect(statuses(name)).toEqual(expected);
  });

  test("429 says when to retry", () => {
    const headers = obj(at("components", "responses", "RateLimited", "headers"));
    expect(obj(headers["Retry-After"])).toMatchObject({ required: true, schema: { type: "integer" } });
  });

  test("bodies that are not JSON are filed under their media types; 204 has no body", () => {
    const content = (path: string, method: string, status: string) =>
      Object.keys(obj(obj(at("paths", path, method, "responses", status)).content ?? {}));
    expect(content("/api/deployments/{id}/logs/stream", "get", "200")).toEqual(["text/event-stream"]);
    // Content negotiation: the analytics report as JSON or CSV.
    expect(content("/api/projects/{id}/analytics", "get", "200").sort()).toEqual([
      "application/json",
      "text/csv",
    ]);
    expect(content("/api/builds/{id}/source/{hash}", "get", "200")).toEqual(["application/octet-stream"]);
    expect(content("/api/projects/{id}", "delete", "204")).toEqual([]);
    expect(Object.keys(obj(at("paths", "/api/files/{hash}", "put", "requestBody", "content")))).toEqual([
      "application/octet-stream",
    ]);
    // JSON routes take JSON only (parse: "json"), not the form encodings Elysia would otherwise list.
    expect(Object.keys(obj(at("paths", "/api/projects", "post", "requestBody", "content")))).toEqual([
      "application/json",
    ]);
  });
});

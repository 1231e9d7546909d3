// Environment variables per target through the API's handler: set for production, preview or both, list with
// targets (never values), remove for one target or both; mistakes are 422s naming the field, nothing changed.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { buildEnv } from "../deploy/env.ts";
import type { Deps } from "../deps.ts";
import { apiClient, type Client, obj, testDeps, testUser } from "../testing/deps.ts";

let deps: Deps;
let api: Client;

beforeAll(async () => {
  deps = await testDeps();
  api = apiClient(deps, (await testUser(deps)).token);
});
afterAll(() => deps.close());

async function newProject(): Promise<string> {
  const res = await api("POST", "/api/projects", { name: `env-${crypto.randomUUID().slice(0, 6)}` });
  expect(res.status).toBe(201);
  return String(obj(res.body).id);
}

const listed = async (id: string) => {
  const res = await api("GET", `/api/projects/${id}/env`);
  expect(res.status).toBe(200);
  return (obj(res.body).items as Record<string, unknown>[]).map(({ key, target }) => [key, target]);
};

/** What a build or function of each target would see. */
const seen = async (id: string) => ({
  production: await buildEnv(deps.store, deps.sealer, id, "production"),
  preview: await buildEnv(deps.store, deps.sealer, id, "preview"),
});

describe("env API", () => {
  test("a key with a value per target; without a target, both", async () => {
    const id = await newProject();
    const put = (key: string, body: Record<string, unknown>) =>
      api("PUT", `/api/projects/${id}/env/${key}`, body);
    expect((await put("API_KEY", { value: "shared" })).status).toBe(204);
    expect((await put("DATABASE_URL", { value: "postgres://prod", target: ["production"] })).status).toBe(
      204,
    );
    expect((await put("DATABASE_URL", { value: "postgres://preview", target: ["preview"] })).status).toBe(
      204,
    );
    expect(await listed(id)).toEqual([
      ["API_KEY", ["production", "preview"]],
      ["DATABASE_URL", ["production"]],
      ["DATABASE_URL", ["preview"]],
    ]);
    const list = await api("GET", `/api/projects/${id}/env`);
    expect(JSON.stringify(list.body)).not.toContain("postgres://");
    expect(obj((obj(list.body).items as unknown[])[0]).updatedAt).toMatch(/^\d{4}-/);
    expect(await seen(id)).toEqual({
      production: { API_KEY: "shared", DATABASE_URL: "postgres://prod" },
      preview: { API_KEY: "shared", DATABASE_URL: "postgres://preview" },
    });

    // Previews get their own API_KEY; production keeps the shared one. Both at once joins them again.
    expect((await put("API_KEY", { value: "for previews", target: ["preview"] })).status).toBe(204);
    expect((await seen(id)).production.API_KEY).toBe("shared");
    expect((await seen(id)).preview.API_KEY).toBe("for previews");
    expect(
      (await put("API_KEY", { value: "joined", target: ["preview", "production", "preview"] })).status,
    ).toBe(204);
    expect((await listed(id)).filter(([key]) => key === "API_KEY")).toEqual([
      ["API_KEY", ["production", "preview"]],
    ]);

    // Removing one target's value keeps the other's; a target the key has no value for is a 404.
    expect((await api("DELETE", `/api/projects/${id}/env/DATABASE_URL?target=preview`)).status).toBe(204);
    const again = await api("DELETE", `/api/projects/${id}/env/DATABASE_URL?target=preview`);
    expect([again.status, obj(obj(again.body).error).code]).toEqual([404, "not_found"]);
    expect(await seen(id)).toEqual({
      production: { API_KEY: "joined", DATABASE_URL: "postgres://prod" },
      preview: { API_KEY: "joined" },
    });
    expect((await api("DELETE", `/api/projects/${id}/env/API_KEY?target=production`)).status).toBe(204);
    expect(await listed(id)).toEqual([
      ["API_KEY", ["preview"]],
      ["DATABASE_URL", ["production"]],
    ]);
    // Without a target: every value of the key.
    expect((await api("DELETE", `/api/projects/${id}/env/DATABASE_URL`)).status).toBe(204);
    expect(await listed(id)).toEqual([["API_KEY", ["preview"]]]);
  });

  test("bad targets, names and values are 422s naming the field; nothing changes", async () => {
    const id = await newProject();
    expect(
      (await api("PUT", `/api/projects/${id}/env/KEPT`, { value: "v", target: ["production"] })).status,
    ).toBe(204);
    const cases: [path: string, method: string, body: unknown, field: string, message: RegExp][] = [
      ["KEPT", "PUT", { value: "x", target: [] }, "target", /target/],
      ["KEPT", "PUT", { value: "x", target: ["staging"] }, "target.0", /must be one of production, preview/],
      ["KEPT", "PUT", { value: "x", target: ["development"] }, "target.0", /production, preview/],
      ["KEPT", "PUT", { value: "x", target: "production" }, "target", /expected array/],
      ["KEPT", "PUT", { value: "x", targets: ["preview"] }, "targets", /targets/],
      ["KEPT", "PUT", { target: ["preview"] }, "value", /value is required/],
      ["1BAD", "PUT", { value: "x", target: ["preview"] }, "key", /variable names must start/],
      ["KEPT?target=staging", "DELETE", undefined, "target", /must be one of production, preview/],
    ];
    for (const [path, method, body, field, message] of cases) {
      const res = await api(method, `/api/projects/${id}/env/${path}`, body);
      const error = obj(obj(res.body).error);
      expect({ path, body, status: res.status, field: error.field }).toEqual({
        path,
        body,
        status: 422,
        field,
      });
      expect(String(error.message)).toMatch(message);
    }
    expect(await listed(id)).toEqual([["KEPT", ["production"]]]);
    expect(await seen(id)).toEqual({ production: { KEPT: "v" }, preview: {} });
  });

  test("the limit counts variables as they would be after the change", async () => {
    const id = await newProject();
    for (let i = 0; i < 199; i++) await deps.store.env.set(id, `V${i}`, ["production", "preview"], "c");
    const put = (key: string, target: string[]) =>
      api("PUT", `/api/projects/${id}/env/${key}`, { value: "v", target });
    expect((await put("LAST", ["production"])).status).toBe(204);
    // A second variable for LAST would be the 201st; replacing its production value is not.
    const over = await put("LAST", ["preview"]);
    expect([over.status, obj(obj(over.body).error).field]).toEqual([422, "key"]);
    expect((await put("LAST", ["production"])).status).toBe(204);
    // Both targets replaces LAST's one variable: still 200.
    expect((await put("LAST", ["production", "preview"])).status).toBe(204);
    expect(await listed(id)).toHaveLength(200);
  });
});

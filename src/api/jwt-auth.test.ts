// External JWTs through the API handler: a real local JWKS issuer, identities mapped to local users, refusals.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import type { Deps } from "../deps.ts";
import { apiClient, type Client, obj, testDeps, testUser } from "../testing/deps.ts";

const keys = await generateKeyPair("RS256");
const otherKeys = await generateKeyPair("RS256");
const jwks = { keys: [{ ...(await exportJWK(keys.publicKey)), kid: "k1", alg: "RS256", use: "sig" }] };

const issuerServer = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch: (request) =>
    new URL(request.url).pathname === "/jwks"
      ? Response.json(jwks)
      : new Response("not found", { status: 404 }),
});
const issuer = `http://127.0.0.1:${issuerServer.port}`;

let deps: Deps;
beforeAll(async () => {
  deps = await testDeps({
    OIDC_ISSUER: issuer,
    OIDC_JWKS_URL: `${issuer}/jwks`,
    OIDC_AUDIENCE: "minivercel",
  });
});
afterAll(async () => {
  await deps.close();
  await issuerServer.stop(true);
});

const now = () => Math.floor(Date.now() / 1000);

/** A valid RS256 token for `sub` unless `claims` override it (undefined removes a claim). */
function token(sub: string, claims: JWTPayload = {}, key: CryptoKey = keys.privateKey): Promise<string> {
  const payload = { iss: issuer, aud: "minivercel", sub, exp: now() + 300, iat: now(), ...claims };
  return new SignJWT(payload).setProtectedHeader({ alg: "RS256", kid: "k1", typ: "JWT" }).sign(key);
}

async function as(sub: string, claims: JWTPayload = {}): Promise<Client> {
  return apiClient(deps, await token(sub, claims));
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** Asserts a 401 in the API's one JSON error shape. */
function expectUnauthorized(res: { status: number; body: unknown; headers: Headers }, message: string) {
  expect(res.status).toBe(401);
  expect(res.headers.get("content-type")).toContain("application/json");
  expect(res.body).toEqual({ error: { code: "unauthorized", message } });
}

describe("external JWT identities", () => {
  let projectId = "";
  let firstUserId = "";

  test("a valid RS256 token can read the user and create a project", async () => {
    const alice = await as("alice-sub", { email: "alice@idp.example" });
    const me = await alice("GET", "/api/user");
    expect(me.status).toBe(200);
    firstUserId = String(obj(me.body).id);
    expect(obj(me.body).email).toBe("alice@idp.example");
    expect(firstUserId.length).toBeGreaterThan(0);

    const created = await alice("POST", "/api/projects", {
      name: "From OIDC",
      subDomain: `oidc-${crypto.randomUUID().slice(0, 8)}`,
      gitUrl: "https://git.example.com/a/site.git",
    });
    expect(created.status).toBe(201);
    projectId = String(obj(created.body).id);
  });

  test("the same subject later maps to the same local user", async () => {
    // A fresh token (new iat/exp, even another email claim) is still the same person.
    const again = await as("alice-sub", { email: "alice@idp.example", exp: now() + 600 });
    expect(obj((await again("GET", "/api/user")).body).id).toBe(firstUserId);
    const list = obj((await again("GET", "/api/projects")).body).items as { id: string }[];
    expect(list.map((p) => p.id)).toEqual([projectId]);
    expect((await again("GET", `/api/projects/${projectId}`)).status).toBe(200);
  });

  test("a different subject is a different user and cannot see the project", async () => {
    const bob = await as("bob-sub", { email: "bob@idp.example" });
    const me = obj((await bob("GET", "/api/user")).body);
    expect(me.id).not.toBe(firstUserId);
    expect((await bob("GET", `/api/projects/${projectId}`)).status).toBe(404);
    expect((await bob("PATCH", `/api/projects/${projectId}`, { name: "mine now" })).status).toBe(404);
    expect((await bob("DELETE", `/api/projects/${projectId}`)).status).toBe(404);
    expect(obj((await bob("GET", "/api/projects")).body).items).toEqual([]);
  });

  test("an email claim never takes over the local account with that email", async () => {
    const local = await testUser(deps, "victim@example.com");
    const victim = apiClient(deps, local.token);
    const site = { name: "Victim", subDomain: `victim-${crypto.randomUUID().slice(0, 8)}` };
    const project = obj((await victim("POST", "/api/projects", site)).body);
    const mallory = await as("mallory-sub", { email: "victim@example.com" });
    const me = obj((await mallory("GET", "/api/user")).body);
    expect(me.id).not.toBe(local.user.id);
    expect(me.email).not.toBe("victim@example.com");
    expect((await mallory("GET", `/api/projects/${project.id}`)).status).toBe(404);
  });

  test("an expired token is refused", async () => {
    expectUnauthorized(
      await (await as("alice-sub", { exp: now() - 600, iat: now() - 900 }))("GET", "/api/user"),
      "invalid token: expired",
    );
  });

  test("a token for another audience is refused", async () => {
    const res = await (await as("alice-sub", { aud: "someone-else" }))("GET", "/api/projects");
    expectUnauthorized(res, "invalid token: aud claim rejected");
  });

  test("an unsigned alg=none token is refused", async () => {
    const payload = { iss: issuer, aud: "minivercel", sub: "alice-sub", exp: now() + 300 };
    const unsigned = `${b64({ alg: "none", typ: "JWT" })}.${b64(payload)}.`;
    const res = await apiClient(deps, unsigned)("POST", "/api/projects", { name: "forged" });
    expectUnauthorized(res, "invalid token: algorithm not allowed");
  });

  test("a token signed by another key or from another issuer is refused", async () => {
    const forged = await token("alice-sub", {}, otherKeys.privateKey);
    expectUnauthorized(await apiClient(deps, forged)("GET", "/api/user"), "invalid token: bad signature");
    const foreign = await token("alice-sub", { iss: "https://evil.example" });
    expectUnauthorized(await apiClient(deps, foreign)("GET", "/api/user"), "invalid token: unknown issuer");
  });

  test("refused tokens changed nothing", async () => {
    const alice = await as("alice-sub");
    const list = obj((await alice("GET", "/api/projects")).body).items as { name: string }[];
    expect(list.map((p) => p.name)).toEqual(["From OIDC"]);
  });
});

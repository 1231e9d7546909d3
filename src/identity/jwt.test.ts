// Identity step: external JWT verification against a real local JWKS server.
import { afterAll, describe, expect, test } from "bun:test";
import { exportJWK, exportSPKI, generateKeyPair, type JWK, type JWTPayload, SignJWT } from "jose";
import { supabaseIssuer } from "../config/config.ts";
import { AppError } from "../errors.ts";
import { createJwtVerifier, looksLikeJwt } from "./jwt.ts";

const rsa = await generateKeyPair("RS256");
const ec = await generateKeyPair("ES256");
const next = await generateKeyPair("RS256");
const stranger = await generateKeyPair("RS256");
const publicJwk = async (key: CryptoKey, kid: string, alg: string): Promise<JWK> => ({
  ...(await exportJWK(key)),
  kid,
  alg,
});
const rsaJwk = await publicJwk(rsa.publicKey, "rsa-1", "RS256");
const ecJwk = await publicJwk(ec.publicKey, "ec-1", "ES256");
const nextJwk = await publicJwk(next.publicKey, "rsa-2", "RS256");

// The served key set is mutable so a test can rotate keys under a running verifier.
let served: JWK[] = [rsaJwk, ecJwk];
let fetches = 0;
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch(req) {
    if (new URL(req.url).pathname !== "/.well-known/jwks.json")
      return new Response("not found", { status: 404 });
    fetches++;
    return Response.json({ keys: served });
  },
});
afterAll(() => server.stop(true));

const issuer = `http://127.0.0.1:${server.port}`;
const config = { issuer, jwksUrl: `${issuer}/.well-known/jwks.json`, audience: "minivercel" };
const verifier = (cooldownMs = 20) => createJwtVerifier([config], { cooldownMs });
const now = () => Math.floor(Date.now() / 1000);

/** Signs a token whose claims default to a valid one; `claims` overrides (undefined drops a claim). */
function sign(key: CryptoKey | Uint8Array, kid: string, alg = "RS256", claims: JWTPayload = {}) {
  const payload = { iss: issuer, aud: "minivercel", sub: "user-1", exp: now() + 300, ...claims };
  return new SignJWT(payload).setProtectedHeader({ alg, kid }).sign(key);
}

/** Asserts the verifier refuses with a 401 carrying exactly this safe message. */
async function refused(promise: Promise<unknown>, message: string) {
  const err = await promise.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(AppError);
  expect(err).toMatchObject({ status: 401, code: "unauthorized", message });
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");

describe("createJwtVerifier", () => {
  test("accepts valid RS256 and ES256 tokens", async () => {
    const v = verifier();
    const rsToken = await sign(rsa.privateKey, "rsa-1", "RS256", { email: "ada@example.com" });
    expect(await v.verify(rsToken)).toEqual({ issuer, subject: "user-1", email: "ada@example.com" });
    const esToken = await sign(ec.privateKey, "ec-1", "ES256", { sub: "user-2", email: 42 });
    expect(await v.verify(esToken)).toEqual({ issuer, subject: "user-2", email: null });
  });

  test("refuses expired tokens, beyond a small clock tolerance", async () => {
    const v = verifier();
    await refused(
      v.verify(await sign(rsa.privateKey, "rsa-1", "RS256", { exp: now() - 120 })),
      "invalid token: expired",
    );
    expect(await v.verify(await sign(rsa.privateKey, "rsa-1", "RS256", { exp: now() - 10 }))).toBeTruthy();
  });

  test("refuses unknown issuers and wrong audiences", async () => {
    const foreign = await sign(rsa.privateKey, "rsa-1", "RS256", { iss: "https://evil.example" });
    await refused(verifier().verify(foreign), "invalid token: unknown issuer");
    const wrongAud = await sign(rsa.privateKey, "rsa-1", "RS256", { aud: "someone-else" });
    await refused(verifier().verify(wrongAud), "invalid token: aud claim rejected");
  });

  test("refuses a missing sub or exp", async () => {
    const noSub = await sign(rsa.privateKey, "rsa-1", "RS256", { sub: undefined });
    await refused(verifier().verify(noSub), "invalid token: sub claim missing");
    const noExp = await sign(rsa.privateKey, "rsa-1", "RS256", { exp: undefined });
    await refused(verifier().verify(noExp), "invalid token: exp claim missing");
  });

  test("refuses alg none and HS256 signed with the public key's bytes", async () => {
    const payload = { iss: issuer, aud: "minivercel", sub: "user-1", exp: now() + 300 };
    const unsigned = `${b64({ alg: "none", typ: "JWT" })}.${b64(payload)}.`;
    await refused(verifier().verify(unsigned), "invalid token: algorithm not allowed");
    // The classic confusion attack: a verifier that trusts `alg` would HMAC-check with the public key.
    for (const secret of [await exportSPKI(rsa.publicKey), JSON.stringify(rsaJwk)]) {
      const forged = await sign(new TextEncoder().encode(secret), "rsa-1", "HS256");
      await refused(verifier().verify(forged), "invalid token: algorithm not allowed");
    }
  });

  test("refuses an unknown kid and a known kid signed by another key", async () => {
    await refused(
      verifier().verify(await sign(stranger.privateKey, "ghost")),
      "invalid token: unknown signing key",
    );
    await refused(
      verifier().verify(await sign(stranger.privateKey, "rsa-1")),
      "invalid token: bad signature",
    );
  });

  test("picks up a rotated key only after the cooldown", async () => {
    const slow = verifier(60_000);
    const fast = verifier(20);
    await slow.verify(await sign(rsa.privateKey, "rsa-1"));
    await fast.verify(await sign(rsa.privateKey, "rsa-1"));
    served = [nextJwk];
    const rotated = await sign(next.privateKey, "rsa-2");
    try {
      // Within the cooldown the cached set is trusted: no refetch, so the new kid is still unknown.
      const before = fetches;
      await refused(slow.verify(rotated), "invalid token: unknown signing key");
      expect(fetches).toBe(before);
      await Bun.sleep(40);
      expect(await fast.verify(rotated)).toMatchObject({ subject: "user-1" });
      expect(fetches).toBe(before + 1);
    } finally {
      served = [rsaJwk, ecJwk];
    }
  });

  test("reports unreachable issuer keys as a 401", async () => {
    const down = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
    const jwksUrl = `http://127.0.0.1:${down.port}/.well-known/jwks.json`;
    await down.stop(true);
    const v = createJwtVerifier([{ ...config, jwksUrl }]);
    await refused(v.verify(await sign(rsa.privateKey, "rsa-1")), "invalid token: issuer keys unavailable");
  });
});

test("supabaseIssuer derives the issuer, JWKS URL and audience", () => {
  expect(supabaseIssuer("https://abc.supabase.co/")).toEqual({
    issuer: "https://abc.supabase.co/auth/v1",
    jwksUrl: "https://abc.supabase.co/auth/v1/.well-known/jwks.json",
    audience: "authenticated",
  });
  expect(supabaseIssuer("https://abc.supabase.co", "custom").audience).toBe("custom");
});

test("looksLikeJwt tells JWTs from API tokens", () => {
  expect(looksLikeJwt("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln")).toBe(true);
  expect(looksLikeJwt("mv_0123456789abcdef")).toBe(false);
  expect(looksLikeJwt("a.b")).toBe(false);
});

// Identity step: verify external JWTs (e.g. Supabase sessions) against each issuer's published JWKS.

import { createRemoteJWKSet, decodeJwt, errors, type JWTVerifyGetKey, jwtVerify } from "jose";
import type { JwtIssuer } from "../config/config.ts";
import { AppError, unauthorized } from "../errors.ts";

/** Who a verified external token says the caller is. */
export interface ExternalIdentity {
  issuer: string;
  subject: string;
  email: string | null;
}

/** Verifies a bearer JWT; throws `unauthorized` (401) on any failure. */
export interface JwtVerifier {
  verify(token: string): Promise<ExternalIdentity>;
}

// Asymmetric only: refuses `none` and HS* (the "public key used as an HMAC secret" confusion attack).
const ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];
const CLOCK_TOLERANCE_S = 30;
const KEYS_UNAVAILABLE = "invalid token: issuer keys unavailable";

export function createJwtVerifier(
  issuers: JwtIssuer[],
  opts: { cooldownMs?: number; cacheMaxAgeMs?: number; fetchTimeoutMs?: number } = {},
): JwtVerifier {
  // URLs are parsed up front so a bad config fails at startup, not on the first request.
  const byIssuer = new Map(
    issuers.map((config) => [config.issuer, { config, jwksUrl: new URL(config.jwksUrl) }]),
  );
  const keySets = new Map<string, JWTVerifyGetKey>();

  // One remote key set per issuer for the verifier's life, so jose's key cache and refetch-on-unknown-kid work.
  const keysFor = (issuer: string, jwksUrl: URL): JWTVerifyGetKey => {
    const cached = keySets.get(issuer);
    if (cached) return cached;
    const remote = createRemoteJWKSet(jwksUrl, {
      cooldownDuration: opts.cooldownMs,
      cacheMaxAge: opts.cacheMaxAgeMs,
      timeoutDuration: opts.fetchTimeoutMs,
    });
    // Anything but "no such key" here is a fetch/parse failure of the issuer's JWKS, not a bad token.
    const keys: JWTVerifyGetKey = (header, token) =>
      remote(header, token).catch((err: unknown) => {
        const keySelection =
          err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys;
        throw keySelection ? err : unauthorized(KEYS_UNAVAILABLE);
      });
    keySets.set(issuer, keys);
    return keys;
  };

  return {
    async verify(token) {
      try {
        // The unverified `iss` only picks which keys to check against; jwtVerify re-checks it.
        const claimed = decodeJwt(token).iss;
        const entry = typeof claimed === "string" ? byIssuer.get(claimed) : undefined;
        if (!entry) throw unauthorized("invalid token: unknown issuer");
        const { config } = entry;
        const { payload } = await jwtVerify(token, keysFor(config.issuer, entry.jwksUrl), {
          issuer: config.issuer,
          audience: config.audience,
          algorithms: ALGORITHMS,
          clockTolerance: CLOCK_TOLERANCE_S,
          requiredClaims: ["exp", "sub"],
        });
        if (typeof payload.sub !== "string" || payload.sub === "")
          throw unauthorized("invalid token: sub claim missing");
        const email = typeof payload.email === "string" ? payload.email : null;
        return { issuer: config.issuer, subject: payload.sub, email };
      } catch (err) {
        throw refusal(err);
      }
    },
  };
}

/** Maps any verification failure to a short 401 that names the check, never internals or key material. */
function refusal(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof errors.JWTExpired) return unauthorized("invalid token: expired");
  if (err instanceof errors.JWTClaimValidationFailed) {
    return unauthorized(
      `invalid token: ${err.claim} claim ${err.reason === "missing" ? "missing" : "rejected"}`,
    );
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return unauthorized("invalid token: algorithm not allowed");
  if (err instanceof errors.JWKSNoMatchingKey) return unauthorized("invalid token: unknown signing key");
  if (err instanceof errors.JWSSignatureVerificationFailed)
    return unauthorized("invalid token: bad signature");
  return unauthorized("invalid token: malformed");
}

/** Cheap check: does this bearer string look like a JWT (three base64url segments)? API tokens look like `mv_...`. */
export function looksLikeJwt(token: string): boolean {
  // The signature segment may be empty (`alg: none`): still route it here so it is refused as a JWT.
  return /^[\w-]+\.[\w-]+\.[\w-]*$/.test(token);
}

// Deployment protection, the signed values: the one-time token the dashboard hands a deployment host after a
// signed-in member's redirect, the access cookie a proxy sets on that host, and the per-form token of a proxy's
// password form. All are HMAC-signed with a key derived from the platform's secret key, carry an expiry, and
// name the one host they are good for.

import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * How access was granted: as an account (its id), with the project's password, with a bypass token (its id), or to
 * the platform's own preview capture of one deployment (a few minutes, sent only by the capture's relay).
 */
export type Grant =
  | { kind: "member"; userId: string }
  | { kind: "password" }
  | { kind: "bypass"; tokenId: string }
  | { kind: "preview"; deploymentId: string };

export type Signed =
  /** Dashboard -> proxy, once: `user` may view `project`; go to `path` on `host` afterwards. */
  | { type: "handoff"; host: string; project: string; user: string; path: string; nonce: string; exp: number }
  /** The access cookie's value: `grant` opens `project` on `host` until `exp`. `pw` ties it to one password. */
  | { type: "access"; host: string; project: string; grant: Grant; pw?: string; exp: number }
  /** A password form: good for a post to `host` until `exp`. */
  | { type: "form"; host: string; nonce: string; exp: number };

export interface AccessTokens {
  sign(value: Signed): string;
  /** The value, when it is ours, unexpired and of `type`; else null. */
  verify<T extends Signed["type"]>(token: string, type: T, now?: number): Extract<Signed, { type: T }> | null;
  /** A short fingerprint of a password hash: changing the password ends the cookies the old one gave. */
  fingerprint(passwordHash: string): string;
}

const MAX_TOKEN_CHARS = 4096;

export function createAccessTokens(secretKey: Uint8Array): AccessTokens {
  // A key of its own (domain separation): nothing else signed with the secret key can pass for one of these.
  const key = createHmac("sha256", secretKey).update("minivercel deployment protection v1").digest();
  const mac = (payload: string) => createHmac("sha256", key).update(payload).digest();
  return {
    sign(value) {
      const payload = Buffer.from(JSON.stringify(value)).toString("base64url");
      return `${payload}.${mac(payload).toString("base64url")}`;
    },
    verify(token, type, now = Date.now()) {
      if (token.length > MAX_TOKEN_CHARS) return null;
      const dot = token.indexOf(".");
      if (dot < 0) return null;
      const payload = token.slice(0, dot);
      const given = Buffer.from(token.slice(dot + 1), "base64url");
      const expected = mac(payload);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
      let value: unknown;
      try {
        value = JSON.parse(Buffer.from(payload, "base64url").toString());
      } catch {
        return null;
      }
      if (typeof value !== "object" || value === null) return null;
      const signed = value as Signed;
      if (signed.type !== type || typeof signed.exp !== "number" || signed.exp * 1000 <= now) return null;
      return signed as Extract<Signed, { type: typeof type }>;
    },
    fingerprint(passwordHash) {
      return createHmac("sha256", key).update(`pw:${passwordHash}`).digest("base64url").slice(0, 16);
    },
  };
}

// Build tokens: what a remote builder holds instead of platform credentials. Good for one deployment only.

import { createHmac, timingSafeEqual } from "node:crypto";

export interface BuildTokens {
  issue(deploymentId: string): string;
  /** The deployment a token speaks for, or null when it is not one we issued. */
  verify(token: string): string | null;
  /**
   * A token that lets a remote builder fetch its own deployment's push repository over HTTP (src/git), until
   * `expiresAt` (ms since the epoch): read-only, one deployment, short-lived, and useless on the build API.
   */
  issueFetch(deploymentId: string, expiresAt: number): string;
  /** The deployment a fetch token speaks for at `now`, or null when it is not ours or has expired. */
  verifyFetch(token: string, now?: number): string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const equal = (given: string, expected: Buffer) => {
  const bytes = Buffer.from(given, "base64url");
  return bytes.length === expected.length && timingSafeEqual(bytes, expected);
};

export function createBuildTokens(secretKey: Uint8Array): BuildTokens {
  // Keys of their own (domain separation), so a build token can never double as anything else, nor a fetch
  // token as a build token.
  const key = createHmac("sha256", secretKey).update("minivercel build tokens v1").digest();
  const fetchKey = createHmac("sha256", secretKey).update("minivercel repository fetch tokens v1").digest();
  const mac = (deploymentId: string) => createHmac("sha256", key).update(deploymentId).digest();
  const fetchMac = (deploymentId: string, expires: string) =>
    createHmac("sha256", fetchKey).update(`${deploymentId}.${expires}`).digest();
  return {
    issue(deploymentId) {
      return `bt_${deploymentId}.${mac(deploymentId).toString("base64url")}`;
    },
    verify(token) {
      const match = /^bt_([0-9a-f-]{36})\.([A-Za-z0-9_-]{43})$/.exec(token);
      const id = match?.[1];
      const sig = match?.[2];
      if (!id || !sig || !UUID.test(id)) return null;
      return equal(sig, mac(id)) ? id : null;
    },
    issueFetch(deploymentId, expiresAt) {
      const expires = String(Math.ceil(expiresAt / 1000));
      return `gt_${deploymentId}.${expires}.${fetchMac(deploymentId, expires).toString("base64url")}`;
    },
    verifyFetch(token, now = Date.now()) {
      const match = /^gt_([0-9a-f-]{36})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
      const [, id, expires, sig] = match ?? [];
      if (!id || !expires || !sig || !UUID.test(id)) return null;
      if (!equal(sig, fetchMac(id, expires))) return null;
      return Number(expires) * 1000 > now ? id : null;
    },
  };
}

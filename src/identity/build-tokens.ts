// Build tokens: what a remote builder holds instead of platform credentials. Good for one deployment only.

import { createHmac, timingSafeEqual } from "node:crypto";

export interface BuildTokens {
  issue(deploymentId: string): string;
  /** The deployment a token speaks for, or null when it is not one we issued. */
  verify(token: string): string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function createBuildTokens(secretKey: Uint8Array): BuildTokens {
  // A key of its own (domain separation), so a build token can never double as anything else.
  const key = createHmac("sha256", secretKey).update("minivercel build tokens v1").digest();
  const mac = (deploymentId: string) => createHmac("sha256", key).update(deploymentId).digest();
  return {
    issue(deploymentId) {
      return `bt_${deploymentId}.${mac(deploymentId).toString("base64url")}`;
    },
    verify(token) {
      const match = /^bt_([0-9a-f-]{36})\.([A-Za-z0-9_-]{43})$/.exec(token);
      const id = match?.[1];
      const sig = match?.[2];
      if (!id || !sig || !UUID.test(id)) return null;
      const given = Buffer.from(sig, "base64url");
      const expected = mac(id);
      return given.length === expected.length && timingSafeEqual(given, expected) ? id : null;
    },
  };
}

// Functions nodes: what proves that a call to a node, or a node's announcement on the bus, comes from a process
// of this installation. An HMAC-SHA256 under a key of its own, derived from MINIVERCEL_SECRET_KEY.

import { createHmac, timingSafeEqual } from "node:crypto";

export interface NodeAuth {
  /** The signature of `data` (base64url, 43 characters). */
  sign(data: Uint8Array | string): string;
  /** True when `signature` is this installation's signature of `data`; compared in constant time. */
  verify(data: Uint8Array | string, signature: string): boolean;
}

const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;

export function createNodeAuth(secretKey: Uint8Array): NodeAuth {
  // A key of its own (domain separation): a node signature never doubles as a build token or a session.
  const key = createHmac("sha256", secretKey).update("minivercel functions nodes v1").digest();
  const mac = (data: Uint8Array | string) => createHmac("sha256", key).update(data).digest();
  return {
    sign: (data) => mac(data).toString("base64url"),
    verify(data, signature) {
      if (!SIGNATURE.test(signature)) return false;
      const given = Buffer.from(signature, "base64url");
      const expected = mac(data);
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}

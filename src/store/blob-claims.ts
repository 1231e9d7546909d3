// Scoped uploads, store port: which blobs each scope (today an account) has proved to hold. Blobs are stored
// once for everyone (src/store/artifacts.ts); a claim is what lets a scope learn of a blob or name it in a
// deployment, so no account can probe for, or deploy, another account's files by their hash.

export interface BlobClaims {
  /** Records that `scopeId` holds these blobs (it uploaded their bytes, or its build did); a claim again is renewed. */
  add(scopeId: string, hashes: string[]): Promise<void>;
  /** Those of `hashes` that `scopeId` has not claimed, in the order given, without repeats. */
  unclaimed(scopeId: string, hashes: string[]): Promise<string[]>;
  /**
   * Forgets every scope's claim on these blobs made before `claimedBefore` (the blobs were deleted; a claim
   * made since then came with a fresh upload of the bytes and stays).
   */
  forget(hashes: string[], claimedBefore: Date): Promise<void>;
}

/** Rows per statement: well under sqlite's and Postgres' bound-parameter limits. */
export const CLAIM_CHUNK = 500;

// Store port for automatic HTTPS (src/tls/): certificates, the ACME account key, pending HTTP-01 answers and
// per-name issuance leases, shared by every proxy process through the store.

/** A certificate as stored: PEM chain (leaf first) and its private key sealed with the platform key. */
export interface StoredCertificate {
  /** The host name it is for, or `*.<domain>` for a wildcard. */
  name: string;
  certPem: string;
  keySealed: string;
  notAfter: string;
  /** Changes on every store of this name; processes reload a certificate when it differs. */
  updatedAt: string;
}

export type CertificateSummary = Pick<StoredCertificate, "name" | "notAfter" | "updatedAt">;

export interface Certificates {
  get(name: string): Promise<StoredCertificate | null>;
  /** Every stored certificate, without keys: what the proxies poll to pick up others' issuance. */
  list(): Promise<CertificateSummary[]>;
  /** Stores (or replaces) the certificate of `name`; `updatedAt` is set by the store. */
  put(cert: Omit<StoredCertificate, "updatedAt">): Promise<void>;
  /**
   * Deletes the certificate of `name` if it expired by `now` (notAfter <= now); true if a row went. A renewal
   * stored meanwhile by another process has a later notAfter and is kept.
   */
  removeExpired(name: string, now: string): Promise<boolean>;
  /**
   * Takes the issuance lease of `name` for `holder` until `until`, if it is free, expired at `now`, or already
   * `holder`'s: one atomic check-and-set, so of several processes only one orders a name at a time.
   */
  lease(name: string, holder: string, until: string, now: string): Promise<boolean>;
  /** Gives the lease back early (issued), or keeps others off until `until` (failed: back off). */
  release(name: string, holder: string, until?: string): Promise<void>;
  /** The key authorization to answer at /.well-known/acme-challenge/<token>, while the challenge is pending. */
  challenge(token: string, now: string): Promise<string | null>;
  putChallenge(token: string, keyAuthorization: string, expiresAt: string): Promise<void>;
  removeChallenge(token: string): Promise<void>;
  /** The sealed ACME account key for a CA's directory, or null before one was made. */
  accountKey(directoryUrl: string): Promise<string | null>;
  /** Stores `sealed` unless the directory already has a key; returns the one stored (first writer wins). */
  initAccountKey(directoryUrl: string, sealed: string): Promise<string>;
}

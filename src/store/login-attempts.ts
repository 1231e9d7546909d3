// Limits, store port: failed sign-ins and lockouts, kept in the store so that every api process sees them.

/** Counters per key ("account:<sha256 of the email>", "ip:<address>"); the policy lives in src/identity/login-throttle.ts. */
export interface LoginAttempts {
  /**
   * Counts one failed sign-in for `key` at `at` and returns its failures so far, this one included. Failures
   * before `forgetBefore` no longer count: the count starts again at 1.
   */
  fail(key: string, at: string, forgetBefore: string): Promise<number>;
  /** Locks `key` until `until`; a lock that already lasts longer stays. */
  lock(key: string, until: string): Promise<void>;
  /** The latest lock among `keys` still in force at `now`, or null. */
  lockedUntil(keys: string[], now: string): Promise<string | null>;
  /** Forgets `key`'s failures and lock (after a successful sign-in). */
  reset(key: string): Promise<void>;
  /** Deletes keys with no failure since `before` and no lock in force at `now`; returns how many went. */
  prune(before: string, now: string): Promise<number>;
}

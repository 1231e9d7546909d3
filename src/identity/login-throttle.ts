// Limits, step 2: sign-in brute force. Failed sign-ins per email and per address earn lockouts that double
// with every further failure; counters live in the store, so every api process enforces the same ones.

import type { LimitsConfig } from "../config/config.ts";
import { RateLimited } from "../errors.ts";
import type { Store } from "../store/store.ts";
import { hashSecret } from "./accounts.ts";

/** The longest lockout, however many failures: long enough to make guessing hopeless, short enough to wait out. */
const MAX_LOCKOUT_SECONDS = 3600;
/** Failures older than this no longer count toward a lockout. */
const FORGET_AFTER_MS = 24 * 3600 * 1000;
/** Old counters are deleted at most this often per process. */
const PRUNE_EVERY_MS = 10 * 60 * 1000;

type Policy = Pick<LimitsConfig, "loginMaxFailures" | "loginMaxFailuresPerIp" | "loginLockoutSeconds">;

export interface LoginThrottle {
  /** Throws RateLimited (with Retry-After) while the email or the address is locked out; checked before the password. */
  check(email: string, address: string): Promise<void>;
  /** Records a failed sign-in; it may lock the email and the address out for the next attempts. */
  failed(email: string, address: string): Promise<void>;
  /** A successful sign-in forgets the account's failures (not the address's: one good login must not unlock it). */
  succeeded(email: string): Promise<void>;
}

/**
 * Keyed by the email as typed (normalized and hashed), whether or not an account has it, so replies never tell
 * which emails exist. The nth failure past the allowance locks for lockoutSeconds * 2^n, at most an hour.
 */
export function createLoginThrottle(
  store: Store,
  policy: Policy,
  now: () => number = Date.now,
): LoginThrottle {
  const accountKey = (email: string) => `account:${hashSecret(email.trim().toLowerCase())}`;
  const addressKey = (address: string) => `ip:${address}`;
  let prunedAt = 0;

  const lockoutFor = (failures: number, allowed: number): number | null => {
    if (allowed === 0 || failures < allowed) return null;
    return Math.min(MAX_LOCKOUT_SECONDS, policy.loginLockoutSeconds * 2 ** Math.min(failures - allowed, 20));
  };

  const count = async (key: string, allowed: number, at: number) => {
    if (allowed === 0) return;
    const failures = await store.loginAttempts.fail(
      key,
      new Date(at).toISOString(),
      new Date(at - FORGET_AFTER_MS).toISOString(),
    );
    const seconds = lockoutFor(failures, allowed);
    if (seconds !== null) await store.loginAttempts.lock(key, new Date(at + seconds * 1000).toISOString());
  };

  return {
    async check(email, address) {
      const at = now();
      const keys = [
        ...(policy.loginMaxFailures > 0 ? [accountKey(email)] : []),
        ...(policy.loginMaxFailuresPerIp > 0 ? [addressKey(address)] : []),
      ];
      const until = await store.loginAttempts.lockedUntil(keys, new Date(at).toISOString());
      if (until === null) return;
      const seconds = Math.max(1, Math.ceil((Date.parse(until) - at) / 1000));
      throw new RateLimited(`too many failed sign-ins: try again in ${describe(seconds)}`, seconds);
    },
    async failed(email, address) {
      const at = now();
      await count(accountKey(email), policy.loginMaxFailures, at);
      await count(addressKey(address), policy.loginMaxFailuresPerIp, at);
      if (at - prunedAt > PRUNE_EVERY_MS) {
        prunedAt = at;
        await store.loginAttempts.prune(
          new Date(at - FORGET_AFTER_MS).toISOString(),
          new Date(at).toISOString(),
        );
      }
    },
    async succeeded(email) {
      await store.loginAttempts.reset(accountKey(email));
    },
  };
}

function describe(seconds: number): string {
  if (seconds < 120) return `${seconds} seconds`;
  return `${Math.ceil(seconds / 60)} minutes`;
}

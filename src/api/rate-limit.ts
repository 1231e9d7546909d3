// Limits, step 1: API request budgets. Token buckets per client address before authentication and per user after
// it, in this process (one api process: the embedded setup) or in the store, shared by every api process (on
// PostgreSQL); a request over budget gets 429 with Retry-After.

import { Elysia } from "elysia";
import type { LimitsConfig } from "../config/config.ts";
import { RateLimited } from "../errors.ts";
import type { Authenticator } from "../identity/authenticate.ts";
import { clientAddress, type PeerAddress } from "../identity/client-address.ts";
import type { RateBuckets } from "../store/rate-buckets.ts";

/** What a request costs against: reads and writes have their own budgets, file uploads a (much larger) one. */
export type RequestClass = "read" | "write" | "upload";

export interface Verdict {
  ok: boolean;
  /** Requests left in the bucket after this one. */
  remaining: number;
  /** Seconds until one more request fits (0 when `ok`). */
  retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** One budget: `perMinute` requests a minute per key, with a minute's burst. */
export interface Budget {
  readonly perMinute: number;
  take(key: string): Verdict | Promise<Verdict>;
}

function verdictOf(ok: boolean, tokens: number, perMinute: number): Verdict {
  if (ok) return { ok, remaining: Math.floor(tokens), retryAfterSeconds: 0 };
  const ratePerMs = perMinute / 60_000;
  return { ok, remaining: 0, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / ratePerMs / 1000)) };
}

/** How often a process prunes the shared buckets idle for a minute (full again, the same as none). */
const PRUNE_EVERY_MS = 5 * 60_000;

/**
 * The same token buckets in the store (src/store/rate-buckets.ts), so that a budget holds across every api
 * process: each take is one atomic statement. `name` keeps the budgets of one key apart.
 */
export class StoreBuckets implements Budget {
  private prunedAt: number;

  constructor(
    readonly perMinute: number,
    private readonly name: string,
    private readonly store: RateBuckets,
    private readonly now: () => number = Date.now,
  ) {
    this.prunedAt = now();
  }

  async take(key: string): Promise<Verdict> {
    const at = this.now();
    if (at - this.prunedAt > PRUNE_EVERY_MS) {
      this.prunedAt = at;
      // Housekeeping only: a failed prune costs nothing but rows, and the next one retries.
      await this.store.prune(at - 60_000).catch(() => 0);
    }
    const { ok, tokens } = await this.store.take(`${this.name}:${key}`, this.perMinute, at);
    return verdictOf(ok, tokens, this.perMinute);
  }
}

/**
 * Token buckets holding up to `perMinute` requests and refilling at `perMinute` a minute: a burst of a minute's
 * budget, then a steady rate. Memory is bounded: past `maxKeys` the least recently used bucket goes (a bucket
 * that comes back starts full, so eviction only ever forgives).
 */
export class TokenBuckets implements Budget {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly perMinute: number,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 50_000,
  ) {}

  take(key: string): Verdict {
    const now = this.now();
    const ratePerMs = this.perMinute / 60_000;
    const found = this.buckets.get(key);
    const tokens = found
      ? Math.min(this.perMinute, found.tokens + (now - found.at) * ratePerMs)
      : this.perMinute;
    // Re-inserting keeps the Map in least-recently-used order.
    this.buckets.delete(key);
    if (tokens < 1) {
      this.buckets.set(key, { tokens, at: now });
      return verdictOf(false, tokens, this.perMinute);
    }
    this.buckets.set(key, { tokens: tokens - 1, at: now });
    for (const oldest of this.buckets.keys()) {
      if (this.buckets.size <= this.maxKeys) break;
      this.buckets.delete(oldest);
    }
    return verdictOf(true, tokens - 1, this.perMinute);
  }

  /** Buckets held now (for tests of the memory bound). */
  get size(): number {
    return this.buckets.size;
  }
}

const UPLOADS = [/^\/api\/files\/[^/]+$/];
/** The build API is authenticated per deployment and used by builders, which must never fail on a budget. */
const EXEMPT = [/^\/api\/builds\//, /^\/api\/health$/];

/** The budget a request draws on, or null when it is exempt. */
export function classify(method: string, pathname: string): RequestClass | null {
  if (EXEMPT.some((r) => r.test(pathname))) return null;
  // PUT /api/files/:hash and POST /api/files/missing: a deploy sends one per new file.
  if (UPLOADS.some((r) => r.test(pathname))) return "upload";
  return method === "GET" || method === "HEAD" || method === "OPTIONS" ? "read" : "write";
}

export interface RateLimitOptions {
  /** The socket address of a request (roles.ts passes Bun's server.requestIP). */
  peer?: PeerAddress | undefined;
  /** Clock for the buckets (tests move it instead of waiting). */
  now?: (() => number) | undefined;
  /** Buckets in the store, shared by every api process; without it, each process counts for itself. */
  shared?: RateBuckets | undefined;
}

function refuse(buckets: Budget, verdict: Verdict, who: string): RateLimited {
  return new RateLimited(
    `too many requests ${who}: at most ${buckets.perMinute} a minute; retry in ${verdict.retryAfterSeconds} s`,
    verdict.retryAfterSeconds,
    buckets.perMinute,
  );
}

/** Headers of a 429: Retry-After, plus the RateLimit-* fields (draft-ietf-httpapi-ratelimit-headers). */
export function rateLimitHeaders(error: RateLimited): Record<string, string> {
  const seconds = String(error.retryAfterSeconds);
  return {
    "retry-after": seconds,
    ...(error.limit !== null && {
      "ratelimit-limit": String(error.limit),
      "ratelimit-remaining": "0",
      "ratelimit-reset": seconds,
    }),
  };
}

/**
 * The API's limiter: `byAddress` is an Elysia plugin that spends the client address's budget before anything
 * else runs; `authenticator` wraps the request authenticator so that each identified user spends their own.
 */
export function createRateLimiter(
  limits: Pick<
    LimitsConfig,
    "ipPerMinute" | "userReadsPerMinute" | "userWritesPerMinute" | "uploadsPerMinute" | "trustProxyHops"
  >,
  options: RateLimitOptions = {},
) {
  const now = options.now ?? Date.now;
  const { shared } = options;
  /** Null when the budget is 0 (disabled). */
  const bucketsOf = (perMinute: number, name: string): Budget | null =>
    perMinute <= 0
      ? null
      : shared
        ? new StoreBuckets(perMinute, name, shared, now)
        : new TokenBuckets(perMinute, now);
  // Per address, reads and writes share one budget: before authentication there is no telling who is who.
  const general = bucketsOf(limits.ipPerMinute, "ip");
  const perAddress: Record<RequestClass, Budget | null> = {
    read: general,
    write: general,
    upload: bucketsOf(limits.uploadsPerMinute, "ip-upload"),
  };
  const perUser: Record<RequestClass, Budget | null> = {
    read: bucketsOf(limits.userReadsPerMinute, "user-read"),
    write: bucketsOf(limits.userWritesPerMinute, "user-write"),
    upload: bucketsOf(limits.uploadsPerMinute, "user-upload"),
  };
  const classOf = (request: Request) => classify(request.method, new URL(request.url).pathname);

  return {
    byAddress: () =>
      new Elysia().onRequest(async ({ request }) => {
        const cls = classOf(request);
        const buckets = cls && perAddress[cls];
        if (!buckets) return;
        const address = clientAddress(request, options.peer, limits.trustProxyHops);
        const verdict = await buckets.take(address);
        if (!verdict.ok) throw refuse(buckets, verdict, "from this address");
      }),
    authenticator: (auth: Authenticator): Authenticator => ({
      async identify(request) {
        const principal = await auth.identify(request);
        const cls = classOf(request);
        const buckets = principal && cls && perUser[cls];
        if (principal && buckets) {
          const verdict = await buckets.take(principal.user.id);
          if (!verdict.ok) throw refuse(buckets, verdict, "for this account");
        }
        return principal;
      },
    }),
  };
}

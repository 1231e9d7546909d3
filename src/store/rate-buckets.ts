// Limits, store port: token buckets of the API's request budgets, kept in the store so that a budget holds
// across every api process (src/api/rate-limit.ts decides which requests draw on which budget).

export interface RateBuckets {
  /**
   * Takes one request from `key`'s bucket, which holds up to `perMinute` and refills at `perMinute` a minute
   * (a missing bucket is full), at `now` (ms since the epoch). `ok` is whether it fit; `tokens` is what is left.
   * One atomic statement: concurrent takes from several processes never overspend.
   */
  take(key: string, perMinute: number, now: number): Promise<{ ok: boolean; tokens: number }>;
  /** Deletes buckets untouched since `before` (ms; a minute idle refills any bucket); returns how many went. */
  prune(before: number): Promise<number>;
}

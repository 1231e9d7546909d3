// Limits, store: request budgets on bun:sqlite (for a store file shared by several processes on one machine).

import type { Database } from "bun:sqlite";
import { type Params, sqliteQueries } from "./query-sqlite.ts";
import type { RateBuckets } from "./rate-buckets.ts";

export function sqliteRateBuckets(db: Database): RateBuckets {
  const { one, run } = sqliteQueries(db);
  return {
    async take(key, perMinute, now) {
      const rate = perMinute / 60_000;
      // In an upsert's SET, the columns are the row's values before it; the refilled level is computed once.
      const refilled = "min(?3, rate_buckets.tokens + max(0, ?4 - rate_buckets.at) * ?2)";
      const row = one(
        `INSERT INTO rate_buckets (key, tokens, at, ok) VALUES (?1, ?3 - 1, ?4, 1)
         ON CONFLICT (key) DO UPDATE SET
           tokens = CASE WHEN ${refilled} >= 1 THEN ${refilled} - 1 ELSE ${refilled} END,
           ok = ${refilled} >= 1,
           at = max(rate_buckets.at, ?4)
         RETURNING tokens, ok`,
        ...([key, rate, perMinute, now] as Params),
      );
      return { ok: Boolean(row?.ok), tokens: Number(row?.tokens ?? 0) };
    },
    async prune(before) {
      return run("DELETE FROM rate_buckets WHERE at < ?", before).changes;
    },
  };
}

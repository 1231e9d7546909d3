// Limits, store: request budgets on PostgreSQL, shared by every api process.

import type postgres from "postgres";
import type { RateBuckets } from "./rate-buckets.ts";
import type { Row } from "./rows.ts";

export function postgresRateBuckets(sql: postgres.Sql): RateBuckets {
  return {
    async take(key, perMinute, now) {
      const rate = perMinute / 60_000;
      // In ON CONFLICT's SET, b.* is the row before the update: the refill is computed from it, atomically.
      const [row] = await sql<Row[]>`
        INSERT INTO rate_buckets AS b (key, tokens, at, ok)
        VALUES (${key}, ${perMinute - 1}::float8, ${now}::bigint, TRUE)
        ON CONFLICT (key) DO UPDATE SET
          tokens = CASE
            WHEN least(${perMinute}::float8, b.tokens + greatest(0, ${now}::bigint - b.at) * ${rate}::float8) >= 1
            THEN least(${perMinute}::float8, b.tokens + greatest(0, ${now}::bigint - b.at) * ${rate}::float8) - 1
            ELSE least(${perMinute}::float8, b.tokens + greatest(0, ${now}::bigint - b.at) * ${rate}::float8)
          END,
          ok = least(${perMinute}::float8, b.tokens + greatest(0, ${now}::bigint - b.at) * ${rate}::float8) >= 1,
          at = greatest(b.at, ${now}::bigint)
        RETURNING tokens, ok`;
      return { ok: Boolean(row?.ok), tokens: Number(row?.tokens ?? 0) };
    },
    async prune(before) {
      const result = await sql`DELETE FROM rate_buckets WHERE at < ${before}::bigint`;
      return result.count;
    },
  };
}

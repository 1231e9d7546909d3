// Limits, store: failed sign-ins on PostgreSQL, shared by every api process (one upsert per failure).

import type postgres from "postgres";
import type { LoginAttempts } from "./login-attempts.ts";
import type { Row } from "./rows.ts";

export function postgresLoginAttempts(sql: postgres.Sql): LoginAttempts {
  return {
    async fail(key, at, forgetBefore) {
      // The row lock of ON CONFLICT DO UPDATE serializes concurrent failures: each one counts.
      const [row] = await sql<Row[]>`
        INSERT INTO login_failures (key, failures, last_failure_at) VALUES (${key}, 1, ${at})
        ON CONFLICT (key) DO UPDATE SET
          failures = CASE WHEN login_failures.last_failure_at < ${forgetBefore} THEN 1
                          ELSE login_failures.failures + 1 END,
          last_failure_at = excluded.last_failure_at
        RETURNING failures`;
      return Number(row?.failures ?? 1);
    },
    async lock(key, until) {
      await sql`
        UPDATE login_failures SET locked_until = ${until}
        WHERE key = ${key} AND (locked_until IS NULL OR locked_until < ${until})`;
    },
    async lockedUntil(keys, now) {
      if (keys.length === 0) return null;
      const [row] = await sql<Row[]>`
        SELECT max(locked_until) AS until FROM login_failures WHERE key IN ${sql(keys)} AND locked_until > ${now}`;
      const until = row?.until;
      if (until instanceof Date) return until.toISOString();
      return typeof until === "string" ? new Date(until).toISOString() : null;
    },
    async reset(key) {
      await sql`DELETE FROM login_failures WHERE key = ${key}`;
    },
    async prune(before, now) {
      const result = await sql`
        DELETE FROM login_failures
        WHERE last_failure_at < ${before} AND (locked_until IS NULL OR locked_until <= ${now})`;
      return result.count;
    },
  };
}

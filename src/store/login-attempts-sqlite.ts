// Limits, store: failed sign-ins on bun:sqlite (timestamps are ISO-8601 text, so they compare as strings).

import type { Database } from "bun:sqlite";
import type { LoginAttempts } from "./login-attempts.ts";
import { type Params, sqliteQueries } from "./query-sqlite.ts";

export function sqliteLoginAttempts(db: Database): LoginAttempts {
  const { run } = sqliteQueries(db);
  return {
    async fail(key, at, forgetBefore) {
      // One statement: concurrent failures for one key each count (sqlite has a single writer).
      const row = db
        .query<{ failures: number }, Params>(
          `INSERT INTO login_failures (key, failures, last_failure_at) VALUES (?, 1, ?)
           ON CONFLICT (key) DO UPDATE SET
             failures = CASE WHEN login_failures.last_failure_at < ? THEN 1 ELSE login_failures.failures + 1 END,
             last_failure_at = excluded.last_failure_at
           RETURNING failures`,
        )
        .get(key, at, forgetBefore);
      return Number(row?.failures ?? 1);
    },
    async lock(key, until) {
      run(
        `UPDATE login_failures SET locked_until = ?
         WHERE key = ? AND (locked_until IS NULL OR locked_until < ?)`,
        until,
        key,
        until,
      );
    },
    async lockedUntil(keys, now) {
      if (keys.length === 0) return null;
      const row = db
        .query<{ until: string | null }, Params>(
          `SELECT max(locked_until) AS until FROM login_failures
           WHERE key IN (${keys.map(() => "?").join(", ")}) AND locked_until > ?`,
        )
        .get(...keys, now);
      return row?.until ?? null;
    },
    async reset(key) {
      run("DELETE FROM login_failures WHERE key = ?", key);
    },
    async prune(before, now) {
      const result = run(
        "DELETE FROM login_failures WHERE last_failure_at < ? AND (locked_until IS NULL OR locked_until <= ?)",
        before,
        now,
      );
      return result.changes;
    },
  };
}

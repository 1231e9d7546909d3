// The shared outbox statements on bun:sqlite (see outbox.ts): claims in one IMMEDIATE transaction; settle and
// release are single statements a use may wrap in its own transaction with what it writes beside them.

import type { Database } from "bun:sqlite";
import {
  type OutboxColumns,
  type OutboxOutcome,
  type OutboxTable,
  settledNext,
  settledStatus,
} from "./outbox.ts";
import { sqliteQueries } from "./query-sqlite.ts";
import { type Row, str } from "./rows.ts";

export function sqliteOutbox(db: Database, table: OutboxTable) {
  const { one, all, run } = sqliteQueries(db);
  const t = table.name;
  return {
    /** Claims up to `limit` due pending rows whose lease is free or expired, for `holder` until `until`. */
    claim(holder: string, now: string, until: string, limit: number): Row[] {
      return db
        .transaction(() =>
          all(
            `SELECT id FROM ${t}
             WHERE status = 'pending' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
             ORDER BY next_attempt_at, id LIMIT ?`,
            now,
            now,
            limit,
          ).flatMap((due) => {
            const row = one(
              `UPDATE ${t} SET lease_holder = ?, lease_until = ? WHERE id = ? RETURNING *`,
              holder,
              until,
              str(due, "id"),
            );
            return row ? [row] : [];
          }),
        )
        .immediate();
    },
    /**
     * Applies `outcome` to a row `holder` holds (and, given `version`, that is still at it), counts the attempt
     * and releases the lease, setting `also` beside; false, changing nothing, when not.
     */
    settle(
      id: string,
      holder: string,
      outcome: OutboxOutcome,
      now: string,
      also: OutboxColumns = {},
      version?: number,
    ): boolean {
      const extra = Object.keys(also).map((column) => `, ${column} = ?`);
      return (
        run(
          `UPDATE ${t} SET status = ?, attempts = attempts + 1, next_attempt_at = ?, lease_holder = NULL,
             lease_until = NULL${extra.join("")}
           WHERE id = ? AND lease_holder = ?${version === undefined ? "" : " AND version = ?"}`,
          settledStatus(outcome),
          settledNext(outcome, now),
          ...Object.values(also),
          id,
          holder,
          ...(version === undefined ? [] : [version]),
        ).changes > 0
      );
    },
    /** Releases the lease `holder` has on a row without counting an attempt; false when it holds none. */
    release(id: string, holder: string): boolean {
      return (
        run(
          `UPDATE ${t} SET lease_holder = NULL, lease_until = NULL WHERE id = ? AND lease_holder = ?`,
          id,
          holder,
        ).changes > 0
      );
    },
    /** Deletes finished rows dated before `before`; how many. */
    prune(before: string): number {
      return run(`DELETE FROM ${t} WHERE status <> 'pending' AND ${table.datedBy} < ?`, before).changes;
    },
  };
}

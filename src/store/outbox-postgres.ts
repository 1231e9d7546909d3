// The shared outbox statements on PostgreSQL (see outbox.ts): claims skip rows another process has locked;
// settle and release take the client or a transaction, so a use can write beside them atomically.

import type postgres from "postgres";
import {
  type OutboxColumns,
  type OutboxOutcome,
  type OutboxTable,
  settledNext,
  settledStatus,
} from "./outbox.ts";
import type { Row } from "./rows.ts";

type Client = postgres.Sql | postgres.TransactionSql;

export function postgresOutbox(sql: postgres.Sql, table: OutboxTable) {
  const t = sql(table.name);
  return {
    /** Claims up to `limit` due pending rows whose lease is free or expired, for `holder` until `until`. */
    async claim(holder: string, now: string, until: string, limit: number): Promise<Row[]> {
      return sql<Row[]>`
        WITH due AS (
          SELECT id FROM ${t}
          WHERE status = 'pending' AND next_attempt_at <= ${now} AND (lease_until IS NULL OR lease_until <= ${now})
          ORDER BY next_attempt_at, id LIMIT ${limit}
          FOR UPDATE SKIP LOCKED
        )
        UPDATE ${t} o SET lease_holder = ${holder}, lease_until = ${until}
        FROM due WHERE o.id = due.id RETURNING o.*`;
    },
    /**
     * Applies `outcome` to a row `holder` holds (and, given `version`, that is still at it), counts the attempt
     * and releases the lease, setting `also` beside; false, changing nothing, when not.
     */
    async settle(
      q: Client,
      id: string,
      holder: string,
      outcome: OutboxOutcome,
      now: string,
      also: OutboxColumns = {},
      version?: number,
    ): Promise<boolean> {
      const set = {
        status: settledStatus(outcome),
        next_attempt_at: settledNext(outcome, now),
        lease_holder: null,
        lease_until: null,
        ...also,
      };
      const updated = await q`
        UPDATE ${q(table.name)} SET ${q(set)}, attempts = attempts + 1
        WHERE id = ${id} AND lease_holder = ${holder}
          ${version === undefined ? q`` : q`AND version = ${version}`}`;
      return updated.count > 0;
    },
    /** Releases the lease `holder` has on a row without counting an attempt; false when it holds none. */
    async release(q: Client, id: string, holder: string): Promise<boolean> {
      const updated = await q`
        UPDATE ${q(table.name)} SET lease_holder = NULL, lease_until = NULL
        WHERE id = ${id} AND lease_holder = ${holder}`;
      return updated.count > 0;
    },
    /** Deletes finished rows dated before `before`; how many. */
    async prune(before: string): Promise<number> {
      return (await sql`DELETE FROM ${t} WHERE status <> 'pending' AND ${sql(table.datedBy)} < ${before}`)
        .count;
    },
  };
}

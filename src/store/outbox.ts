// The outbox both deployment notifications share (outgoing webhooks' deliveries, commit statuses and pull-request
// comments): rows due at a time, claimed under a lease by one dispatcher at a time however many run, settled by
// an attempt's outcome (delivered, retried at a time, or given up) and pruned once finished. Each use keeps its
// own table (these columns beside its payload) and its own port; outbox-sqlite.ts and outbox-postgres.ts run the
// shared statements on it, and src/worker/outbox.ts the shared delivery loop.

import { type Row, str } from "./rows.ts";

export type OutboxStatus = "pending" | "delivered" | "failed";

/** What became of an attempt: sent, to retry at a time, or given up. */
export type OutboxOutcome = { kind: "delivered" } | { kind: "retry"; at: string } | { kind: "failed" };

/**
 * An outbox table: its name and the column that dates a finished row for pruning. Fixed names of the schema,
 * never input: they are written into the statements. The table has the columns id, status, attempts,
 * next_attempt_at, lease_holder and lease_until.
 */
export interface OutboxTable {
  name: "outgoing_deliveries" | "git_reports";
  datedBy: "created_at" | "updated_at";
}

/** The row's status after `outcome`: a retry stays pending. */
export const settledStatus = (outcome: OutboxOutcome): OutboxStatus =>
  outcome.kind === "retry" ? "pending" : outcome.kind;

/** When the row is next due after `outcome` settled at `now` (only a retry is due again). */
export const settledNext = (outcome: OutboxOutcome, now: string): string =>
  outcome.kind === "retry" ? outcome.at : now;

/** The shared columns of an outbox row. */
export interface OutboxFields {
  id: string;
  status: OutboxStatus;
  /** Attempts made since it was (re)queued. */
  attempts: number;
  nextAttemptAt: string;
}

export const toOutboxFields = (row: Row): OutboxFields => ({
  id: str(row, "id"),
  status: str(row, "status") as OutboxStatus,
  attempts: Number(row.attempts),
  nextAttemptAt: str(row, "next_attempt_at"),
});

/** Columns a use sets beside the shared ones when it settles a row (e.g. the last error). */
export type OutboxColumns = Record<string, string | number | null>;

// The delivery loop both outboxes share (outgoing webhooks, commit statuses and pull-request comments; the store
// side is src/store/outbox.ts): claim what is due under a lease (one worker per row however many run), attempt
// each, settle it as delivered, retried with exponential backoff (6 attempts, waits of base, 3x, 9x...: about an
// hour with the default 30 s base) or failed, and prune finished rows older than 30 days every hour.

import type { Logger } from "../observe/log.ts";
import type { OutboxOutcome } from "../store/outbox.ts";

export const MAX_ATTEMPTS = 6;
/** Longer than an attempt can take: a dispatcher that died mid-send frees its rows after this. */
const LEASE_MS = 60_000;
const BATCH = 20;
/** Finished rows (and a delivery's attempts) are kept this long. */
export const LOG_RETENTION_MS = 30 * 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;

/** The wait before attempt `made + 1`, after `made` failed attempts. */
export const backoffMs = (baseMs: number, made: number): number => baseMs * 3 ** (made - 1);

/** What one attempt came to: `result` as the use records it; whether it arrived, or whether trying again is moot. */
export interface Attempted<R> {
  result: R;
  ok: boolean;
  /** Give up now, however many attempts are left (what it was for is gone, or the receiver refused for good). */
  final?: boolean;
  /** The receiver asked to wait at least this long (its Retry-After), when longer than the backoff. */
  retryAfterMs?: number | null;
}

/** One use of the outbox: its rows, how one is sent and how its outcome is recorded. */
export interface OutboxUse<T extends { attempts: number }, R> {
  /** Starts its log lines, e.g. "outgoing webhooks". */
  name: string;
  /** Starts its lease holders' names, e.g. "dispatcher". */
  holder: string;
  claimDue(holder: string, now: string, until: string, limit: number): Promise<T[]>;
  /** Sends `row` once, never throwing. */
  attempt(row: T): Promise<Attempted<R>>;
  /** Records the outcome and releases the lease. */
  settle(row: T, holder: string, attempted: Attempted<R>, outcome: OutboxOutcome): Promise<unknown>;
  /** The warning a failed attempt logs: its message and what identifies the row and the failure. */
  failure(row: T, result: R): [string, Record<string, unknown>];
  prune(before: string): Promise<number>;
}

export type OutboxDeps = { log: Logger; config: { outgoingHooks: { retryBaseMs: number } } };

/** The outcome of attempt number `made`: delivered, failed for good, or retried after the backoff. */
export function outcomeOf(attempted: Attempted<unknown>, made: number, retryBaseMs: number): OutboxOutcome {
  if (attempted.ok) return { kind: "delivered" };
  if (made >= MAX_ATTEMPTS || attempted.final) return { kind: "failed" };
  const waitMs = Math.max(backoffMs(retryBaseMs, made), attempted.retryAfterMs ?? 0);
  return { kind: "retry", at: new Date(Date.now() + waitMs).toISOString() };
}

/** Claims and sends what is due now; returns how many rows it tried. */
export async function dispatchOutbox<T extends { attempts: number }, R>(
  deps: OutboxDeps,
  use: OutboxUse<T, R>,
  holder: string,
): Promise<number> {
  const now = Date.now();
  const claimed = await use.claimDue(
    holder,
    new Date(now).toISOString(),
    new Date(now + LEASE_MS).toISOString(),
    BATCH,
  );
  await Promise.all(
    claimed.map(async (row) => {
      const attempted = await use.attempt(row);
      const made = row.attempts + 1;
      const outcome = outcomeOf(attempted, made, deps.config.outgoingHooks.retryBaseMs);
      await use.settle(row, holder, attempted, outcome);
      if (attempted.ok) return;
      const [message, fields] = use.failure(row, attempted.result);
      deps.log.warn(message, { ...fields, attempt: made, outcome: outcome.kind });
    }),
  );
  return claimed.length;
}

/** Polls the outbox every `pollMs` until stopped, pruning every hour; stop waits for the sends under way. */
export function startOutboxLoop<T extends { attempts: number }, R>(
  deps: OutboxDeps,
  use: OutboxUse<T, R>,
  pollMs: number,
): { stop(): Promise<void> } {
  const holder = `${use.holder}-${crypto.randomUUID()}`;
  let stopped = false;
  let wake: (() => void) | null = null;
  let pruned = 0;
  const loop = (async () => {
    while (!stopped) {
      try {
        if (Date.now() - pruned > PRUNE_EVERY_MS) {
          pruned = Date.now();
          await use.prune(new Date(pruned - LOG_RETENTION_MS).toISOString());
        }
        // A full batch: more may be due at once.
        if ((await dispatchOutbox(deps, use, holder)) >= BATCH) continue;
      } catch (error) {
        deps.log.error(`${use.name}: dispatch failed`, { error: String(error) });
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, pollMs);
      });
    }
  })();
  return {
    async stop() {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}

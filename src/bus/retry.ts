// Handler retries for every bus: a failing message is retried with backoff, then logged as dead and skipped,
// so one poison message delays its key for seconds instead of stalling it (and its partition) forever. A
// handler that fails because a backend is unreachable (Postgres or ClickHouse restarting) is not poison: its
// message waits for the backend, so an outage delays build events instead of dropping them.

import type { LogFields, Logger } from "../observe/log.ts";

export interface RetryPolicy {
  /** Calls in all, the first included. */
  attempts: number;
  /** Wait before the second call; doubled before each later one. */
  backoffMs: number;
  maxBackoffMs: number;
  /**
   * How long calls failing with an unreachable backend (see `isUnavailable`) are retried without counting
   * against `attempts`, every `maxOutageBackoffMs` at most; 0: they count like any other failure.
   */
  outageMs: number;
  maxOutageBackoffMs: number;
}

export const HANDLER_RETRY: RetryPolicy = {
  attempts: 5,
  backoffMs: 100,
  maxBackoffMs: 2_000,
  outageMs: 15 * 60_000,
  maxOutageBackoffMs: 5_000,
};

/** Error codes of a connection that could not be made or was lost (Node/Bun sockets, postgres.js, Bun fetch). */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "ConnectionRefused",
  "ConnectionClosed",
  "FailedToOpenSocket",
  // PostgreSQL: shutting down, crashed, starting up; class 08 is "connection exception".
  "57P01",
  "57P02",
  "57P03",
]);
const CONNECTION_MESSAGE =
  /ECONNREFUSED|ECONNRESET|socket hang up|connection (?:refused|closed|reset|terminated)|Unable to connect|the database system is (?:shutting down|starting up)|Timeout error/i;

/**
 * True when `error` (or an error it wraps) says a backend could not be reached or dropped the connection:
 * retrying later may succeed, unlike a refused statement or a bad message.
 */
export function isUnavailable(error: unknown): boolean {
  for (let at = error, depth = 0; at !== null && at !== undefined && depth < 6; depth++) {
    if (typeof at !== "object") return typeof at === "string" && CONNECTION_MESSAGE.test(at);
    const { code, message, name, cause } = at as {
      code?: unknown;
      message?: unknown;
      name?: unknown;
      cause?: unknown;
    };
    if (typeof code === "string" && (CONNECTION_CODES.has(code) || code.startsWith("08"))) return true;
    if (typeof name === "string" && /^KafkaJS(?:Connection|RequestTimeout)Error$/.test(name)) return true;
    if (typeof message === "string" && CONNECTION_MESSAGE.test(message)) return true;
    at = cause;
  }
  return false;
}

/** Why `retrying` stopped: the handler succeeded (null), failed for good, or was abandoned (the consumer stops). */
type Outcome = null | { error: unknown } | "abandoned";

/**
 * Calls `handle` until it succeeds or the policy is spent (its last error). An outage waits (up to
 * `policy.outageMs`) without spending attempts; `abandon` ends such a wait early (a consumer shutting down).
 */
async function retrying(
  handle: () => Promise<void>,
  policy: RetryPolicy,
  onOutage: (error: unknown) => void,
  abandon: () => boolean,
): Promise<Outcome> {
  let outageSince: number | null = null;
  let outageWaits = 0;
  for (let attempt = 1; ; ) {
    try {
      await handle();
      return null;
    } catch (error) {
      const now = Date.now();
      if (isUnavailable(error) && now - (outageSince ?? now) < policy.outageMs) {
        if (outageSince === null) {
          outageSince = now;
          onOutage(error);
        }
        if (abandon()) return "abandoned";
        await Bun.sleep(
          Math.min(policy.maxOutageBackoffMs, policy.backoffMs * 2 ** Math.min(outageWaits++, 10)),
        );
        if (abandon()) return "abandoned";
        continue;
      }
      if (attempt >= policy.attempts) return { error };
      await Bun.sleep(Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** (attempt - 1)));
      attempt++;
    }
  }
}

/** Where a handled message is named, and how a wait for an unreachable backend is ended early. */
export interface RetryContext {
  /** Names the message in log lines (topic, group, key, partition, offset); only called when one is written. */
  where: () => LogFields;
  log: Logger;
  policy?: RetryPolicy;
  /** True once the consumer is stopping: a message waiting for a backend is then left unhandled. */
  abandon?: () => boolean;
}

/**
 * Runs `handle` until it succeeds or the policy is spent; never rejects. Resolves true when the message is done
 * with (handled, or given up on with one dead-letter line), false when it was abandoned while waiting for a
 * backend (the consumer stops: it must not be marked done, its next owner reads it again).
 */
export async function handleWithRetry(handle: () => Promise<void>, context: RetryContext): Promise<boolean> {
  const { where, log, policy = HANDLER_RETRY, abandon = () => false } = context;
  const outcome = await retrying(
    handle,
    policy,
    (error) => log.warn("bus: a backend is unreachable; the message waits for it", { ...where(), error }),
    abandon,
  );
  if (outcome === "abandoned") return false;
  if (outcome) {
    log.error("bus: dead letter: handler failed, message skipped", {
      ...where(),
      attempts: policy.attempts,
      error: outcome.error,
    });
  }
  return true;
}

/**
 * The same for a batch of one key's messages, in order; never rejects. The batch is retried whole; when the
 * policy is spent, each message is handled alone under the same policy, so only a message that keeps failing
 * is dead-lettered (the ones before it run again: handlers are idempotent, delivery is at least once). False
 * when the batch was abandoned (see handleWithRetry).
 */
export async function handleBatchWithRetry<T>(
  items: T[],
  handle: (items: T[]) => Promise<void>,
  context: Omit<RetryContext, "where"> & { where: (items: T[]) => LogFields },
): Promise<boolean> {
  const { where, log, policy = HANDLER_RETRY, abandon = () => false } = context;
  const one = (batch: T[]) => ({ ...context, where: () => where(batch) });
  if (items.length <= 1) return handleWithRetry(() => handle(items), one(items));
  const outcome = await retrying(
    () => handle(items),
    policy,
    (error) =>
      log.warn("bus: a backend is unreachable; the messages wait for it", { ...where(items), error }),
    abandon,
  );
  if (outcome === "abandoned") return false;
  if (!outcome) return true;
  log.warn("bus: a batch kept failing; handling its messages one at a time", {
    ...where(items),
    messages: items.length,
    error: outcome.error,
  });
  for (const item of items) if (!(await handleWithRetry(() => handle([item]), one([item])))) return false;
  return true;
}

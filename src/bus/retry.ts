// Handler retries for every bus: a failing message is retried with backoff, then logged as dead and skipped,
// so one poison message delays its key for seconds instead of stalling it (and its partition) forever.

import type { LogFields, Logger } from "../observe/log.ts";

export interface RetryPolicy {
  /** Calls in all, the first included. */
  attempts: number;
  /** Wait before the second call; doubled before each later one. */
  backoffMs: number;
  maxBackoffMs: number;
}

export const HANDLER_RETRY: RetryPolicy = { attempts: 5, backoffMs: 100, maxBackoffMs: 2_000 };

/** Calls `handle` until it succeeds (null) or the policy is spent (its last error), waiting between calls. */
async function retrying(
  handle: () => Promise<void>,
  policy: RetryPolicy,
): Promise<{ error: unknown } | null> {
  for (let attempt = 1; ; attempt++) {
    try {
      await handle();
      return null;
    } catch (error) {
      if (attempt >= policy.attempts) return { error };
      await Bun.sleep(Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** (attempt - 1)));
    }
  }
}

/**
 * Runs `handle` until it succeeds or the policy is spent; never rejects. `where` names the message in the
 * dead-letter line (topic, group, key, partition, offset), the only trace a skipped message leaves; it is a
 * function so that the fields cost nothing unless a message dies.
 */
export async function handleWithRetry(
  handle: () => Promise<void>,
  where: () => LogFields,
  log: Logger,
  policy: RetryPolicy = HANDLER_RETRY,
): Promise<void> {
  const failed = await retrying(handle, policy);
  if (failed) {
    const { error } = failed;
    log.error("bus: dead letter: handler failed, message skipped", {
      ...where(),
      attempts: policy.attempts,
      error,
    });
  }
}

/**
 * The same for a batch of one key's messages, in order; never rejects. The batch is retried whole; when the
 * policy is spent, each message is handled alone under the same policy, so only a message that keeps failing
 * is dead-lettered (the ones before it run again: handlers are idempotent, delivery is at least once).
 */
export async function handleBatchWithRetry<T>(
  items: T[],
  handle: (items: T[]) => Promise<void>,
  where: (items: T[]) => LogFields,
  log: Logger,
  policy: RetryPolicy = HANDLER_RETRY,
): Promise<void> {
  if (items.length <= 1)
    return handleWithRetry(
      () => handle(items),
      () => where(items),
      log,
      policy,
    );
  const failed = await retrying(() => handle(items), policy);
  if (!failed) return;
  log.warn("bus: a batch kept failing; handling its messages one at a time", {
    ...where(items),
    messages: items.length,
    error: failed.error,
  });
  for (const item of items)
    await handleWithRetry(
      () => handle([item]),
      () => where([item]),
      log,
      policy,
    );
}

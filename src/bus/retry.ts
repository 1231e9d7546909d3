// Handler retries for every bus: a failing message is retried with backoff, then logged as dead and skipped,
// so one poison message delays its key for seconds instead of stalling it (and its partition) forever.

export interface RetryPolicy {
  /** Calls in all, the first included. */
  attempts: number;
  /** Wait before the second call; doubled before each later one. */
  backoffMs: number;
  maxBackoffMs: number;
}

export const HANDLER_RETRY: RetryPolicy = { attempts: 5, backoffMs: 100, maxBackoffMs: 2_000 };

/**
 * Runs `handle` until it succeeds or the policy is spent; never rejects. `where` names the message in the
 * dead-letter line (topic, key, offset), the only trace a skipped message leaves.
 */
export async function handleWithRetry(
  handle: () => Promise<void>,
  where: () => string,
  policy: RetryPolicy = HANDLER_RETRY,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await handle();
      return;
    } catch (error) {
      if (attempt >= policy.attempts) {
        console.error(`bus: dead letter: ${where()} failed ${attempt} times, skipped:`, error);
        return;
      }
      await Bun.sleep(Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** (attempt - 1)));
    }
  }
}

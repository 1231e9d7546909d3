// Retention for the stores that keep records by age (build logs on ClickHouse, runtime logs, analytics): a purge
// when the store opens, then hourly, never two at once. Every process may run it: removing what is already gone
// is harmless.

const HOURLY_MS = 60 * 60 * 1000;

/**
 * Runs `purge` now and then every `everyMs` (an hour), skipping a turn while the last one is still running; a
 * failure goes to `failed` and the next turn tries again. Returns the stop: no purge starts after it.
 */
export function purgeRegularly(
  purge: () => Promise<unknown>,
  failed: (error: unknown) => void,
  everyMs = HOURLY_MS,
): () => void {
  let purging = false;
  let stopped = false;
  const turn = () => {
    if (purging || stopped) return;
    purging = true;
    purge()
      .catch(failed)
      .finally(() => {
        purging = false;
      });
  };
  const timer = setInterval(turn, everyMs);
  timer.unref();
  turn();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

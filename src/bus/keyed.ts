// Keyed work queue: strictly in order within a key, concurrent across keys, bounded overall (the seed's worker
// pool without its reordering). A key's waiting items go to the handler together, so a chatty key costs one
// call per batch (one log INSERT for many lines) instead of one per item.

import type { Logger } from "../observe/log.ts";

export interface KeyedQueue<T> {
  push(key: string, item: T): void;
  /** Resolves when every item pushed so far has been handled. */
  drain(): Promise<void>;
  /** Items waiting or running. */
  readonly size: number;
}

export interface KeyedQueueOptions {
  /** Keys handled at once; within a key always one batch at a time, in order. */
  concurrency: number;
  /** Most items of one key handed over in one call (default 1: one at a time). */
  maxBatch?: number;
  /** Where a handler's rejection is reported; handlers are expected to retry their own failures first. */
  log: Logger;
}

/**
 * `handle` gets a key's items in push order, at most `maxBatch`, as they waited when the key's turn came;
 * the key's next batch starts only once it settles. Items pushed in the same tick are waiting by then.
 */
export function keyedQueue<T>(
  options: KeyedQueueOptions,
  handle: (items: T[], key: string) => Promise<void>,
): KeyedQueue<T> {
  const { concurrency, log } = options;
  const maxBatch = options.maxBatch ?? 1;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1)
    throw new RangeError(`keyed queue: concurrency must be a whole number >= 1, got ${concurrency}`);
  if (!Number.isSafeInteger(maxBatch) || maxBatch < 1)
    throw new RangeError(`keyed queue: maxBatch must be a whole number >= 1, got ${maxBatch}`);
  const pending = new Map<string, T[]>();
  const ready: string[] = [];
  let running = 0;
  let size = 0;
  let idle: (() => void)[] = [];
  let scheduled = false;

  const pump = () => {
    scheduled = false;
    while (running < concurrency && ready.length > 0) {
      const key = ready.shift() as string;
      const items = pending.get(key);
      if (!items || items.length === 0) continue;
      const batch = items.splice(0, maxBatch);
      running++;
      handle(batch, key)
        .catch((error: unknown) => log.error("bus: handler failed", { key, messages: batch.length, error }))
        .finally(() => {
          running--;
          size -= batch.length;
          // The key goes back to the end of the line: one busy deployment cannot starve the rest.
          if (items.length > 0) ready.push(key);
          else pending.delete(key);
          if (size === 0) {
            for (const resolve of idle) resolve();
            idle = [];
          }
          pump();
        });
    }
  };

  return {
    push(key, item) {
      size++;
      const items = pending.get(key);
      if (items) {
        items.push(item);
        // A key is either running (will requeue itself) or already in `ready`; never both.
        return;
      }
      pending.set(key, [item]);
      ready.push(key);
      // Started a microtask later: a burst pushed in one go (a fetched Kafka batch) then forms one batch.
      if (!scheduled) {
        scheduled = true;
        queueMicrotask(pump);
      }
    },
    drain() {
      return size === 0 ? Promise.resolve() : new Promise((resolve) => idle.push(resolve));
    },
    get size() {
      return size;
    },
  };
}

// Keyed work queue: strictly in order within a key, concurrent across keys, bounded overall (the seed's worker pool without its reordering).

export interface KeyedQueue<T> {
  push(key: string, item: T): void;
  /** Resolves when every item pushed so far has been handled. */
  drain(): Promise<void>;
  /** Items waiting or running. */
  readonly size: number;
}

export function keyedQueue<T>(
  concurrency: number,
  handle: (item: T, key: string) => Promise<void>,
): KeyedQueue<T> {
  const pending = new Map<string, T[]>();
  const ready: string[] = [];
  let running = 0;
  let size = 0;
  let idle: (() => void)[] = [];

  const pump = () => {
    while (running < concurrency && ready.length > 0) {
      const key = ready.shift() as string;
      const items = pending.get(key);
      const item = items?.shift();
      if (!items || item === undefined) continue;
      running++;
      handle(item, key)
        .catch((error: unknown) => console.error(`bus: handler failed for ${key}:`, error))
        .finally(() => {
          running--;
          size--;
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
      pump();
    },
    drain() {
      return size === 0 ? Promise.resolve() : new Promise((resolve) => idle.push(resolve));
    },
    get size() {
      return size;
    },
  };
}

// Bounded parallelism: hashing, uploads, blob reads and writes, at most `limit` in flight, the first failure wins.

/**
 * Runs `fn` over `items` with at most `limit` calls in flight; results keep the order of `items`. The first
 * failure stops new calls from starting and is thrown once the calls in flight have settled.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  const queue = items.entries();
  let failed = false;
  const worker = async () => {
    for (const [i, item] of queue) {
      if (failed) return;
      try {
        out[i] = await fn(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

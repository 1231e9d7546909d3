// Cutting a list into consecutive runs: of at most `size` items, or of at most a budget of some measure
// (bytes): batches for statements with a parameter limit, requests and messages with a size limit.

/** Consecutive runs of at most `size` items. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Consecutive runs whose `weigh`ts add up to at most `budget`; each holds at least one item, however heavy. */
export function chunksByWeight<T>(items: readonly T[], budget: number, weigh: (item: T) => number): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let weight = 0;
  for (const item of items) {
    const w = weigh(item);
    if (current.length > 0 && weight + w > budget) {
      out.push(current);
      current = [];
      weight = 0;
    }
    current.push(item);
    weight += w;
  }
  if (current.length > 0) out.push(current);
  return out;
}

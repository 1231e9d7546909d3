// Proxy: a least-recently-used map bounded by a total weight (entry count, or bytes), for the proxy's caches.

/**
 * One entry, as `slot` hands it out: a caller may keep it to skip the map's lookup next time. Its `value` becomes
 * undefined once the entry leaves the map, so a kept slot never holds on to an evicted value.
 */
export interface Slot<V> {
  value: V | undefined;
  /** Read since the eviction scan last passed (set it on a hit through the slot). */
  used: boolean;
}

export interface Lru<K, V> {
  get(key: K): V | undefined;
  /** The entry of `key` (marked used), or undefined. */
  slot(key: K): Slot<V> | undefined;
  set(key: K, value: V): void;
  delete(key: K): void;
  clear(): void;
  readonly size: number;
  /** Sum of the weights of the entries held. */
  readonly weight: number;
}

/**
 * `maxWeight` bounds the sum of `weigh(value)` (1 per entry by default). A value heavier than the whole
 * budget is not stored. Eviction is "second chance" (CLOCK): a hit only sets a flag, so reads on the hot path
 * never reorder the map; the eviction scan moves flagged entries to the back instead of removing them.
 */
export function lru<K, V>(maxWeight: number, weigh: (value: V) => number = () => 1): Lru<K, V> {
  const map = new Map<K, Slot<V>>();
  let weight = 0;

  const remove = (key: K) => {
    const old = map.get(key);
    if (old === undefined) return;
    map.delete(key);
    weight -= weigh(old.value as V);
    old.value = undefined;
  };

  function slot(key: K): Slot<V> | undefined {
    const entry = map.get(key);
    if (entry !== undefined) entry.used = true;
    return entry;
  }

  function evict() {
    for (const [key, entry] of map) {
      if (weight <= maxWeight) return;
      if (entry.used) {
        entry.used = false;
        map.delete(key);
        map.set(key, entry);
      } else remove(key);
    }
  }

  return {
    get: (key) => slot(key)?.value,
    slot,
    set(key, value) {
      remove(key);
      const w = weigh(value);
      if (w > maxWeight) return;
      map.set(key, { value, used: false });
      weight += w;
      // One pass suffices: entries moved to the back are visited again by the same iteration.
      evict();
    },
    delete: remove,
    clear() {
      for (const entry of map.values()) entry.value = undefined;
      map.clear();
      weight = 0;
    },
    get size() {
      return map.size;
    },
    get weight() {
      return weight;
    },
  };
}

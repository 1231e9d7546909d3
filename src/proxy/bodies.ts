// Proxy: file bodies. Small blobs come from a bounded in-memory cache; large ones are streamed from the artifact
// store (on disk a Bun.file, which Bun.serve sends with sendfile). Concurrent misses for one blob share one read.
// Memory bodies are kept as Blobs, not byte arrays: a Blob is immutable, so every Response shares it without a
// copy (measured: ~10-25% more requests/s for a 36 KB body than handing Bun the Uint8Array each time).

import type { Logger } from "../observe/log.ts";
import type { Registry } from "../observe/registry.ts";
import type { Artifacts } from "../store/artifacts.ts";
import { lru, type Slot } from "./lru.ts";

/**
 * Where a caller keeps its hold on a small body's cache entry (respond.ts: each prepared variant of a file), so the
 * next request for it skips the cache's lookup by hash: on a busy proxy serving many paths that lookup's memory
 * reads were most of the time our code spent per request (bench/README.md).
 */
export interface BodyRef {
  slot: Slot<Blob> | null;
}

export interface Bodies {
  /**
   * The blob in memory (small) or as a streamable handle (large); null when the store does not have it. `ref`,
   * when given, is where the memory entry is kept between calls for the same blob.
   */
  get(hash: string, size: number, ref?: BodyRef): Blob | null | Promise<Blob | null>;
  /** Lookups of small blobs answered from memory (hits) or read from the store (misses), for /metrics. */
  stats(): { hits: number; misses: number };
}

export interface BodiesOptions {
  /** Total bytes of the memory cache. */
  maxBytes: number;
  /** Blobs up to this size are cached; larger ones are streamed on every request. */
  maxItemBytes: number;
}

/**
 * Up to 1 MB a file is served from memory: measured on Bun 1.4.5, a 500 KB body goes out ~20% faster (and with a
 * lower p99) from a memory Blob than with sendfile from disk; beyond that, memory is better spent on more files.
 */
export const DEFAULT_BODIES: BodiesOptions = { maxBytes: 64 * 1024 * 1024, maxItemBytes: 1024 * 1024 };

/** Handles of large blobs kept (a handle is a path, not the content). */
const MAX_HANDLES = 4096;
/** A large blob's handle is trusted this long before the store is asked again whether the blob exists. */
const HANDLE_TTL_MS = 1000;

export function createBodies(
  artifacts: Pick<Artifacts, "getBlob">,
  options: BodiesOptions,
  log: Logger,
): Bodies {
  const cache = lru<string, Blob>(options.maxBytes, (blob) => blob.size);
  const handles = lru<string, { blob: Blob; until: number }>(MAX_HANDLES);
  const pending = new Map<string, Promise<Blob | null>>();
  const stats = { hits: 0, misses: 0 };

  async function load(hash: string, size: number): Promise<Blob | null> {
    const blob = await artifacts.getBlob(hash);
    if (blob === null) return null;
    if (size > options.maxItemBytes) {
      handles.set(hash, { blob, until: performance.now() + HANDLE_TTL_MS });
      return blob;
    }
    try {
      const inMemory = new Blob([await blob.bytes()]);
      cache.set(hash, inMemory);
      return inMemory;
    } catch (error) {
      // Gone between the lookup and the read (or unreadable): the caller answers 502.
      log.error("cannot read blob", { hash, size, error });
      return null;
    }
  }

  return {
    get(hash, size, ref) {
      if (size <= options.maxItemBytes) {
        const kept = ref?.slot;
        if (kept && kept.value !== undefined) {
          kept.used = true;
          stats.hits++;
          return kept.value;
        }
        const slot = cache.slot(hash);
        if (slot && slot.value !== undefined) {
          stats.hits++;
          if (ref) ref.slot = slot;
          return slot.value;
        }
        stats.misses++;
      } else {
        const handle = handles.get(hash);
        if (handle !== undefined && handle.until > performance.now()) return handle.blob;
      }
      let loading = pending.get(hash);
      if (!loading) {
        loading = load(hash, size).finally(() => pending.delete(hash));
        pending.set(hash, loading);
      }
      return loading;
    },
    stats: () => ({ ...stats }),
  };
}

/**
 * The memory cache's series for /metrics (lookups by result, hit ratio), read at scrape time; returns what removes
 * them. A second proxy in the same process (tests) takes the series over.
 */
export function collectCacheMetrics(registry: Registry, bodies: Pick<Bodies, "stats">): () => void {
  const unwatchCount = registry.collect(
    "minivercel_proxy_cache_requests_total",
    "Lookups of small files in the proxy's memory cache, by result (hit, miss).",
    "counter",
    () => {
      const { hits, misses } = bodies.stats();
      return [
        { labels: { result: "hit" }, value: hits },
        { labels: { result: "miss" }, value: misses },
      ];
    },
  );
  const unwatchRatio = registry.collect(
    "minivercel_proxy_cache_hit_ratio",
    "Share of the proxy's memory-cache lookups answered from memory since start (0 before any lookup).",
    "gauge",
    (remote) => {
      // Over every proxy process of this server (src/roles-proxy-processes.ts), as the counter above is.
      const local = bodies.stats();
      const hits = local.hits + remote.counter("minivercel_proxy_cache_requests_total", { result: "hit" });
      const misses =
        local.misses + remote.counter("minivercel_proxy_cache_requests_total", { result: "miss" });
      return [{ value: hits + misses === 0 ? 0 : hits / (hits + misses) }];
    },
  );
  return () => {
    unwatchCount();
    unwatchRatio();
  };
}

// Package caches: one folder per project (npm, pnpm, yarn, bun and corepack caches), kept between its builds.
// Only that project's builds see it (bound read-write at /cache in their sandbox); never another project's.

import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { BuildConfig, Config } from "../config/config.ts";

/** The project's cache folder, made on first use; null when caches are off (BUILD_CACHE_MB=0). */
export function projectCache(
  config: Pick<Config, "dataDir"> & { build: Pick<BuildConfig, "cacheMb"> },
  projectId: string,
): string | null {
  if (config.build.cacheMb <= 0) return null;
  const dir = join(config.dataDir, "cache", projectId);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export /** Wipes a project's package cache when it outgrows its budget: simple, and always bounded. */
function boundCache(dir: string, maxMb: number): void {
  let bytes = 0;
  const walk = (path: string, depth: number) => {
    if (depth > 40 || bytes > maxMb * 1024 * 1024) return;
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) walk(full, depth + 1);
      else if (entry.isFile()) bytes += statSync(full).size;
    }
  };
  try {
    walk(dir, 0);
  } catch {
    return;
  }
  if (bytes > maxMb * 1024 * 1024) rmSync(dir, { recursive: true, force: true });
}

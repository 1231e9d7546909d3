// Config of the worker role: how builds run, and garbage collection of artifacts and old previews.

import { ConfigError } from "../errors.ts";
import { bool, type Env, int, oneOf, text } from "./parse.ts";

/** How builds run on this worker (the local runner). */
export interface BuildConfig {
  /** bwrap (default): bubblewrap sandbox; none: no isolation, only for trusted single-user setups. */
  sandbox: "bwrap" | "none";
  /**
   * Where the sandbox's programs (bwrap, slirp4netns, setpriv, ip, git, ...) are looked up, and only there, as a
   * PATH (BUILD_SANDBOX_PATH); null: the system's /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin.
   * They run as root with it first on their PATH: list only directories root owns.
   */
  sandboxPath: string | null;
  /** Builds running at once on this worker. */
  concurrency: number;
  /** Default build time limit; a project's buildTimeoutSeconds overrides it. */
  timeoutSeconds: number;
  memoryMb: number;
  pids: number;
  /** Per-project package-manager cache; wiped when it grows past this. */
  cacheMb: number;
  /** Megabytes of log kept per build; past it the log says it was truncated and the build goes on (BUILD_LOG_MAX_MB). */
  logMb: number;
  /** A running build with no sign of life for this long is failed by the reaper. */
  heartbeatTimeoutSeconds: number;
  /** Builds of one user running at once across all workers; more wait QUEUED (MAX_CONCURRENT_BUILDS_PER_USER, 0: no limit). */
  maxPerUser: number;
  /**
   * A deployment of the same project made from the same commit (or uploaded tree), build settings, variables and
   * minivercel version as an earlier READY one takes that one's output instead of building again (BUILD_REUSE).
   */
  reuse: boolean;
}

/** Garbage collection of artifacts and expiry of old previews, run by the worker role. */
export interface GcConfig {
  /** Minutes between collections on each worker; 0: only when a project is deleted (GC_INTERVAL_MINUTES). */
  intervalMinutes: number;
  /** A blob stored or claimed by an upload less than this long ago is never deleted (GC_GRACE_MINUTES). */
  graceMinutes: number;
  /** Preview deployments older than this many days expire; 0 keeps them forever (PREVIEW_RETENTION_DAYS). */
  previewRetentionDays: number;
}

export function parseBuild(env: Env): BuildConfig {
  return {
    sandbox: oneOf(env, "BUILD_SANDBOX", ["bwrap", "none"], "bwrap"),
    sandboxPath: searchPath(env, "BUILD_SANDBOX_PATH"),
    concurrency: int(env, "BUILD_CONCURRENCY", 2, 1, 64),
    timeoutSeconds: int(env, "BUILD_TIMEOUT_SECONDS", 900, 10, 6 * 3600),
    memoryMb: int(env, "BUILD_MEMORY_MB", 2048, 64, 256 * 1024),
    pids: int(env, "BUILD_PIDS", 1024, 16, 65536),
    cacheMb: int(env, "BUILD_CACHE_MB", 1024, 0, 1024 * 1024),
    logMb: int(env, "BUILD_LOG_MAX_MB", 16, 1, 1024),
    heartbeatTimeoutSeconds: int(env, "BUILD_HEARTBEAT_TIMEOUT_SECONDS", 60, 5, 3600),
    maxPerUser: int(env, "MAX_CONCURRENT_BUILDS_PER_USER", 3, 0, 1000),
    reuse: bool(env, "BUILD_REUSE", true),
  };
}

/** A PATH of absolute directories; unset: null. */
function searchPath(env: Env, name: string): string | null {
  const value = text(env, name);
  if (value === null) return null;
  for (const dir of value.split(":")) {
    if (!dir.startsWith("/"))
      throw new ConfigError(name, `must be absolute directories separated by ':', got '${value}'`);
  }
  return value;
}

export function parseGc(env: Env): GcConfig {
  return {
    intervalMinutes: int(env, "GC_INTERVAL_MINUTES", 60, 0, 7 * 24 * 60),
    // At least 5: an upload's claims must outlive its slowest path to the manifest (S3 claims lag a minute).
    graceMinutes: int(env, "GC_GRACE_MINUTES", 60, 5, 7 * 24 * 60),
    previewRetentionDays: int(env, "PREVIEW_RETENTION_DAYS", 30, 0, 100 * 365),
  };
}

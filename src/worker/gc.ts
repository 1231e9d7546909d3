// Garbage collection: old previews expire, then manifests and blobs that no live deployment needs are deleted,
// and the runtime logs of deployments that will never run again.
//
// Mark and sweep over the artifact store, safe while uploads run: an upload stores or claims every blob
// (Artifacts.missing / putBlob) before it stores its manifest, and a blob stored or claimed within the grace
// period is never deleted, checked afresh at the moment of deletion (Artifacts.deleteBlob). So a manifest that
// lands after the mark phase still finds its blobs, provided the upload took less than the grace period.

import type { Logger } from "../observe/log.ts";
import type { Artifacts } from "../store/artifacts.ts";
import { manifestBlobs } from "../store/artifacts.ts";
import type { RuntimeLogs } from "../store/runtime-logs.ts";
import type { Store } from "../store/store.ts";

export interface GcOptions {
  /** Blobs stored or claimed, and manifests written, less than this long ago are never deleted. */
  graceMs: number;
  /** Preview deployments created longer ago than this expire; null keeps them forever. */
  previewRetentionMs: number | null;
}

export interface GcReport {
  expiredPreviews: number;
  /** Manifests of deployments that are gone, expired, failed or canceled. */
  deletedManifests: number;
  deletedBlobs: number;
  /** Blobs left in place: referenced by a manifest, or inside the grace period. */
  keptBlobs: number;
}

type GcDeps = { store: Store; artifacts: Artifacts; runtimeLogs: Pick<RuntimeLogs, "remove"> };

/** Previews expired per store query. */
const EXPIRE_BATCH = 100;

/** The deployment a manifest belongs to: its id, or the uuid its id ends with (e.g. `source-<uuid>`). */
const OWNER = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Marks previews past their retention expired and deletes their manifests; returns how many expired. */
export async function expirePreviews(
  { store, artifacts, runtimeLogs }: GcDeps,
  before: Date,
): Promise<number> {
  const seen = new Set<string>();
  const expired: string[] = [];
  for (;;) {
    // A candidate that expire() refused (promoted meanwhile) comes back in the next page: seen ends the loop.
    const batch = (await store.deployments.expirable(before.toISOString(), EXPIRE_BATCH)).filter(
      (d) => !seen.has(d.id),
    );
    if (batch.length === 0) break;
    for (const deployment of batch) {
      seen.add(deployment.id);
      // The row first: a crash before the manifest is deleted leaves an expired row, which the mark phase
      // below recognizes, never a served deployment without files.
      if (!(await store.deployments.expire(deployment.id))) continue;
      await artifacts.deleteManifest(deployment.id);
      expired.push(deployment.id);
    }
  }
  // Its functions will never run again. (Lines a crash leaves behind go with the retention.)
  await runtimeLogs.remove(expired);
  return expired.length;
}

/** True when a manifest's deployment will never be served again. */
async function isDead(store: Store, manifestId: string): Promise<boolean> {
  const owner = OWNER.exec(manifestId)?.[0];
  // An id naming no deployment is not ours to judge: kept.
  if (owner === undefined) return false;
  const deployment = await store.deployments.find(owner);
  return (
    deployment === null ||
    deployment.expiredAt !== null ||
    deployment.status === "FAIL" ||
    deployment.status === "CANCELED"
  );
}

/**
 * One collection: expires old previews, deletes the manifests of dead deployments (deleted projects,
 * expired, failed or canceled; older than the grace period), then every blob no remaining manifest names.
 * Throws (deleting nothing more) when a manifest cannot be read: its blobs would be unknown.
 */
export async function collectGarbage(deps: GcDeps, options: GcOptions): Promise<GcReport> {
  const { store, artifacts } = deps;
  const started = Date.now();
  const cutoff = new Date(started - options.graceMs);
  const expiredPreviews =
    options.previewRetentionMs === null
      ? 0
      : await expirePreviews(deps, new Date(started - options.previewRetentionMs));

  // Mark: every blob a live manifest names, with its compressed variants.
  const referenced = new Set<string>();
  const dead: string[] = [];
  for await (const id of artifacts.listManifests()) {
    const manifest = await artifacts.getManifest(id);
    if (manifest === null) continue;
    if (Date.parse(manifest.createdAt) < cutoff.getTime() && (await isDead(store, id))) {
      await artifacts.deleteManifest(id);
      dead.push(OWNER.exec(id)?.[0] ?? id);
      continue;
    }
    for (const { blob } of manifestBlobs(manifest)) referenced.add(blob.hash);
  }

  // A deployment left behind by a project deletion that did not finish: its runtime lines go with its files.
  await deps.runtimeLogs.remove(dead);
  const deletedManifests = dead.length;

  // Sweep: the listing's storedAt is only a first filter; deleteBlob checks it again as it deletes.
  const deleted: string[] = [];
  let keptBlobs = 0;
  for await (const { hash, storedAt } of artifacts.listBlobs()) {
    if (!referenced.has(hash) && storedAt < cutoff && (await artifacts.deleteBlob(hash, cutoff))) {
      deleted.push(hash);
    } else keptBlobs += 1;
  }
  // Who had proved to hold a deleted blob must upload it again (src/deploy/scoped-blobs.ts); a claim made
  // since the cutoff came with a fresh upload and stays.
  await store.blobClaims.forget(deleted, cutoff);
  const deletedBlobs = deleted.length;
  return { expiredPreviews, deletedManifests, deletedBlobs, keptBlobs };
}

export interface Collector {
  /**
   * One collection now. A call while one runs gets the run after it (which sees the caller's change, e.g. a
   * deleted project); every call made meanwhile shares that one.
   */
  run(): Promise<GcReport>;
  /** `run()` in the background: its summary or its failure is logged, never thrown. */
  trigger(): void;
  /** Resolves when no collection runs or waits (tests, shutdown). */
  idle(): Promise<void>;
}

export function createCollector(deps: GcDeps & { log: Logger }, options: GcOptions): Collector {
  const { log } = deps;
  let running: Promise<GcReport> | null = null;
  let next: Promise<GcReport> | null = null;

  const run = (): Promise<GcReport> => {
    if (running === null) {
      running = collectGarbage(deps, options).finally(() => {
        running = null;
      });
      return running;
    }
    next ??= running
      .catch(() => {})
      .then(() => {
        next = null;
        return run();
      });
    return next;
  };

  return {
    run,
    trigger() {
      const started = performance.now();
      run().then(
        (report) => {
          // A run that changed nothing is routine on an idle platform: only visible at debug.
          const changed = report.expiredPreviews + report.deletedManifests + report.deletedBlobs > 0;
          log[changed ? "info" : "debug"]("gc: collected", {
            ...report,
            durationMs: Math.round(performance.now() - started),
          });
        },
        (error: unknown) => log.error("gc: failed, will retry on the next run", { error }),
      );
    },
    async idle() {
      while (running || next) await (next ?? running)?.catch(() => {});
    },
  };
}

/** Runs the collector every `intervalMs` (the worker role); stop() waits for a collection in progress. */
export function startPeriodicGc(collector: Collector, intervalMs: number): { stop(): Promise<void> } {
  const timer = setInterval(() => collector.trigger(), intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await collector.idle();
    },
  };
}

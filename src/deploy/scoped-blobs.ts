// Scoped uploads: blobs are stored once for everyone (content-addressed), but a scope (an account or a team)
// learns whether a blob is stored, or names it in a deployment, only once it has proved to hold the bytes by
// uploading them. So no account can probe for another's files by hash, nor deploy one it never had.

import type { Project } from "../model/entities.ts";
import type { Artifacts } from "../store/artifacts.ts";
import type { Store } from "../store/store.ts";

/** The scope a project's files belong to: its team's, or its owner's (a personal project). */
export const blobScope = (project: Pick<Project, "userId" | "teamId">): string =>
  project.teamId ? `team:${project.teamId}` : project.userId;

/**
 * Which of `hashes` the scope must (still) upload, in the order given: those it never uploaded, and those it
 * did that are no longer stored. The stored ones it holds are claimed for the collector's grace period, as
 * Artifacts.missing does; nothing about other scopes' blobs is read.
 */
export async function missingFor(
  store: Store,
  artifacts: Artifacts,
  scopeId: string,
  hashes: string[],
): Promise<string[]> {
  const unique = [...new Set(hashes)];
  const unclaimed = new Set(await store.blobClaims.unclaimed(scopeId, unique));
  const gone = new Set(await artifacts.missing(unique.filter((hash) => !unclaimed.has(hash))));
  return unique.filter((hash) => unclaimed.has(hash) || gone.has(hash));
}

/** Stores an upload (verified against its hash by the artifact store) and records that the scope holds it. */
export async function putScopedBlob(
  store: Store,
  artifacts: Artifacts,
  scopeId: string,
  hash: string,
  data: Blob | Uint8Array,
): Promise<void> {
  await artifacts.putBlob(hash, data);
  await store.blobClaims.add(scopeId, [hash]);
}

// Build step "upload", the storing: hash what a deployment is made of, send only the blobs the artifact store lacks
// (each distinct content once), and precompressed variants of the files that are served.

import { AppError, badRequest } from "../src/errors.ts";
import type { Artifacts, ManifestVariant } from "../src/store/artifacts.ts";
import { formatBytes } from "../src/utils/bytes.ts";
import { mapLimit } from "../src/utils/parallel.ts";
import { compressVariants, shouldCompress } from "./compress.ts";

const HASH_PARALLELISM = 8;
const UPLOAD_PARALLELISM = 8;
/** Compression is CPU-bound and runs on libuv's pool of 4 threads. */
const COMPRESS_PARALLELISM = 4;

export const sha256 = (bytes: Uint8Array): string =>
  new Bun.CryptoHasher("sha256").update(bytes).digest("hex");

/** Streams the file through sha256 (never the whole file in memory); returns the hash and bytes read. */
export async function hashFile(abs: string): Promise<{ hash: string; size: number }> {
  const hasher = new Bun.CryptoHasher("sha256");
  let size = 0;
  for await (const chunk of Bun.file(abs).stream()) {
    hasher.update(chunk);
    size += chunk.byteLength;
  }
  return { hash: hasher.digest("hex"), size };
}

/** Hashes files found on disk; a file whose size changed since it was listed is refused. */
export async function hashAll<T extends { path: string; abs: string; size: number }>(
  found: readonly T[],
): Promise<(T & { hash: string })[]> {
  return mapLimit(found, HASH_PARALLELISM, async (file) => {
    const hashed = await hashFile(file.abs);
    if (hashed.size !== file.size) throw badRequest(`${file.path} changed while it was being read`);
    return { ...file, hash: hashed.hash };
  });
}

/** A blob to store: a file on disk (`abs`) or bytes in memory; `path` names it in messages. */
export type BlobSource = { hash: string; size: number; path: string } & (
  | { abs: string }
  | { bytes: Uint8Array }
);

/** Stores the distinct blobs the store lacks (asked in one call), in parallel; returns what was sent. */
export async function storeMissing(
  artifacts: Artifacts,
  sources: readonly BlobSource[],
  log: (message: string) => void,
): Promise<{ distinct: number; uploaded: number; uploadedBytes: number }> {
  const byHash = new Map<string, BlobSource>();
  for (const source of sources) if (!byHash.has(source.hash)) byHash.set(source.hash, source);
  const toUpload = (await artifacts.missing([...byHash.keys()])).flatMap((h) => byHash.get(h) ?? []);
  const uploadedBytes = toUpload.reduce((sum, f) => sum + f.size, 0);
  log(
    `uploading ${toUpload.length} new blobs (${formatBytes(uploadedBytes)}), ${byHash.size - toUpload.length} already stored`,
  );
  await mapLimit(toUpload, UPLOAD_PARALLELISM, async (source) => {
    try {
      await artifacts.putBlob(source.hash, "abs" in source ? Bun.file(source.abs) : source.bytes);
    } catch (e) {
      // The hash was computed moments ago: a mismatch means the file changed under us.
      if (e instanceof AppError && e.code === "bad_request")
        throw badRequest(`${source.path} changed while it was being uploaded`);
      throw e;
    }
  });
  return { distinct: byHash.size, uploaded: toUpload.length, uploadedBytes };
}

export type Variants = { gzip?: ManifestVariant; br?: ManifestVariant };

/**
 * Compresses each distinct compressible file (gzip and brotli, see compress.ts) and stores the variants that
 * are worth it as blobs of their own; returns them by the original's hash. Runs after the originals are stored.
 */
export async function storeVariants(
  artifacts: Artifacts,
  files: readonly { path: string; abs: string; hash: string; size: number; type: string }[],
  log: (message: string) => void,
): Promise<Map<string, Variants>> {
  const out = new Map<string, Variants>();
  const distinct = new Map(files.map((f) => [f.hash, f]));
  const candidates = [...distinct.values()].filter((f) => shouldCompress(f.type, f.size));
  if (candidates.length === 0) return out;
  let stored = 0;
  let saved = 0;
  await mapLimit(candidates, COMPRESS_PARALLELISM, async (file) => {
    const data = await Bun.file(file.abs).bytes();
    // The original was hashed moments ago: compressing different bytes would serve the wrong content.
    if (sha256(data) !== file.hash) throw badRequest(`${file.path} changed while it was being compressed`);
    const compressed = await compressVariants(data);
    const variants: Variants = {};
    for (const name of ["gzip", "br"] as const) {
      const bytes = compressed[name];
      if (!bytes) continue;
      const hash = sha256(bytes);
      if ((await artifacts.missing([hash])).length > 0) {
        await artifacts.putBlob(hash, bytes);
        stored += 1;
      }
      variants[name] = { hash, size: bytes.byteLength };
    }
    if (variants.br || variants.gzip) {
      saved += file.size - Math.min(variants.br?.size ?? file.size, variants.gzip?.size ?? file.size);
      out.set(file.hash, variants);
    }
  });
  log(
    `precompressed ${out.size} of ${candidates.length} text files (gzip, brotli): ${formatBytes(saved)} smaller, ${stored} new blobs`,
  );
  return out;
}

// Uploaded file sets (CLI prebuilt deploys, dashboard uploads) get the same precompressed gzip and brotli variants
// as built sites (builder/compress.ts), before they go live, so the proxy never sends a compressible file
// uncompressed. Each content is compressed once: a file the project's production deployment already has
// variants for reuses them, so a deploy that changes one file compresses one file.

import { compressVariants, shouldCompress } from "../../builder/compress.ts";
import { badRequest } from "../errors.ts";
import type { Artifacts, ManifestFile, ManifestVariant } from "../store/artifacts.ts";
import type { Store } from "../store/store.ts";
import { formatBytes } from "../utils/bytes.ts";
import { mapLimit } from "../utils/parallel.ts";

/** Compression is CPU-bound and runs on libuv's pool of 4 threads. */
const COMPRESS_PARALLELISM = 4;

type Variants = { gzip?: ManifestVariant; br?: ManifestVariant };

const sha256 = (bytes: Uint8Array) => new Bun.CryptoHasher("sha256").update(bytes).digest("hex");

export interface Precompressed {
  files: Record<string, ManifestFile>;
  /** One line for the deployment's log, or null when no file is compressible. */
  summary: string | null;
}

/** Variants by content hash, from a manifest's files. */
function variantsOf(files: Record<string, ManifestFile> | null): Map<string, Variants> {
  const out = new Map<string, Variants>();
  for (const file of Object.values(files ?? {})) {
    if (file.gzip || file.br)
      out.set(file.hash, { ...(file.gzip && { gzip: file.gzip }), ...(file.br && { br: file.br }) });
  }
  return out;
}

/**
 * Adds variants to the compressible files that came without: reused from `previous` (the project's production
 * manifest's files) when their blobs are still stored, else computed from the stored original and stored (and
 * claimed for `scopeId`, which holds the original). Files that came with variants keep them.
 */
export async function precompress(
  deps: { store: Store; artifacts: Artifacts },
  scopeId: string,
  files: Record<string, ManifestFile>,
  previous: Record<string, ManifestFile> | null,
): Promise<Precompressed> {
  const { store, artifacts } = deps;
  const wanted = new Map<string, ManifestFile>();
  for (const file of Object.values(files)) {
    if (!file.gzip && !file.br && shouldCompress(file.type, file.size)) wanted.set(file.hash, file);
  }
  if (wanted.size === 0) return { files, summary: null };

  const known = variantsOf(previous);
  const found = new Map<string, Variants>();
  let reused = 0;
  let computed = 0;
  await mapLimit([...wanted.values()], COMPRESS_PARALLELISM, async (file) => {
    const earlier = known.get(file.hash);
    const earlierBlobs = [earlier?.gzip, earlier?.br].flatMap((v) => (v ? [v.hash] : []));
    // missing() also claims the stored ones for the collector's grace period, until the manifest names them.
    if (earlier && earlierBlobs.length > 0 && (await artifacts.missing(earlierBlobs)).length === 0) {
      await store.blobClaims.add(scopeId, earlierBlobs);
      found.set(file.hash, earlier);
      reused += 1;
      return;
    }
    const blob = await artifacts.getBlob(file.hash);
    if (!blob) throw badRequest(`a file of the deployment is no longer stored (${file.hash})`, "files");
    const data = new Uint8Array(await blob.arrayBuffer());
    if (sha256(data) !== file.hash) throw new Error(`stored blob ${file.hash} does not match its hash`);
    const compressed = await compressVariants(data);
    const variants: Variants = {};
    for (const name of ["gzip", "br"] as const) {
      const bytes = compressed[name];
      if (!bytes) continue;
      const hash = sha256(bytes);
      await artifacts.putBlob(hash, bytes);
      await store.blobClaims.add(scopeId, [hash]);
      variants[name] = { hash, size: bytes.byteLength };
    }
    computed += 1;
    if (variants.gzip || variants.br) found.set(file.hash, variants);
  });

  let saved = 0;
  const out: Record<string, ManifestFile> = {};
  for (const [path, file] of Object.entries(files)) {
    const variants = wanted.has(file.hash) ? found.get(file.hash) : undefined;
    out[path] = variants ? { ...file, ...variants } : file;
    if (variants)
      saved += file.size - Math.min(variants.br?.size ?? file.size, variants.gzip?.size ?? file.size);
  }
  const summary =
    `precompressed ${found.size} of ${wanted.size} text files (gzip, brotli): ${formatBytes(saved)} smaller` +
    (reused > 0 ? `; ${reused} reused from the production deployment, ${computed} compressed now` : "");
  return { files: out, summary };
}

// Build step "upload": walk the output directory, hash every file, store only the blobs the artifact
// store lacks, then the manifest last, so a manifest never names a blob that is not there yet.

import { lstat, readdir, realpath, stat } from "node:fs/promises";
import { join } from "node:path";
import { AppError, badRequest } from "../src/errors.ts";
import { checkSiteConfig, MAX_CONFIG_BYTES, siteConfigRefusal } from "../src/proxy/site-config.ts";
import {
  type Artifacts,
  assertDeploymentId,
  FORBIDDEN_NAME_CHARS,
  isManifestPath,
  type Manifest,
  type ManifestFile,
  type ManifestVariant,
} from "../src/store/artifacts.ts";
import { formatBytes } from "../src/utils/bytes.ts";
import { mapLimit } from "../src/utils/parallel.ts";
import { compressVariants, shouldCompress } from "./compress.ts";
import { isWithin } from "./contained.ts";

/** Names skipped wherever they appear in the output. */
const NEVER_DEPLOYED = new Set([".git", ".hg", ".svn"]);

export interface UploadLimits {
  maxFiles: number;
  maxFileBytes: number;
  maxTotalBytes: number;
}

const MB = 1024 * 1024;

export const DEFAULT_UPLOAD_LIMITS: UploadLimits = {
  maxFiles: 20_000,
  maxFileBytes: 100 * MB,
  maxTotalBytes: 1024 * MB,
};

export interface CollectedFile {
  /** Manifest path: relative to the root, leading "/", forward slashes. */
  path: string;
  /** Real path on disk to read the content from (a followed symlink's target). */
  abs: string;
  hash: string;
  size: number;
  type: string;
}

const HASH_PARALLELISM = 8;
const UPLOAD_PARALLELISM = 8;
/** Compression is CPU-bound and runs on libuv's pool of 4 threads. */
const COMPRESS_PARALLELISM = 4;
/** Past this many skip warnings, only a count is logged: a build must not flood its own log. */
const MAX_WARNINGS = 100;

/** Streams the file through sha256 (never the whole file in memory); returns the hash and bytes read. */
async function hashFile(abs: string): Promise<{ hash: string; size: number }> {
  const hasher = new Bun.CryptoHasher("sha256");
  let size = 0;
  for await (const chunk of Bun.file(abs).stream()) {
    hasher.update(chunk);
    size += chunk.byteLength;
  }
  return { hash: hasher.digest("hex"), size };
}

interface Found {
  path: string;
  abs: string;
  size: number;
}

/**
 * Lists the regular files under `root` (following symlinks that stay inside it), enforcing the limits. With
 * `within` (a real path: a build's checkout), the root itself must resolve inside it too.
 */
async function walk(
  root: string,
  limits: UploadLimits,
  warn: (message: string) => void,
  within: string | null,
): Promise<Found[]> {
  let realRoot: string;
  try {
    realRoot = await realpath(root);
  } catch {
    throw badRequest(`output directory not found: ${root}`);
  }
  if (within !== null && !isWithin(within, realRoot))
    throw badRequest("the output directory resolves outside the repository through a symbolic link");
  if (!(await stat(realRoot)).isDirectory()) throw badRequest(`output path is not a directory: ${root}`);
  const inside = (p: string) => isWithin(realRoot, p);

  const found: Found[] = [];
  let total = 0;
  let dirs = 0;

  const add = (path: string, abs: string, size: number) => {
    if (size > limits.maxFileBytes) {
      throw badRequest(
        `${path} is ${formatBytes(size)}, over the limit of ${formatBytes(limits.maxFileBytes)} per file`,
      );
    }
    if (found.length >= limits.maxFiles)
      throw badRequest(`the output has more than ${limits.maxFiles} files, the limit per deployment`);
    total += size;
    if (total > limits.maxTotalBytes) {
      throw badRequest(
        `the output is over ${formatBytes(limits.maxTotalBytes)}, the limit per deployment (reached at ${path})`,
      );
    }
    found.push({ path, abs, size });
  };

  // `ancestors` holds the real paths of the directories being walked: a symlink back to one is a loop.
  const ancestors = new Set<string>();
  const descend = async (dirReal: string, prefix: string): Promise<void> => {
    dirs += 1;
    if (dirs > limits.maxFiles)
      throw badRequest(`the output has more than ${limits.maxFiles} directories, the limit per deployment`);
    ancestors.add(dirReal);
    const entries = await readdir(dirReal, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      // Version-control metadata is never part of a site (a plain static project deploys its repo root).
      if (NEVER_DEPLOYED.has(entry.name)) continue;
      const path = `${prefix}/${entry.name}`;
      const shown = JSON.stringify(path);
      // Bun decodes names that are not UTF-8 with U+FFFD: such a name could not be opened or served.
      if (FORBIDDEN_NAME_CHARS.test(entry.name) || entry.name.includes("\uFFFD") || !isManifestPath(path)) {
        warn(`skipped ${shown}: the name has a backslash, a control character or invalid UTF-8`);
        continue;
      }
      const abs = join(dirReal, entry.name);
      if (entry.isSymbolicLink()) {
        let target: string;
        try {
          target = await realpath(abs);
        } catch {
          warn(`skipped ${shown}: broken or looping symlink`);
          continue;
        }
        if (!inside(target)) {
          warn(`skipped ${shown}: symlink points outside the output directory`);
          continue;
        }
        const info = await stat(target);
        if (info.isDirectory()) {
          if (ancestors.has(target)) warn(`skipped ${shown}: symlink loop`);
          else await descend(target, path);
        } else if (info.isFile()) add(path, target, info.size);
        else warn(`skipped ${shown}: symlink to something that is not a regular file`);
      } else if (entry.isDirectory()) await descend(abs, path);
      else if (entry.isFile()) add(path, abs, (await lstat(abs)).size);
      else warn(`skipped ${shown}: not a regular file`);
    }
    ancestors.delete(dirReal);
  };
  await descend(realRoot, "");
  return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Walks `root`, hashing every regular file. Symlinks: followed only when their real path stays inside
 * `root` (else skipped with a warning); directories' symlinks likewise, with loop protection; special
 * files skipped. Throws AppError (bad_request) with a clear message when a limit is exceeded.
 */
export async function collectOutput(
  root: string,
  limits: UploadLimits,
  warn: (message: string) => void,
  within: string | null = null,
): Promise<CollectedFile[]> {
  let warnings = 0;
  const found = await walk(
    root,
    limits,
    (message) => {
      warnings += 1;
      if (warnings <= MAX_WARNINGS) warn(message);
    },
    within,
  );
  if (warnings > MAX_WARNINGS) warn(`... and ${warnings - MAX_WARNINGS} more files skipped`);
  const files: CollectedFile[] = [];
  await mapLimit(found, HASH_PARALLELISM, async ({ path, abs, size }) => {
    const hashed = await hashFile(abs);
    if (hashed.size !== size) throw badRequest(`${path} changed while it was being read`);
    files.push({
      path,
      abs,
      hash: hashed.hash,
      size,
      type: Bun.file(path).type || "application/octet-stream",
    });
  });
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

type Variants = { gzip?: ManifestVariant; br?: ManifestVariant };

/**
 * Compresses each distinct compressible file (gzip and brotli, see compress.ts) and stores the variants that
 * are worth it as blobs of their own; returns them by the original's hash. Runs after the originals are stored.
 */
async function storeVariants(
  artifacts: Artifacts,
  distinct: CollectedFile[],
  log: (message: string) => void,
): Promise<Map<string, Variants>> {
  const out = new Map<string, Variants>();
  const candidates = distinct.filter((f) => shouldCompress(f.type, f.size));
  if (candidates.length === 0) return out;
  let stored = 0;
  let saved = 0;
  await mapLimit(candidates, COMPRESS_PARALLELISM, async (file) => {
    const data = await Bun.file(file.abs).bytes();
    // The original was hashed moments ago: compressing different bytes would serve the wrong content.
    if (new Bun.CryptoHasher("sha256").update(data).digest("hex") !== file.hash)
      throw badRequest(`${file.path} changed while it was being compressed`);
    const compressed = await compressVariants(data);
    const variants: Variants = {};
    for (const name of ["gzip", "br"] as const) {
      const bytes = compressed[name];
      if (!bytes) continue;
      const hash = new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
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

/** Collects, uploads only blobs the store lacks (bounded parallelism), then stores the manifest last. */
export async function uploadOutput(
  artifacts: Artifacts,
  deploymentId: string,
  root: string,
  opts: {
    limits?: UploadLimits;
    log: (message: string) => void;
    /** A build's checkout (real path): the output must resolve inside it (see contained.ts). */
    within?: string;
  },
): Promise<{ files: number; uploaded: number; bytes: number; uploadedBytes: number }> {
  assertDeploymentId(deploymentId);
  const files = await collectOutput(
    root,
    opts.limits ?? DEFAULT_UPLOAD_LIMITS,
    (m) => opts.log(`warning: ${m}`),
    opts.within ?? null,
  );
  if (files.length === 0) throw badRequest("the output directory has no files to deploy");

  const config = await checkSiteConfig(async (name) => {
    const file = files.find((f) => f.path === `/${name}`);
    if (!file) return null;
    return { size: file.size, text: file.size > MAX_CONFIG_BYTES ? "" : await Bun.file(file.abs).text() };
  });
  for (const warning of config.warnings) opts.log(`warning: ${warning}`);
  const refused = siteConfigRefusal(config);
  if (refused) throw badRequest(refused);

  const byHash = new Map<string, CollectedFile>();
  for (const file of files) if (!byHash.has(file.hash)) byHash.set(file.hash, file);
  const bytes = files.reduce((sum, f) => sum + f.size, 0);
  opts.log(`collected ${files.length} files (${formatBytes(bytes)}), ${byHash.size} distinct`);

  const toUpload = (await artifacts.missing([...byHash.keys()])).flatMap((h) => byHash.get(h) ?? []);
  const uploadedBytes = toUpload.reduce((sum, f) => sum + f.size, 0);
  opts.log(
    `uploading ${toUpload.length} new blobs (${formatBytes(uploadedBytes)}), ${byHash.size - toUpload.length} already stored`,
  );
  await mapLimit(toUpload, UPLOAD_PARALLELISM, async (file) => {
    try {
      await artifacts.putBlob(file.hash, Bun.file(file.abs));
    } catch (e) {
      // The hash was computed moments ago: a mismatch means the file changed under us.
      if (e instanceof AppError && e.code === "bad_request")
        throw badRequest(`${file.path} changed while it was being uploaded`);
      throw e;
    }
  });

  const variants = await storeVariants(artifacts, [...byHash.values()], opts.log);
  const entry = (f: CollectedFile): ManifestFile => ({
    hash: f.hash,
    size: f.size,
    type: f.type,
    ...variants.get(f.hash),
  });
  const manifest: Manifest = {
    version: 1,
    deploymentId,
    createdAt: new Date().toISOString(),
    files: Object.fromEntries(files.map((f) => [f.path, entry(f)])),
  };
  await artifacts.putManifest(manifest);
  opts.log(`stored the manifest of ${files.length} files`);
  return { files: files.length, uploaded: toUpload.length, bytes, uploadedBytes };
}

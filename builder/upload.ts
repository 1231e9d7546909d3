// Build step "upload": walk the output directory, hash every file, store only the blobs the artifact
// store lacks, then the manifest last, so a manifest never names a blob that is not there yet.

import { realpath, stat } from "node:fs/promises";
import { badRequest } from "../src/errors.ts";
import { checkSiteConfig, MAX_CONFIG_BYTES, siteConfigRefusal } from "../src/proxy/site-config.ts";
import {
  type Artifacts,
  assertDeploymentId,
  type Manifest,
  type ManifestFile,
} from "../src/store/artifacts.ts";
import { formatBytes } from "../src/utils/bytes.ts";
import { hashAll, storeMissing, storeVariants } from "./blobs.ts";
import { isWithin } from "./contained.ts";
import { budget, DEFAULT_UPLOAD_LIMITS, type UploadLimits, walk } from "./walk.ts";

/** Names skipped wherever they appear in the output. */
const NEVER_DEPLOYED = new Set([".git", ".hg", ".svn"]);

export interface CollectedFile {
  /** Manifest path: relative to the root, leading "/", forward slashes. */
  path: string;
  /** Real path on disk to read the content from (a followed symlink's target). */
  abs: string;
  hash: string;
  size: number;
  type: string;
}

/** Past this many skip warnings, only a count is logged: a build must not flood its own log. */
const MAX_WARNINGS = 100;

/** The content type a file is served with, from its name. */
export const typeOf = (path: string): string => Bun.file(path).type || "application/octet-stream";

/** The real path of `root`, which must be a directory (inside `within`, a build's checkout, when given). */
async function realRoot(root: string, within: string | null): Promise<string> {
  let real: string;
  try {
    real = await realpath(root);
  } catch {
    throw badRequest(`output directory not found: ${root}`);
  }
  if (within !== null && !isWithin(within, real))
    throw badRequest("the output directory resolves outside the repository through a symbolic link");
  if (!(await stat(real)).isDirectory()) throw badRequest(`output path is not a directory: ${root}`);
  return real;
}

/**
 * Walks `root`, hashing every regular file. Symlinks: followed only when their real path stays inside
 * `root` (else skipped with a warning); directories' symlinks likewise, with loop protection; special
 * files skipped. Throws AppError (bad_request) with a clear message when a limit is exceeded. With `within`
 * (a real path: a build's checkout), the root itself must resolve inside it too. `counted` shares the limits
 * with the rest of a deployment (a Build Output's functions).
 */
export async function collectOutput(
  root: string,
  limits: UploadLimits,
  warn: (message: string) => void,
  within: string | null = null,
  counted = budget(limits),
): Promise<CollectedFile[]> {
  let warnings = 0;
  const found = await walk(await realRoot(root, within), counted, {
    skip: (_path, name) => NEVER_DEPLOYED.has(name),
    problem: (message) => {
      warnings += 1;
      if (warnings <= MAX_WARNINGS) warn(`skipped ${message}`);
    },
  });
  if (warnings > MAX_WARNINGS) warn(`... and ${warnings - MAX_WARNINGS} more files skipped`);
  const hashed = await hashAll(found);
  return hashed.map(({ path, abs, hash, size }) => ({ path, abs, hash, size, type: typeOf(path) }));
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

  const bytes = files.reduce((sum, f) => sum + f.size, 0);
  const distinct = new Set(files.map((f) => f.hash)).size;
  opts.log(`collected ${files.length} files (${formatBytes(bytes)}), ${distinct} distinct`);
  const stored = await storeMissing(artifacts, files, opts.log);
  const variants = await storeVariants(artifacts, files, opts.log);
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
  return { files: files.length, uploaded: stored.uploaded, bytes, uploadedBytes: stored.uploadedBytes };
}

// Artifacts on local disk: blobs at <dir>/blobs/<aa>/<rest>, manifests at <dir>/manifests/<id>.json.
// Every write goes to <dir>/tmp first and is renamed into place, so readers never see a partial file.

import { mkdirSync } from "node:fs";
import { mkdir, open, readFile, rename, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { badRequest } from "../errors.ts";
import {
  type Artifacts,
  assertDeploymentId,
  assertSha256,
  type Manifest,
  parseManifest,
} from "./artifacts.ts";

const isNotFound = (e: unknown): boolean =>
  typeof e === "object" && e !== null && "code" in e && e.code === "ENOENT";

/** Size of the stored blob, or null when absent. */
async function sizeOf(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch (e) {
    if (isNotFound(e)) return null;
    throw e;
  }
}

export function openDiskArtifacts(dir: string): Artifacts {
  const blobs = join(dir, "blobs");
  const manifests = join(dir, "manifests");
  const tmp = join(dir, "tmp");
  for (const d of [blobs, manifests, tmp]) mkdirSync(d, { recursive: true, mode: 0o700 });

  // Callers validate the hash / id before building a path from it.
  const blobPath = (hash: string) => join(blobs, hash.slice(0, 2), hash.slice(2));
  const manifestPath = (id: string) => join(manifests, `${id}.json`);
  const tempPath = () => join(tmp, `${crypto.randomUUID()}.tmp`);

  /** Writes chunks to a fresh temp file, fsyncs it and returns its path plus the sha256 of what was written. */
  async function writeTemp(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
    const path = tempPath();
    const hasher = new Bun.CryptoHasher("sha256");
    const file = await open(path, "wx", 0o600);
    try {
      for await (const chunk of chunks) {
        hasher.update(chunk);
        await file.write(chunk);
      }
      await file.sync();
    } catch (e) {
      await file.close();
      await unlink(path).catch(() => {});
      throw e;
    }
    await file.close();
    return { path, hash: hasher.digest("hex") };
  }

  async function hashOf(data: Blob | Uint8Array): Promise<string> {
    const hasher = new Bun.CryptoHasher("sha256");
    if (data instanceof Uint8Array) hasher.update(data);
    else for await (const chunk of data.stream()) hasher.update(chunk);
    return hasher.digest("hex");
  }

  const mismatch = (hash: string) => badRequest(`blob content does not match its sha256 ${hash}`, "hash");

  return {
    async missing(hashes) {
      const unique = [...new Set(hashes)];
      for (const h of unique) assertSha256(h);
      const sizes = await Promise.all(unique.map((h) => sizeOf(blobPath(h))));
      return unique.filter((_, i) => sizes[i] === null);
    },

    async putBlob(hash, data) {
      assertSha256(hash);
      const final = blobPath(hash);
      // Already stored: still check the claim, so a wrong hash is refused the same way every time.
      if ((await sizeOf(final)) !== null) {
        if ((await hashOf(data)) !== hash) throw mismatch(hash);
        return;
      }
      const written = await writeTemp(data instanceof Uint8Array ? [data] : data.stream());
      if (written.hash !== hash) {
        await unlink(written.path).catch(() => {});
        throw mismatch(hash);
      }
      await mkdir(join(blobs, hash.slice(0, 2)), { recursive: true, mode: 0o700 });
      // A concurrent put of the same hash renames identical bytes over it: harmless and atomic.
      await rename(written.path, final);
    },

    async getBlob(hash) {
      assertSha256(hash);
      const path = blobPath(hash);
      return (await sizeOf(path)) === null ? null : Bun.file(path);
    },

    async putManifest(manifest: Manifest) {
      const checked = parseManifest(manifest);
      const files = Object.entries(checked.files);
      const hashes = [...new Set(files.map(([, f]) => f.hash))];
      const sizes = await Promise.all(hashes.map((h) => sizeOf(blobPath(h))));
      const stored = new Map(hashes.map((h, i) => [h, sizes[i] ?? null]));
      const absent = hashes.filter((h) => stored.get(h) === null);
      if (absent.length > 0) {
        throw badRequest(
          `manifest references ${absent.length} blob(s) not stored, e.g. ${absent.slice(0, 3).join(", ")}`,
        );
      }
      const wrong = files.find(([, f]) => stored.get(f.hash) !== f.size);
      if (wrong) throw badRequest(`manifest size of ${wrong[0]} does not match its stored blob`);
      const written = await writeTemp([new TextEncoder().encode(JSON.stringify(checked))]);
      await rename(written.path, manifestPath(checked.deploymentId));
    },

    async getManifest(deploymentId) {
      assertDeploymentId(deploymentId);
      let text: string;
      try {
        text = await readFile(manifestPath(deploymentId), "utf8");
      } catch (e) {
        if (isNotFound(e)) return null;
        throw e;
      }
      return parseManifest(JSON.parse(text));
    },

    async deleteManifest(deploymentId) {
      assertDeploymentId(deploymentId);
      try {
        await unlink(manifestPath(deploymentId));
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    },
  };
}

// Artifacts on local disk: blobs at <dir>/blobs/<aa>/<rest>, manifests at <dir>/manifests/<id>.json.
// Every write goes to <dir>/tmp first and is renamed into place, so readers never see a partial file.
// A blob's mtime is its `storedAt`: set when it is written, moved to now when an upload claims it.

import { mkdirSync, readdirSync, renameSync } from "node:fs";
import { mkdir, open, readdir, readFile, rename, stat, unlink, utimes } from "node:fs/promises";
import { join } from "node:path";
import { badRequest } from "../errors.ts";
import {
  type Artifacts,
  assertDeploymentId,
  assertSha256,
  isDeploymentId,
  isSha256,
  type Manifest,
  manifestBlobs,
  parseManifest,
} from "./artifacts.ts";

/** Name prefix, in <dir>/tmp, of a blob the garbage collector moved aside while it decides. */
const ASIDE = "gc-";

const isNotFound = (e: unknown): boolean =>
  typeof e === "object" && e !== null && "code" in e && e.code === "ENOENT";

/** Moves a blob's mtime (its storedAt) to now; false when it is not stored. */
async function claim(path: string): Promise<boolean> {
  const now = new Date();
  try {
    await utimes(path, now, now);
    return true;
  } catch (e) {
    if (isNotFound(e)) return false;
    throw e;
  }
}

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

  // A blob left aside by a collector that crashed mid-decision goes back: keeping garbage one more round is
  // harmless, losing a blob is not. (Another process's collector finds its blob gone and keeps it too.)
  for (const name of readdirSync(tmp)) {
    const hash = name.slice(ASIDE.length, ASIDE.length + 64);
    if (!name.startsWith(ASIDE) || !isSha256(hash)) continue;
    try {
      mkdirSync(join(blobs, hash.slice(0, 2)), { recursive: true, mode: 0o700 });
      renameSync(join(tmp, name), blobPath(hash));
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

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
      const stored = await Promise.all(unique.map((h) => claim(blobPath(h))));
      return unique.filter((_, i) => !stored[i]);
    },

    async putBlob(hash, data) {
      assertSha256(hash);
      const final = blobPath(hash);
      // Already stored: still check the claim, so a wrong hash is refused the same way every time.
      if ((await sizeOf(final)) !== null) {
        if ((await hashOf(data)) !== hash) throw mismatch(hash);
        // Claimed for the caller's manifest; collected in between, it is stored again below.
        if (await claim(final)) return;
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
      const files = manifestBlobs(checked).map(({ where, blob }) => [where, blob] as const);
      const hashes = [...new Set(files.map(([, f]) => f.hash))];
      const sizes = await Promise.all(hashes.map((h) => sizeOf(blobPath(h))));
      const stored = new Map(hashes.map((h, i) => [h, sizes[i] ?? null]));
      // A blob the collector is judging is away for a moment (see deleteBlob): look again before refusing.
      for (const delayMs of [20, 100]) {
        const away = hashes.filter((h) => stored.get(h) === null);
        if (away.length === 0) break;
        await Bun.sleep(delayMs);
        const again = await Promise.all(away.map((h) => sizeOf(blobPath(h))));
        for (const [i, h] of away.entries()) stored.set(h, again[i] ?? null);
      }
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

    async *listManifests() {
      for (const name of await readdir(manifests)) {
        const id = name.slice(0, -".json".length);
        if (name.endsWith(".json") && isDeploymentId(id)) yield id;
      }
    },

    async *listBlobs() {
      for (const prefix of await readdir(blobs)) {
        if (!/^[0-9a-f]{2}$/.test(prefix)) continue;
        for (const rest of await readdir(join(blobs, prefix))) {
          const hash = prefix + rest;
          if (!isSha256(hash)) continue;
          const info = await stat(join(blobs, prefix, rest)).catch((e: unknown) => {
            if (isNotFound(e)) return null;
            throw e;
          });
          if (info) yield { hash, storedAt: info.mtime };
        }
      }
    },

    async deleteBlob(hash, storedBefore) {
      assertSha256(hash);
      // Moved aside, then judged by its own mtime: an upload that claimed it before the move is seen (and
      // the blob goes back); one claiming it after the move finds it missing and stores it again.
      const aside = join(tmp, `${ASIDE}${hash}-${crypto.randomUUID()}`);
      try {
        // A first look keeps a blob claimed since the caller's listing from going away even for a moment.
        if ((await stat(blobPath(hash))).mtimeMs >= storedBefore.getTime()) return false;
        await rename(blobPath(hash), aside);
        if ((await stat(aside)).mtimeMs < storedBefore.getTime()) {
          await unlink(aside);
          return true;
        }
        // A copy stored meanwhile has the same bytes, so putting this one back over it is harmless.
        await rename(aside, blobPath(hash));
        return false;
      } catch (e) {
        // Gone already, or put back by another process opening the store (see above): not deleted here.
        if (isNotFound(e)) return false;
        throw e;
      }
    },
  };
}

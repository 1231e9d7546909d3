// Backup step 2: the files that go into an archive after the database snapshot, listed lazily as they are read.
//
// Order matters for consistency with a server running: the snapshot comes first; a READY deployment in it has its
// manifest and blobs stored already (a deployment goes READY only after them), and blobs are immutable. What can
// still happen is that garbage collection deletes files the snapshot needs (its project was deleted since): such
// a file is missing when read, and the caller starts again from a fresh snapshot (`Moved`).

import { type FileHandle, open, readdir } from "node:fs/promises";
import { join } from "node:path";
import { isRepoDataDir, PUSH_REPO_NAME, repoFileRole } from "../git/repos.ts";
import { isSha256, manifestBlobs, parseManifest } from "../store/artifacts.ts";
import { NOT_ARCHIVED_DIRS, NOT_ARCHIVED_FILES } from "./format.ts";
import type { SnapshotFacts } from "./snapshot.ts";
import { collect } from "./tar.ts";

/** A file the snapshot needs disappeared while the backup read it: take a new snapshot and start again. */
export class Moved extends Error {}

/** One file for the archive; its bytes are read only when the archive writer gets to it. */
export interface Item {
  /** Path inside the data directory (and the archive), with forward slashes. */
  path: string;
  size: number;
  mode: number;
  mtime: Date;
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  /** The content-addressed blobs' names: the sha256 the bytes must have. */
  sha256?: string;
}

export interface ContentsContext {
  dataDir: string;
  /** Where the snapshots are. */
  work: string;
  facts: SnapshotFacts;
  /** On the last attempt a missing file is a warning, not a restart: the backup must end some time. */
  last: boolean;
  /** Absolute paths never archived (the archive being written, its work directory). */
  skip: Set<string>;
  warn(message: string): void;
}

/** Top-level entries that are snapshotted or handled below; format.ts names those never archived. */
const HANDLED = new Set(["minivercel.db", "logs.db", "secret.key", "artifacts", "git"]);
/** The deployment a manifest belongs to: the uuid its id ends with (as src/worker/gc.ts reads it). */
const OWNER = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CHUNK = 256 * 1024;

const isNotFound = (e: unknown): boolean =>
  typeof e === "object" && e !== null && "code" in e && e.code === "ENOENT";

async function* readAll(handle: FileHandle): AsyncGenerator<Uint8Array> {
  try {
    for (;;) {
      const buffer = new Uint8Array(CHUNK);
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/** Opens a regular file for the archive; null when it is gone (or not a regular file). */
async function item(dataDir: string, path: string): Promise<Item | null> {
  let handle: FileHandle;
  try {
    handle = await open(join(dataDir, path), "r");
  } catch (e) {
    if (isNotFound(e)) return null;
    throw e;
  }
  // Sized from the open file: a rename over the path meanwhile (a replaced manifest, a git ref) cannot tear it.
  const info = await handle.stat();
  if (!info.isFile()) {
    await handle.close();
    return null;
  }
  return { path, size: info.size, mode: info.mode & 0o777, mtime: info.mtime, chunks: readAll(handle) };
}

async function list(dir: string): Promise<{ name: string; dir: boolean; file: boolean }[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries
      .map((e) => ({ name: e.name, dir: e.isDirectory(), file: e.isFile() }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  } catch (e) {
    if (isNotFound(e)) return [];
    throw e;
  }
}

/** Every regular file under `path` (relative to the data dir) that `keep`s; symlinks and sockets are skipped. */
async function* walk(
  ctx: ContentsContext,
  path: string,
  strict: boolean,
  keep: (file: string) => boolean = () => true,
): AsyncGenerator<Item> {
  for (const entry of await list(join(ctx.dataDir, path))) {
    const child = `${path}/${entry.name}`;
    if (ctx.skip.has(join(ctx.dataDir, child))) continue;
    if (entry.dir) yield* walk(ctx, child, strict, keep);
    else if (entry.file && keep(child)) {
      const found = await item(ctx.dataDir, child);
      if (found) yield found;
      else if (strict && !ctx.last) throw new Moved(child);
    }
  }
}

/**
 * A bare repository's data and config (never its hooks: the platform writes its own, and restore would leave
 * them out anyway). Refs before objects, so every ref archived names objects that existed when it was read.
 */
async function* gitRepository(ctx: ContentsContext, repo: string): AsyncGenerator<Item> {
  const kept = (file: string) => repoFileRole(file.slice(repo.length + 1)) !== "other";
  for (const entry of await list(join(ctx.dataDir, repo))) {
    if (entry.name === "objects") continue;
    const child = `${repo}/${entry.name}`;
    // A folder with nothing kept (hooks/, info/) is not even read.
    if (entry.dir && isRepoDataDir(entry.name)) yield* walk(ctx, child, true, kept);
    else if (entry.file && kept(child)) {
      const found = await item(ctx.dataDir, child);
      if (found) yield found;
    }
  }
  yield* walk(ctx, `${repo}/objects`, true, kept);
}

/** The live deployments' manifests, then every blob they name. */
async function* artifacts(ctx: ContentsContext): AsyncGenerator<Item> {
  const hashes = new Set<string>();
  const seen = new Set<string>();
  for (const entry of await list(join(ctx.dataDir, "artifacts", "manifests"))) {
    const id = entry.name.slice(0, -".json".length);
    const owner = OWNER.exec(id)?.[0];
    if (!entry.file || !entry.name.endsWith(".json") || !owner || !ctx.facts.live.has(owner)) continue;
    const path = `artifacts/manifests/${entry.name}`;
    const found = await item(ctx.dataDir, path);
    if (!found) continue;
    // Read whole (manifests are small) so the blobs named are exactly those of the bytes archived.
    const bytes = await collect(found.chunks);
    const manifest = parseManifest(JSON.parse(new TextDecoder().decode(bytes)));
    for (const { blob } of manifestBlobs(manifest)) hashes.add(blob.hash);
    seen.add(id);
    yield { ...found, size: bytes.length, chunks: [bytes] };
  }
  const lost = [...ctx.facts.ready].filter((id) => !seen.has(id));
  if (lost.length > 0) {
    if (!ctx.last) throw new Moved(`manifest of ${lost[0]}`);
    ctx.warn(`${lost.length} READY deployment(s) have no files in the artifact store, e.g. ${lost[0]}`);
  }
  let missing = 0;
  for (const hash of [...hashes].sort()) {
    if (!isSha256(hash)) continue;
    const found = await item(ctx.dataDir, `artifacts/blobs/${hash.slice(0, 2)}/${hash.slice(2)}`);
    if (found) yield { ...found, sha256: hash };
    else if (!ctx.last) throw new Moved(`blob ${hash}`);
    else missing += 1;
  }
  if (missing > 0) ctx.warn(`${missing} file(s) named by deployments are missing from the artifact store`);
}

/** Everything after the database snapshots, in archive order. */
export async function* backupContents(ctx: ContentsContext): AsyncGenerator<Item> {
  const key = await item(ctx.dataDir, "secret.key");
  if (key) yield key;
  yield* artifacts(ctx);
  for (const entry of await list(join(ctx.dataDir, "git"))) {
    if (entry.dir && PUSH_REPO_NAME.test(entry.name)) yield* gitRepository(ctx, `git/${entry.name}`);
  }
  // Anything else the platform keeps in its data directory (e.g. certificates): copied as it is.
  for (const entry of await list(ctx.dataDir)) {
    if (HANDLED.has(entry.name) || entry.name.startsWith(".")) continue;
    if (NOT_ARCHIVED_DIRS.has(entry.name) || NOT_ARCHIVED_FILES.test(entry.name)) continue;
    if (ctx.skip.has(join(ctx.dataDir, entry.name))) continue;
    if (entry.dir) yield* walk(ctx, entry.name, false);
    else if (entry.file) {
      const found = await item(ctx.dataDir, entry.name);
      if (found) yield found;
    }
  }
}

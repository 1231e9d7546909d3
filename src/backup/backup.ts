// `minivercel backup`: a consistent snapshot of an embedded-mode data directory, written as one .tar.gz file.
//
// Safe while a server runs on the directory: databases are copied with VACUUM INTO (one moment), then the files
// that moment needs (see contents.ts). The archive is written to <file>.partial and renamed when complete.

import { existsSync, mkdtempSync, renameSync, rmSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { VERSION } from "../config/version.ts";
import { AppError, badRequest } from "../errors.ts";
import { backupContents, type Item, Moved } from "./contents.ts";
import { BACKUP_FORMAT, type BackupFiles, type BackupHeader, FILES_ENTRY, HEADER_ENTRY } from "./format.ts";
import { type Meter, meter, type Output } from "./meter.ts";
import { snapshotDatabase, snapshotFacts } from "./snapshot.ts";
import { tarEnd, tarFile, toStream } from "./tar.ts";

/** Attempts before a backup whose files keep changing under it settles for warnings. */
const ATTEMPTS = 3;

export interface BackupOptions {
  dataDir: string;
  /** The archive to write; replaced only once the new one is complete. */
  file: string;
  /** True when env vars are encrypted with MINIVERCEL_SECRET_KEY (then it is not in the data directory). */
  secretKeyFromEnv: boolean;
  /** Progress and warnings (stderr). */
  out: Output;
  /** Called after each attempt's database snapshot: tests change the store there, as a running server would. */
  afterSnapshot?: (attempt: number) => Promise<void>;
}

export interface BackupSummary {
  file: string;
  files: number;
  /** Uncompressed bytes archived, and the archive's size. */
  bytes: number;
  archiveBytes: number;
  schemaVersion: number;
}

const json = (value: unknown) => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);

/** Streams the archive's bytes (tar, uncompressed) for one attempt, recording every file's checksum. */
async function* archive(
  header: BackupHeader,
  items: AsyncIterable<Item>,
  progress: Meter,
): AsyncGenerator<Uint8Array> {
  const now = new Date(header.createdAt);
  yield* tarFile(HEADER_ENTRY, json(header).length, [json(header)], { mtime: now });
  const list: BackupFiles["files"] = [];
  for await (const item of items) {
    const hasher = new Bun.CryptoHasher("sha256");
    async function* hashed(): AsyncGenerator<Uint8Array> {
      for await (const chunk of item.chunks) {
        hasher.update(chunk);
        progress.bytes(chunk.length);
        yield chunk;
      }
    }
    yield* tarFile(item.path, item.size, hashed(), { mode: item.mode, mtime: item.mtime });
    const sha256 = hasher.digest("hex");
    if (item.sha256 !== undefined && item.sha256 !== sha256) {
      throw new AppError("internal", `the artifact store is damaged: ${item.path} does not match its hash`);
    }
    list.push({ path: item.path, size: item.size, sha256 });
    progress.file();
  }
  const files = json({ files: list } satisfies BackupFiles);
  yield* tarFile(FILES_ENTRY, files.length, [files], { mtime: now });
  yield tarEnd();
}

/** Gzips the stream into `path` (0600: the archive holds the secret key) and fsyncs it; returns its size. */
async function writeGzip(path: string, tar: AsyncIterable<Uint8Array>): Promise<number> {
  const gz = toStream(tar).pipeThrough(new CompressionStream("gzip"));
  const handle = await open(path, "w", 0o600);
  let size = 0;
  try {
    for await (const chunk of gz) {
      await handle.write(chunk);
      size += chunk.length;
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  return size;
}

/** Writes the backup; throws AppError (bad_request) for a wrong data directory or output path. */
export async function createBackup(options: BackupOptions): Promise<BackupSummary> {
  const dataDir = resolve(options.dataDir);
  const target = resolve(options.file);
  const database = join(dataDir, "minivercel.db");
  if (!existsSync(database)) throw badRequest(`no minivercel database in ${dataDir} (check --data)`);
  if (!existsSync(dirname(target)) || !statSync(dirname(target)).isDirectory())
    throw badRequest(`cannot write ${target}: ${dirname(target)} is not a directory`);
  if (existsSync(target) && statSync(target).isDirectory())
    throw badRequest(`cannot write ${target}: it is a directory`);
  const partial = `${target}.partial`;
  // Beside the archive, not in /tmp: a database snapshot can be large, and /tmp is often memory.
  const work = mkdtempSync(join(dirname(target), `.${basename(target)}.work-`));
  const progress = meter(options.out, "Backing up");
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        progress.reset();
        snapshotDatabase(database, join(work, "minivercel.db"));
        const logs = join(dataDir, "logs.db");
        if (existsSync(logs)) snapshotDatabase(logs, join(work, "logs.db"));
        const facts = snapshotFacts(join(work, "minivercel.db"));
        await options.afterSnapshot?.(attempt);
        const header: BackupHeader = {
          format: BACKUP_FORMAT,
          minivercelVersion: VERSION,
          schemaVersion: facts.schemaVersion,
          createdAt: new Date().toISOString(),
          dataDir,
          secretKey: options.secretKeyFromEnv
            ? "environment"
            : existsSync(join(dataDir, "secret.key"))
              ? "file"
              : "none",
        };
        async function* items(): AsyncGenerator<Item> {
          for (const name of ["minivercel.db", "logs.db"]) {
            const snapshot = join(work, name);
            if (!existsSync(snapshot)) continue;
            const file = Bun.file(snapshot);
            yield { path: name, size: file.size, mode: 0o600, mtime: new Date(), chunks: file.stream() };
          }
          yield* backupContents({
            dataDir,
            work,
            facts,
            last: attempt === ATTEMPTS,
            skip: new Set([target, partial, work]),
            warn: (message) => progress.note(`warning: ${message}`),
          });
        }
        const archiveBytes = await writeGzip(partial, archive(header, items(), progress));
        renameSync(partial, target);
        const done = progress.done();
        return { file: target, ...done, archiveBytes, schemaVersion: facts.schemaVersion };
      } catch (error) {
        rmSync(partial, { force: true });
        if (!(error instanceof Moved)) {
          progress.abort();
          throw error;
        }
        progress.note(`the data changed while it was read (${error.message} is gone); starting again`);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

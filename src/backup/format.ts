// Backup archive layout: a header entry first, the data directory's files, then the file list with checksums.

import { type Static, Type } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { AppError } from "../errors.ts";
import { PUSH_REPO_NAME, repoFileRole } from "../git/repos.ts";
import { SQLITE_MIGRATIONS } from "../store/migrations.ts";
import { RUN_DIR } from "./serving.ts";

/** Bumped when the layout changes incompatibly; restore refuses formats it does not know. */
export const BACKUP_FORMAT = 1;
/** First entry: what the archive is, read before anything is extracted. */
export const HEADER_ENTRY = "minivercel-backup.json";
/** Last entry: every data entry's size and sha256 (known only once they are written, hence last). */
export const FILES_ENTRY = "minivercel-backup-files.json";

export const BackupHeader = Type.Object({
  format: Type.Integer({ minimum: 1 }),
  minivercelVersion: Type.String(),
  /** The database's migration version at the snapshot. */
  schemaVersion: Type.Integer({ minimum: 0 }),
  createdAt: Type.String(),
  /** The data directory backed up: push-to-deploy remotes name it, so restore rewrites them for a new one. */
  dataDir: Type.String(),
  /** Where the key that encrypts env vars came from: the archive's secret.key, or MINIVERCEL_SECRET_KEY. */
  secretKey: Type.Union([Type.Literal("file"), Type.Literal("environment"), Type.Literal("none")]),
});
export type BackupHeader = Static<typeof BackupHeader>;

export const BackupFiles = Type.Object({
  files: Type.Array(
    Type.Object({
      path: Type.String(),
      size: Type.Integer({ minimum: 0 }),
      sha256: Type.String({ pattern: "^[0-9a-f]{64}$" }),
    }),
  ),
});
export type BackupFiles = Static<typeof BackupFiles>;

const checkHeader = TypeCompiler.Compile(BackupHeader);
const checkFiles = TypeCompiler.Compile(BackupFiles);

/** The newest schema this binary can run (from the migrations list, so new migrations need no edit here). */
export const latestSchema = (): number => SQLITE_MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

/** A backup file that cannot be restored: exit 2, nothing touched. */
export const unusable = (file: string, why: string) =>
  new AppError("bad_request", `${file} is not a usable minivercel backup: ${why}`);

function parseJson(file: string, bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw unusable(file, `its ${what} is not JSON`);
  }
}

/** Validates the header; refuses other formats and schemas newer than this binary. */
export function parseHeader(file: string, bytes: Uint8Array): BackupHeader {
  const value = parseJson(file, bytes, "header");
  if (!checkHeader.Check(value)) throw unusable(file, "its header is malformed");
  if (value.format !== BACKUP_FORMAT)
    throw unusable(
      file,
      `archive format ${value.format} is not supported (this binary reads ${BACKUP_FORMAT})`,
    );
  if (value.schemaVersion > latestSchema()) {
    throw unusable(
      file,
      `it was made by minivercel ${value.minivercelVersion} with database schema ${value.schemaVersion}, newer than this binary supports (${latestSchema()}); upgrade minivercel`,
    );
  }
  return value;
}

export function parseFiles(file: string, bytes: Uint8Array): BackupFiles {
  const value = parseJson(file, bytes, "file list");
  if (!checkFiles.Check(value)) throw unusable(file, "its file list is malformed");
  return value;
}

/**
 * A safe relative path inside the data directory: forward slashes, no empty, "." or ".." segments, no control
 * characters. Restore writes only such paths, so an archive cannot place a file outside its target.
 */
export function isDataPath(path: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (path.length === 0 || path.length > 1024 || /[\\\u0000-\u001f\u007f]/.test(path)) return false;
  if (path === HEADER_ENTRY || path === FILES_ENTRY) return false;
  return path.split("/").every((s) => s !== "" && s !== "." && s !== "..");
}

/** Top-level folders a backup never holds: caches, builds in progress, the running servers' markers. */
export const NOT_ARCHIVED_DIRS = new Set(["cache", "builds", "blob-cache", RUN_DIR]);
/** Top-level files a backup never holds: sqlite's companions of a live database, earlier backups. */
export const NOT_ARCHIVED_FILES = /\.db-(wal|shm|journal)$|\.(tar\.gz|tgz|partial)$/;

/**
 * What restore does with an entry (a data path). It writes only what a backup holds, so a crafted archive
 * cannot plant anything git or the server would run: a file (`repo`: the push repository, `git/<id>.git`, it is in),
 * a push repository's config (rebuilt, never taken as is: src/git/repos.ts restoredRepoConfig), or nothing
 * (hooks and other repository internals, dot files, caches, a sqlite -wal that would rewrite the database).
 */
export type EntryRole =
  | { kind: "file"; repo: string | null }
  | { kind: "repo-config"; repo: string }
  | { kind: "left-out" };

export function entryRole(path: string): EntryRole {
  const [top = "", name = "", ...rest] = path.split("/");
  const leftOut: EntryRole = { kind: "left-out" };
  if (top.startsWith(".") || NOT_ARCHIVED_DIRS.has(top) || (name === "" && NOT_ARCHIVED_FILES.test(top))) {
    return leftOut;
  }
  if (top !== "git") return { kind: "file", repo: null };
  if (rest.length === 0 || !PUSH_REPO_NAME.test(name)) return leftOut;
  const repo = `git/${name}`;
  switch (repoFileRole(rest.join("/"))) {
    case "data":
      return { kind: "file", repo };
    case "config":
      return { kind: "repo-config", repo };
    case "other":
      return leftOut;
  }
}

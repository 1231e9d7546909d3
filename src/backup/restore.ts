// `minivercel restore`: unpacks a backup into a fresh directory beside the target, checks all of it, then renames
// it into place. Until that rename nothing in the target changes, so a bad archive or a full disk loses nothing.
// It writes only what a backup holds (format.ts entryRole): no git hooks, no repository config as archived.

import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { open } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { badRequest, conflict } from "../errors.ts";
import { REPO_SKELETON, restoredRepoConfig } from "../git/repos.ts";
import { DATA_FORMAT, readDataMarker } from "../store/data-format.ts";
import {
  type BackupHeader,
  entryRole,
  FILES_ENTRY,
  HEADER_ENTRY,
  isDataPath,
  parseFiles,
  parseHeader,
  unusable,
} from "./format.ts";
import { type Meter, meter, type Output } from "./meter.ts";
import { serversUsing } from "./serving.ts";
import { databaseIsSound, moveGitRemotes, snapshotFacts } from "./snapshot.ts";
import { collect, readTar, type TarEntry, TarError } from "./tar.ts";

export interface RestoreOptions {
  file: string;
  dataDir: string;
  /** Replace a non-empty data directory (its contents are moved aside, not deleted). */
  force: boolean;
  /** True when MINIVERCEL_SECRET_KEY is set for this installation. */
  secretKeyFromEnv: boolean;
  out: Output;
}

export interface RestoreSummary {
  dataDir: string;
  header: BackupHeader;
  files: number;
  bytes: number;
  /** Where the directory's previous contents went (with --force), else null. */
  previous: string | null;
  /** Things the operator must do or know (the secret key). */
  notes: string[];
}

/** Refuses a target a server uses, or (without force) one that holds anything. */
function checkTarget(target: string, force: boolean): void {
  const pid = serversUsing(target)[0];
  if (pid !== undefined)
    throw conflict(`a minivercel server (pid ${pid}) is using ${target}; stop it before restoring`);
  if (!existsSync(target)) return;
  if (!statSync(target).isDirectory()) throw badRequest(`${target} is not a directory`);
  if (readdirSync(target).length > 0 && !force) {
    throw conflict(
      `${target} is not empty; restore into an empty directory, or pass --force to replace it (its contents are kept aside)`,
    );
  }
}

/** The archive's bytes, gunzipped when gzip (what backup writes; a plain tar is accepted too). */
async function* archiveBytes(file: string): AsyncGenerator<Uint8Array> {
  const head = new Uint8Array(await Bun.file(file).slice(0, 2).arrayBuffer());
  const raw = Bun.file(file).stream();
  const stream =
    head[0] === 0x1f && head[1] === 0x8b ? raw.pipeThrough(new DecompressionStream("gzip")) : raw;
  try {
    for await (const chunk of stream) yield chunk;
  } catch (e) {
    throw new TarError(`it is corrupted or truncated (${e instanceof Error ? e.message : String(e)})`);
  }
}

async function smallBody(file: string, entry: TarEntry, limit: number): Promise<Uint8Array> {
  if (entry.size > limit) throw unusable(file, `its ${entry.path} is implausibly large`);
  return collect(entry.body);
}

/** Writes one entry under `root`, returning its sha256. */
async function writeEntry(root: string, entry: TarEntry, progress: Meter): Promise<string> {
  const path = join(root, ...entry.path.split("/"));
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // Owner-only and never executable: nothing restored is a program (the push hook is the platform's own).
  const handle = await open(path, "wx", 0o600);
  const hasher = new Bun.CryptoHasher("sha256");
  try {
    for await (const chunk of entry.body) {
      hasher.update(chunk);
      await handle.write(chunk);
      progress.bytes(chunk.length);
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  progress.file();
  return hasher.digest("hex");
}

/** Reads an entry that is not written, for its checksum. */
async function skipEntry(entry: TarEntry, progress: Meter): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of entry.body) {
    hasher.update(chunk);
    progress.bytes(chunk.length);
  }
  return hasher.digest("hex");
}

const sha256 = (bytes: Uint8Array) => new Bun.CryptoHasher("sha256").update(bytes).digest("hex");

/** Push repositories restored (`git/<id>.git`), each with the config its archive held (null: none). */
type Repos = Map<string, Uint8Array | null>;

/** What extraction wrote and left out. */
interface Extracted {
  header: BackupHeader;
  repos: Repos;
  /** Entries not written (see entryRole), and one of them for the operator's note. */
  leftOut: number;
  leftOutExample: string | null;
}

/** Extracts and verifies every file against the archive's own list; throws `unusable` on any mismatch. */
async function extract(file: string, root: string, progress: Meter): Promise<Extracted> {
  const entries = readTar(archiveBytes(file));
  const first = await entries.next();
  if (first.done || first.value.path !== HEADER_ENTRY)
    throw unusable(file, "it does not start with a minivercel backup header");
  const header = parseHeader(file, await smallBody(file, first.value, 64 * 1024));
  // Every entry read, written or not: the file list at the end checks them all.
  const written = new Map<string, { size: number; sha256: string }>();
  const dirs = new Set<string>();
  const repos: Repos = new Map();
  let leftOut = 0;
  let leftOutExample: string | null = null;
  let list: ReturnType<typeof parseFiles> | null = null;
  for await (const entry of entries) {
    if (list) throw unusable(file, "it has entries after its file list");
    if (entry.path === FILES_ENTRY) {
      list = parseFiles(file, await smallBody(file, entry, 256 * 1024 * 1024));
      continue;
    }
    if (!isDataPath(entry.path))
      throw unusable(file, `it has an entry with a disallowed path ${JSON.stringify(entry.path)}`);
    const parents = entry.path
      .split("/")
      .slice(0, -1)
      .map((_, i, all) => all.slice(0, i + 1).join("/"));
    if (written.has(entry.path) || dirs.has(entry.path) || parents.some((p) => written.has(p)))
      throw unusable(file, `${entry.path} appears twice`);
    for (const p of parents) dirs.add(p);
    const role = entryRole(entry.path);
    let digest: string;
    if (role.kind === "file") {
      digest = await writeEntry(root, entry, progress);
      if (role.repo !== null && !repos.has(role.repo)) repos.set(role.repo, null);
    } else if (role.kind === "repo-config") {
      // Read, not written: settleRepos writes the repository a config of ours.
      const config = await smallBody(file, entry, 1024 * 1024);
      digest = sha256(config);
      repos.set(role.repo, config);
      progress.bytes(config.length);
      progress.file();
    } else {
      digest = await skipEntry(entry, progress);
      leftOut += 1;
      leftOutExample ??= entry.path;
    }
    written.set(entry.path, { size: entry.size, sha256: digest });
  }
  if (!list) throw unusable(file, "it is truncated (the file list at its end is missing)");
  if (list.files.length !== written.size) throw unusable(file, "its file list does not match its contents");
  for (const expected of list.files) {
    const got = written.get(expected.path);
    if (!got || got.size !== expected.size || got.sha256 !== expected.sha256)
      throw unusable(file, `${expected.path} does not match its checksum`);
  }
  return { header, repos, leftOut, leftOutExample };
}

/**
 * Completes each restored push repository: the folders git needs (a backup holds no empty folder) and a
 * config of ours. Its hooks were left out; the server writes its own when it first opens the repository.
 */
function settleRepos(file: string, root: string, repos: Repos): void {
  for (const [repo, archived] of repos) {
    const config = restoredRepoConfig(archived);
    if (config === null)
      throw unusable(file, `its ${repo}/config is not a git config this binary can restore`);
    const dir = join(root, ...repo.split("/"));
    try {
      for (const sub of REPO_SKELETON) mkdirSync(join(dir, sub), { recursive: true, mode: 0o700 });
      writeFileSync(join(dir, "config"), config, { mode: 0o600, flag: "wx" });
    } catch {
      // A file where git keeps a folder (objects/pack, say): no backup holds that.
      throw unusable(file, `its ${repo} is not laid out as a git repository`);
    }
  }
}

/** The restored databases must open, pass sqlite's integrity check and carry the schema the header names. */
function verifyDatabases(file: string, root: string, header: BackupHeader): void {
  const main = join(root, "minivercel.db");
  if (!existsSync(main)) throw unusable(file, "it has no database");
  if (!databaseIsSound(main)) throw unusable(file, "its database is damaged");
  if (snapshotFacts(main).schemaVersion !== header.schemaVersion)
    throw unusable(file, "its database's schema does not match its header");
  const logs = join(root, "logs.db");
  if (existsSync(logs) && !databaseIsSound(logs)) throw unusable(file, "its log database is damaged");
  let format: number;
  try {
    format = readDataMarker(root)?.format ?? DATA_FORMAT;
  } catch {
    throw unusable(file, "its minivercel.json is malformed");
  }
  if (format > DATA_FORMAT)
    throw unusable(
      file,
      `its data format ${format} is newer than this binary supports (${DATA_FORMAT}); upgrade minivercel`,
    );
}

/** Renames the restored tree into place; a non-empty target (only with --force) is moved aside first. */
function swapIn(temp: string, target: string): string | null {
  if (!existsSync(target)) {
    renameSync(temp, target);
    return null;
  }
  if (readdirSync(target).length === 0) {
    rmdirSync(target);
    renameSync(temp, target);
    return null;
  }
  const aside = `${target}.before-restore-${new Date().toISOString().replace(/[:.]/g, "-")}`;
  renameSync(target, aside);
  renameSync(temp, target);
  return aside;
}

function secretNotes(header: BackupHeader, secretKeyFromEnv: boolean): string[] {
  if (header.secretKey === "environment" && !secretKeyFromEnv)
    return [
      "this backup's env vars are encrypted with the MINIVERCEL_SECRET_KEY its server used: set the same value before starting the server",
    ];
  if (header.secretKey === "file" && secretKeyFromEnv)
    return [
      "MINIVERCEL_SECRET_KEY is set and overrides the restored secret.key: unset it unless it holds the same key",
    ];
  return [];
}

/** Restores `file` into `dataDir`; AppErrors (exit 2) for a bad archive, a busy or non-empty target. */
export async function restoreBackup(options: RestoreOptions): Promise<RestoreSummary> {
  const file = resolve(options.file);
  const target = resolve(options.dataDir);
  if (!existsSync(file) || !statSync(file).isFile()) throw badRequest(`no backup file at ${file}`);
  checkTarget(target, options.force);
  mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
  // Beside the target, so the final rename stays on one file system.
  const temp = mkdtempSync(join(dirname(target), `.${basename(target)}.restore-`));
  const progress = meter(options.out, "Restoring");
  try {
    const { header, repos, leftOut, leftOutExample } = await extract(file, temp, progress);
    settleRepos(file, temp, repos);
    verifyDatabases(file, temp, header);
    moveGitRemotes(join(temp, "minivercel.db"), header.dataDir, target);
    // Again: a server may have started on the target while the archive was read.
    checkTarget(target, options.force);
    const previous = swapIn(temp, target);
    const totals = progress.done();
    return {
      dataDir: target,
      header,
      ...totals,
      previous,
      notes: [
        ...secretNotes(header, options.secretKeyFromEnv),
        // Backups by earlier versions held the repositories' hooks: expected for those, worth a look otherwise.
        ...(leftOut > 0
          ? [
              `left out ${leftOut} file(s) that restore never writes (git hooks and other repository internals, caches), e.g. ${leftOutExample}`,
            ]
          : []),
      ],
    };
  } catch (error) {
    progress.abort();
    rmSync(temp, { recursive: true, force: true });
    if (error instanceof TarError) throw unusable(file, error.message);
    throw error;
  }
}

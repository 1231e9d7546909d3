// Build step "upload", first move: list the regular files of a directory the build wrote, following symlinks only
// while they stay inside a boundary (a real path), holding the whole deployment to its file count and size limits.

import { lstat, readdir, realpath, stat } from "node:fs/promises";
import { join } from "node:path";
import { badRequest } from "../src/errors.ts";
import { FORBIDDEN_NAME_CHARS, isManifestPath } from "../src/store/artifacts.ts";
import { formatBytes } from "../src/utils/bytes.ts";
import { isWithin } from "./contained.ts";

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

/** One deployment's running count of files, bytes and directories, shared by every walk of its build. */
export interface Budget {
  readonly limits: UploadLimits;
  /** Counts one file; throws AppError (bad_request) naming the limit once one is passed. */
  file(path: string, size: number): void;
  directory(): void;
  readonly files: number;
  readonly bytes: number;
}

/** A budget; `noun` names what is counted in messages ("the output", "the deployment"). */
export function budget(limits: UploadLimits, noun = "the output"): Budget {
  let files = 0;
  let bytes = 0;
  let dirs = 0;
  return {
    limits,
    file(path, size) {
      if (size > limits.maxFileBytes)
        throw badRequest(
          `${path} is ${formatBytes(size)}, over the limit of ${formatBytes(limits.maxFileBytes)} per file`,
        );
      if (files >= limits.maxFiles)
        throw badRequest(`${noun} has more than ${limits.maxFiles} files, the limit per deployment`);
      files += 1;
      bytes += size;
      if (bytes > limits.maxTotalBytes)
        throw badRequest(
          `${noun} is over ${formatBytes(limits.maxTotalBytes)}, the limit per deployment (reached at ${path})`,
        );
    },
    directory() {
      dirs += 1;
      if (dirs > limits.maxFiles)
        throw badRequest(`${noun} has more than ${limits.maxFiles} directories, the limit per deployment`);
    },
    get files() {
      return files;
    },
    get bytes() {
      return bytes;
    },
  };
}

export interface Found {
  /** Relative to the walked root, leading "/", forward slashes. */
  path: string;
  /** Real path on disk to read the content from (a followed symlink's target). */
  abs: string;
  size: number;
  /** Any execute bit is set on the (real) file. */
  executable: boolean;
}

export interface WalkOptions {
  /** Symlinks are followed only while their real path lies inside this real path (default: the root itself)... */
  boundary?: string;
  /** ... named so in messages (default: "the output directory"). */
  boundaryName?: string;
  /** Entries left out without a word (relative path with a leading "/", and the entry's name). */
  skip?: (path: string, name: string) => boolean;
  /**
   * What is not deployable (a symlink out of the boundary, a broken one, a special file, a bad name): called with
   * the reason; it warns and the entry is skipped, or it throws and the deployment is refused.
   */
  problem: (message: string) => void;
}

const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/** Lists the regular files under `root` (a real directory), counting them against `limits`; sorted by path. */
export async function walk(root: string, limits: Budget, opts: WalkOptions): Promise<Found[]> {
  const boundary = opts.boundary ?? root;
  const found: Found[] = [];
  const add = (path: string, abs: string, info: { size: number; mode: number }) => {
    limits.file(path, info.size);
    found.push({ path, abs, size: info.size, executable: (info.mode & 0o111) !== 0 });
  };
  // `ancestors` holds the real paths of the directories being walked: a symlink back to one is a loop.
  const ancestors = new Set<string>();
  const descend = async (dirReal: string, prefix: string): Promise<void> => {
    limits.directory();
    ancestors.add(dirReal);
    const entries = await readdir(dirReal, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = `${prefix}/${entry.name}`;
      if (opts.skip?.(path, entry.name)) continue;
      const shown = JSON.stringify(path);
      // Bun decodes names that are not UTF-8 with U+FFFD: such a name could not be opened or served.
      if (FORBIDDEN_NAME_CHARS.test(entry.name) || entry.name.includes("\uFFFD") || !isManifestPath(path)) {
        opts.problem(`${shown}: the name has a backslash, a control character or invalid UTF-8`);
        continue;
      }
      const abs = join(dirReal, entry.name);
      if (entry.isSymbolicLink()) {
        let target: string;
        try {
          target = await realpath(abs);
        } catch {
          opts.problem(`${shown}: broken or looping symlink`);
          continue;
        }
        if (!isWithin(boundary, target)) {
          opts.problem(`${shown}: symlink points outside ${opts.boundaryName ?? "the output directory"}`);
          continue;
        }
        const info = await stat(target);
        if (info.isDirectory()) {
          if (ancestors.has(target)) opts.problem(`${shown}: symlink loop`);
          else await descend(target, path);
        } else if (info.isFile()) add(path, target, info);
        else opts.problem(`${shown}: symlink to something that is not a regular file`);
      } else if (entry.isDirectory()) await descend(abs, path);
      else if (entry.isFile()) add(path, abs, await lstat(abs));
      else opts.problem(`${shown}: not a regular file`);
    }
    ancestors.delete(dirReal);
  };
  await descend(root, "");
  return found.sort(byPath);
}

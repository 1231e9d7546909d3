// Data directory format: <data>/minivercel.json says which layout the directory has, so an older binary
// refuses a directory a newer one already changed instead of misreading it.

import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { VERSION } from "../config/version.ts";
import { AppError } from "../errors.ts";

/**
 * The layout of the data directory this binary reads and writes (which files and folders, and what is in
 * them). Bump it, with an upgrade step in `checkDataDir`, when a change would confuse an older binary.
 */
export const DATA_FORMAT = 1;

/** The marker's name inside the data directory. */
export const MARKER = "minivercel.json";

export interface DataMarker {
  /** Layout version of the directory. */
  format: number;
  /** The minivercel that last opened the directory (named in the refusal message). */
  version: string;
}

function parseMarker(path: string, text: string): DataMarker {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = null;
  }
  if (
    typeof value !== "object" ||
    value === null ||
    !("format" in value) ||
    !Number.isSafeInteger(value.format) ||
    Number(value.format) < 1
  ) {
    throw new AppError(
      "internal",
      `${path} is not a minivercel data format marker (expected {"format": <number>}); fix or remove it`,
    );
  }
  const version = "version" in value && typeof value.version === "string" ? value.version : "unknown";
  return { format: Number(value.format), version };
}

/** Reads the marker; null when the directory has none yet. */
export function readDataMarker(dataDir: string): DataMarker | null {
  const path = join(dataDir, MARKER);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if (typeof error === "object" && error !== null && "code" in error && error.code === "ENOENT")
      return null;
    throw error;
  }
  return parseMarker(path, text);
}

/** Written whole and renamed into place: a crash never leaves a torn marker that would refuse the next start. */
function writeMarker(dataDir: string, marker: DataMarker): void {
  const path = join(dataDir, MARKER);
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(marker, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, path);
}

/**
 * Called before anything else touches an existing data directory: refuses one a newer binary wrote (exit
 * with a message naming both versions), upgrades an older one, and marks a new one with this binary's format.
 */
export function checkDataDir(
  dataDir: string,
  binary = { format: DATA_FORMAT, version: VERSION },
): DataMarker {
  const found = readDataMarker(dataDir);
  if (found && found.format > binary.format) {
    throw new AppError(
      "internal",
      `data directory ${dataDir} has data format ${found.format} (last used by minivercel ${found.version}); ` +
        `this binary, minivercel ${binary.version}, supports data format ${binary.format} at most: upgrade minivercel`,
    );
  }
  // Format 1 is the first: nothing to upgrade yet. Later formats add their steps here, oldest first.
  const current: DataMarker = { format: binary.format, version: binary.version };
  if (!found || found.format !== current.format || found.version !== current.version)
    writeMarker(dataDir, current);
  return current;
}

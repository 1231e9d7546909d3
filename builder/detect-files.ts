// Detection's reads of a checkout: its top-level listing, package.json and small config files, each capped in
// size and read as text (never run, never followed outside the project).

import type { Dirent } from "node:fs";
import { lstat, readdir, readFile, stat } from "node:fs/promises";
import { badRequest } from "../src/errors.ts";

export interface Manifest {
  scripts: Record<string, unknown>;
  dependencies: Record<string, unknown>;
  devDependencies: Record<string, unknown>;
  packageManager: unknown;
}

/** The project dir's top level: `files` are regular files (the only ones read), `names` everything. */
export interface Listing {
  files: Set<string>;
  dirs: Set<string>;
  names: Set<string>;
}

const MAX_MANIFEST_BYTES = 1024 * 1024;
/** The most of a config file detection reads. */
export const MAX_CONFIG_BYTES = 256 * 1024;

export async function readManifest(path: string): Promise<Manifest> {
  const size = (await stat(path)).size;
  if (size > MAX_MANIFEST_BYTES) throw badRequest("package.json is larger than 1 MB");
  let raw: unknown;
  try {
    raw = JSON.parse((await readFile(path, "utf8")).replace(/^\uFEFF/, ""));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw badRequest(`package.json is not valid JSON: ${reason}`);
  }
  if (!isRecord(raw)) throw badRequest("package.json must contain a JSON object");
  const record = (key: string) => {
    const value = raw[key];
    return isRecord(value) ? value : {};
  };
  return {
    scripts: record("scripts"),
    dependencies: record("dependencies"),
    devDependencies: record("devDependencies"),
    packageManager: raw.packageManager,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export async function listDir(dir: string): Promise<Listing> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (isMissing(error)) throw badRequest("the project's root directory does not exist in the repository");
    throw error;
  }
  const named = (keep: (e: Dirent) => boolean) => new Set(entries.filter(keep).map((e) => e.name));
  return { files: named((e) => e.isFile()), dirs: named((e) => e.isDirectory()), names: named(() => true) };
}

export async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

/** A config's source without comments, so a commented-out option does not count; null if too big to be trivial. */
export async function readConfig(path: string): Promise<string | null> {
  if ((await stat(path)).size > MAX_CONFIG_BYTES) return null;
  const source = await readFile(path, "utf8");
  return source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

export async function readHead(path: string, bytes: number): Promise<string | null> {
  try {
    return await Bun.file(path).slice(0, bytes).text();
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
}

function isMissing(error: unknown): boolean {
  const code = error instanceof Error && "code" in error ? error.code : null;
  return code === "ENOENT" || code === "ENOTDIR";
}

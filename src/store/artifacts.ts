// Artifacts port: content-addressed blobs (sha256) plus one manifest per deployment (path -> blob).

import type { S3Config } from "../config/config.ts";
import { badRequest } from "../errors.ts";
import { parseSchedule } from "../model/cron.ts";

/** A precompressed copy of a file, stored as its own content-addressed blob. */
export interface ManifestVariant {
  /** sha256 of the compressed bytes. */
  hash: string;
  size: number;
}

export interface ManifestFile {
  /** sha256 of the content, 64 lowercase hex digits. */
  hash: string;
  /** Bytes. */
  size: number;
  /** Content type, with a charset for text (e.g. `text/html;charset=utf-8`). */
  type: string;
  /** gzip (level 9) of the content, present only when it is smaller (computed once, at deploy time). */
  gzip?: ManifestVariant;
  /** brotli (quality 11) of the content, present only when it is smaller. */
  br?: ManifestVariant;
}

/** A file of a function's bundle: relative path -> blob (functions are never served as files). */
export interface FunctionFile {
  hash: string;
  size: number;
  /** The file had an execute bit (a binary or script the function runs). */
  executable?: boolean;
}

/**
 * A server-side function of a deployment (Build Output API v3: `functions/<path>.func/`). Its configuration files
 * are blobs read by the runtime (src/runtime/), so that the manifest stays a file tree and their schema one place.
 */
export interface ManifestFunction {
  /** `.vc-config.json` of the function: runtime, handler, memory, maxDuration, environment. */
  config: ManifestVariant;
  /** `<path>.prerender-config.json` beside it, when the function's output may be cached (ISR). */
  prerender?: ManifestVariant;
  /** The prerender's fallback file (`<path>.prerender-fallback.<ext>`), served until the first render is cached. */
  fallback?: ManifestFile;
  /** Every file of the `.func` directory, by its path relative to it ("index.mjs", "node_modules/a/b.js"). */
  files: Record<string, FunctionFile>;
}

/**
 * An app server: the deployment's server files (the project after its build, or the server a framework wrote:
 * `.next/standalone`, `.output`) and the command that starts it there, listening on $PORT (src/runtime/apps.ts).
 */
export interface ManifestServer {
  /** A shell command line, run in the server's directory inside the sandbox. */
  command: string;
  /** Why this command: "the project's start command", "Next.js standalone output", ... (shown to the owner). */
  detected: string;
  /** Every file, by its path relative to the server's directory. */
  files: Record<string, FunctionFile>;
}

/** A cron job of a deployment: GET `path` (with its query) on the production URL when `schedule` is due (UTC). */
export interface ManifestCron {
  path: string;
  schedule: string;
}

/** As many as config.json may declare (Vercel's limit per project). */
export const MAX_CRONS = 100;

export interface Manifest {
  /** 1: static files only; 2: also a Build Output API config and functions. */
  version: 1 | 2;
  deploymentId: string;
  /** ISO-8601 time the build stored it. */
  createdAt: string;
  /** Keys are URL paths: "/index.html", "/assets/app.js" (see `isManifestPath`). Served as they are. */
  files: Record<string, ManifestFile>;
  /**
   * Build Output API v3 deployments: `.vercel/output/config.json` as a blob (its routes drive the proxy), and its
   * cron jobs as checked at deploy time (read without the config by the proxies' schedule and the dashboard).
   */
  buildOutput?: { config: ManifestVariant; crons?: ManifestCron[] };
  /** Functions by the path they answer at: "/api/hello" for `functions/api/hello.func` (see `isManifestPath`). */
  functions?: Record<string, ManifestFunction>;
  /** An app server answers what `files` do not (version 2). */
  server?: ManifestServer;
}

/** A stored blob as the garbage collector sees it. */
export interface StoredBlob {
  hash: string;
  /** When it was stored or last claimed (see `missing`): the garbage collector's grace period counts from here. */
  storedAt: Date;
}

export interface Artifacts {
  /**
   * Which of these hashes are not stored yet. The stored ones are claimed: their `storedAt` moves to about now,
   * so a garbage collection keeps them for its grace period while the caller's manifest is on its way.
   */
  missing(hashes: string[]): Promise<string[]>;
  /**
   * Stores a blob; the content's sha256 must equal `hash` (bad_request otherwise, nothing stored).
   * Storing an existing hash only claims it (as `missing` does). Atomic: a reader never sees a partial blob.
   */
  putBlob(hash: string, data: Blob | Uint8Array): Promise<void>;
  /** The blob, or null when it is not stored. On disk this is a `Bun.file`, so it can be streamed. */
  getBlob(hash: string): Promise<Blob | null>;
  /** Stores (or replaces) a deployment's manifest; refused when it references a blob not stored. */
  putManifest(manifest: Manifest): Promise<void>;
  getManifest(deploymentId: string): Promise<Manifest | null>;
  /** Removes the manifest (the blobs stay: other deployments may share them). Missing is fine. */
  deleteManifest(deploymentId: string): Promise<void>;
  /** The id of every stored manifest, in no particular order (garbage collection). */
  listManifests(): AsyncIterable<string>;
  /** Every stored blob, in no particular order (garbage collection). */
  listBlobs(): AsyncIterable<StoredBlob>;
  /**
   * Deletes a blob, but only when its `storedAt` (checked afresh, not from an earlier listing) is before
   * `storedBefore`: a blob claimed meanwhile by an upload stays. True when this call deleted it.
   */
  deleteBlob(hash: string, storedBefore: Date): Promise<boolean>;
  /** Reads answered from, and past, a local blob cache (S3 with a cache directory only); for /metrics. */
  cacheStats?(): { hits: number; misses: number };
}

export type ArtifactsConfig =
  | { kind: "disk"; dir: string }
  /** cacheDir: the proxies' bounded local blob cache (see openS3Artifacts). */
  | { kind: "s3"; s3: S3Config; cacheDir?: string };

/** Opens the configured artifact store; the S3 client is loaded only when it is used. */
export async function openArtifacts(config: ArtifactsConfig): Promise<Artifacts> {
  switch (config.kind) {
    case "disk": {
      const { openDiskArtifacts } = await import("./artifacts-disk.ts");
      return openDiskArtifacts(config.dir);
    }
    case "s3": {
      const { openS3Artifacts } = await import("./artifacts-s3.ts");
      return openS3Artifacts(config.s3, { cacheDir: config.cacheDir });
    }
  }
}

export function isSha256(s: string): boolean {
  return /^[0-9a-f]{64}$/.test(s);
}

/** Deployment ids are uuids; anything that could name another path is refused. */
export function isDeploymentId(s: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/.test(s);
}

/** Characters never allowed in a served file name: backslash, NUL and other control characters. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
export const FORBIDDEN_NAME_CHARS = /[\\\u0000-\u001f\u007f]/;

/** A manifest key: leading slash, forward slashes, no empty, "." or ".." segments, no forbidden characters. */
export function isManifestPath(p: string): boolean {
  if (!p.startsWith("/") || p.length > 4096 || FORBIDDEN_NAME_CHARS.test(p)) return false;
  return p
    .slice(1)
    .split("/")
    .every((segment) => segment !== "" && segment !== "." && segment !== "..");
}

export function assertSha256(hash: string): void {
  if (!isSha256(hash)) throw badRequest("blob hash must be 64 lowercase hex digits (sha256)", "hash");
}

export function assertDeploymentId(id: string): void {
  if (!isDeploymentId(id)) throw badRequest("invalid deployment id", "deploymentId");
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function parseVariant(path: string, name: string, value: unknown): ManifestVariant | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value)) throw badRequest(`manifest entry ${path} has a bad ${name} variant`);
  const { hash, size } = value;
  if (typeof hash !== "string" || !isSha256(hash))
    throw badRequest(`manifest entry ${path} has a bad ${name} hash`);
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0)
    throw badRequest(`manifest entry ${path} has a bad ${name} size`);
  return { hash, size };
}

/** Every blob a manifest entry names: the content and its compressed variants. */
export function blobsOf(file: ManifestFile): ManifestVariant[] {
  const out: ManifestVariant[] = [{ hash: file.hash, size: file.size }];
  if (file.gzip) out.push(file.gzip);
  if (file.br) out.push(file.br);
  return out;
}

/**
 * Every blob a manifest references, with where (for messages): static files and their variants, the Build
 * Output config, and each function's config, prerender files and bundle. What stores check before accepting a
 * manifest and what the garbage collector keeps.
 */
export function manifestBlobs(manifest: Manifest): { where: string; blob: ManifestVariant }[] {
  const out: { where: string; blob: ManifestVariant }[] = [];
  for (const [path, file] of Object.entries(manifest.files))
    for (const blob of blobsOf(file)) out.push({ where: path, blob });
  if (manifest.buildOutput) out.push({ where: "config.json", blob: manifest.buildOutput.config });
  for (const [path, fn] of Object.entries(manifest.functions ?? {})) {
    out.push({ where: `${path} (.vc-config.json)`, blob: fn.config });
    if (fn.prerender) out.push({ where: `${path} (prerender config)`, blob: fn.prerender });
    if (fn.fallback) for (const blob of blobsOf(fn.fallback)) out.push({ where: `${path} (fallback)`, blob });
    for (const [file, f] of Object.entries(fn.files))
      out.push({ where: `${path}/${file}`, blob: { hash: f.hash, size: f.size } });
  }
  for (const [file, f] of Object.entries(manifest.server?.files ?? {}))
    out.push({ where: `server/${file}`, blob: { hash: f.hash, size: f.size } });
  return out;
}

/** A function bundle's relative path: forward slashes, no empty, "." or ".." segments, no forbidden characters. */
export function isBundlePath(p: string): boolean {
  return !p.startsWith("/") && isManifestPath(`/${p}`);
}

function parseFile(path: string, file: unknown): ManifestFile {
  if (!isRecord(file)) throw badRequest(`manifest entry ${path} must be an object`);
  const { hash, size, type } = file;
  if (typeof hash !== "string" || !isSha256(hash)) throw badRequest(`manifest entry ${path} has a bad hash`);
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0)
    throw badRequest(`manifest entry ${path} has a bad size`);
  if (typeof type !== "string" || type === "" || FORBIDDEN_NAME_CHARS.test(type))
    throw badRequest(`manifest entry ${path} has a bad content type`);
  const gzip = parseVariant(path, "gzip", file.gzip);
  const br = parseVariant(path, "br", file.br);
  return { hash, size, type, ...(gzip && { gzip }), ...(br && { br }) };
}

function parseBlob(where: string, value: unknown): ManifestVariant {
  const blob = parseVariant(where, "blob", value);
  if (!blob) throw badRequest(`manifest entry ${where} is missing`);
  return blob;
}

function parseBundleFiles(what: string, value: unknown): Record<string, FunctionFile> {
  const files: Record<string, FunctionFile> = {};
  if (!isRecord(value)) throw badRequest(`manifest ${what} has no files`);
  for (const [name, file] of Object.entries(value)) {
    if (!isBundlePath(name)) throw badRequest(`manifest ${what} has a bad file path ${JSON.stringify(name)}`);
    const blob = parseBlob(`${what}/${name}`, file);
    const executable = isRecord(file) && file.executable === true;
    files[name] = { ...blob, ...(executable && { executable }) };
  }
  return files;
}

function parseServer(value: unknown): ManifestServer {
  if (!isRecord(value)) throw badRequest("manifest server must be an object");
  const { command, detected } = value;
  if (
    typeof command !== "string" ||
    command.trim() === "" ||
    command.length > 1000 ||
    // biome-ignore lint/suspicious/noControlCharactersInRegex: a command line is one line without NUL
    /[\u0000\r\n]/.test(command)
  )
    throw badRequest("manifest server command must be one line of at most 1000 characters");
  if (typeof detected !== "string" || detected.length > 200)
    throw badRequest("manifest server detected is bad");
  return { command, detected, files: parseBundleFiles("server", value.files) };
}

function parseFunction(path: string, value: unknown): ManifestFunction {
  if (!isRecord(value)) throw badRequest(`manifest function ${path} must be an object`);
  const files = parseBundleFiles(`function ${path}`, value.files);
  return {
    config: parseBlob(`${path} config`, value.config),
    ...(value.prerender !== undefined && { prerender: parseBlob(`${path} prerender`, value.prerender) }),
    ...(value.fallback !== undefined && { fallback: parseFile(`${path} fallback`, value.fallback) }),
    files,
  };
}

function parseCrons(value: unknown): ManifestCron[] {
  if (!Array.isArray(value) || value.length > MAX_CRONS)
    throw badRequest(`manifest crons must be an array of at most ${MAX_CRONS}`);
  return value.map((cron, i) => {
    if (!isRecord(cron) || typeof cron.path !== "string" || typeof cron.schedule !== "string")
      throw badRequest(`manifest crons[${i}] must have a path and a schedule`);
    if (!cron.path.startsWith("/") || cron.path.length > 512)
      throw badRequest(`manifest crons[${i}].path is not a path`);
    if (typeof parseSchedule(cron.schedule) === "string")
      throw badRequest(`manifest crons[${i}].schedule is not a cron schedule`);
    return { path: cron.path, schedule: cron.schedule };
  });
}

/** Narrows an untrusted value (a request, a stored JSON document) to a valid Manifest. */
export function parseManifest(value: unknown): Manifest {
  if (!isRecord(value) || (value.version !== 1 && value.version !== 2))
    throw badRequest("manifest must be an object with version 1 or 2");
  const { deploymentId, createdAt, files } = value;
  if (typeof deploymentId !== "string") throw badRequest("manifest deploymentId must be a string");
  assertDeploymentId(deploymentId);
  if (typeof createdAt !== "string" || Number.isNaN(Date.parse(createdAt)))
    throw badRequest("manifest createdAt must be an ISO-8601 time");
  if (!isRecord(files)) throw badRequest("manifest files must be an object");
  const out: Record<string, ManifestFile> = {};
  for (const [path, file] of Object.entries(files)) {
    if (!isManifestPath(path)) throw badRequest(`manifest path is not allowed: ${JSON.stringify(path)}`);
    out[path] = parseFile(path, file);
  }
  if (value.version === 1) return { version: 1, deploymentId, createdAt, files: out };
  const manifest: Manifest = { version: 2, deploymentId, createdAt, files: out };
  if (value.buildOutput !== undefined) {
    if (!isRecord(value.buildOutput)) throw badRequest("manifest buildOutput must be an object");
    manifest.buildOutput = { config: parseBlob("config.json", value.buildOutput.config) };
    if (value.buildOutput.crons !== undefined)
      manifest.buildOutput.crons = parseCrons(value.buildOutput.crons);
  }
  if (value.functions !== undefined) {
    if (!isRecord(value.functions)) throw badRequest("manifest functions must be an object");
    manifest.functions = {};
    for (const [path, fn] of Object.entries(value.functions)) {
      if (!isManifestPath(path))
        throw badRequest(`manifest function path is not allowed: ${JSON.stringify(path)}`);
      manifest.functions[path] = parseFunction(path, fn);
    }
  }
  if (value.server !== undefined) manifest.server = parseServer(value.server);
  return manifest;
}

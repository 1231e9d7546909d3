// Artifacts on S3 / R2 / MinIO: blobs at blobs/<aa>/<hash>, manifests at manifests/<id>.json, plus an optional
// bounded local blob cache for the proxies (content-addressed, so a cached blob never goes stale).
// A blob's LastModified is its `storedAt`; claiming it (see Artifacts.missing) copies the object onto itself.

import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { mkdir, open, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";

import type { S3Config } from "../config/config.ts";
import { badRequest } from "../errors.ts";
import { mapLimit } from "../utils/parallel.ts";
import {
  type Artifacts,
  assertDeploymentId,
  assertSha256,
  isDeploymentId,
  isSha256,
  manifestBlobs,
  parseManifest,
} from "./artifacts.ts";

export interface S3ArtifactsOptions {
  /** Local directory for the blob cache (proxies); without it `getBlob` reads each object into memory. */
  cacheDir?: string;
  /** Size bound of the blob cache; least recently used blobs are evicted past it. Default 1 GiB. */
  cacheMaxBytes?: number;
  /**
   * A claimed blob is copied onto itself (a new LastModified) only when older than this, default one minute:
   * one request saved per blob that several uploads name in a row, at the cost of a minute of grace.
   */
  claimAfterMs?: number;
}

/** HEAD requests in flight at once for `missing()` and `putManifest()`. */
const HEAD_CONCURRENCY = 32;
const DEFAULT_CACHE_BYTES = 1 << 30;
const DEFAULT_CLAIM_AFTER_MS = 60_000;

const blobKey = (hash: string) => `blobs/${hash.slice(0, 2)}/${hash}`;
const manifestKey = (id: string) => `manifests/${id}.json`;
const mismatch = (hash: string) => badRequest(`blob content does not match its sha256 ${hash}`, "hash");

/** HeadObject answers a bare 404 "NotFound", GetObject a "NoSuchKey"; NoSuchBucket and the rest are errors. */
const isNotFound = (e: unknown): boolean =>
  e instanceof Error && (e.name === "NotFound" || e.name === "NoSuchKey");

export function openS3Artifacts(config: S3Config, opts: S3ArtifactsOptions = {}): Artifacts {
  const client = new S3Client({
    region: config.region,
    credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
    // MinIO and moto want path-style URLs; R2 accepts both; AWS itself (no endpoint) gets virtual hosts.
    ...(config.endpoint !== null && { endpoint: config.endpoint, forcePathStyle: true }),
    // No default CRC32 on every request (not every S3-compatible store takes it): putBlob sends its own
    // sha256, and every blob read is checked against its hash here.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  const Bucket = config.bucket;
  const cache = opts.cacheDir
    ? openBlobCache(opts.cacheDir, opts.cacheMaxBytes ?? DEFAULT_CACHE_BYTES)
    : null;
  /** One upload / one download per hash at a time in this process. */
  const uploads = new Map<string, Promise<void>>();
  const downloads = new Map<string, Promise<Blob | null>>();
  const cacheStats = { hits: 0, misses: 0 };

  /** A plain Error naming the operation and the S3 error; the SDK's error (and so its request) is not kept. */
  function failure(op: string, key: string, e: unknown): Error {
    const status = e instanceof S3ServiceException ? ` (HTTP ${e.$metadata.httpStatusCode ?? "?"})` : "";
    const detail = e instanceof Error ? `${e.name}${status}: ${e.message}` : String(e);
    let message = `S3 ${op} s3://${Bucket}/${key} failed: ${detail}`;
    for (const secret of [config.secretAccessKey, config.accessKeyId]) {
      if (secret !== "") message = message.replaceAll(secret, "[redacted]");
    }
    return new Error(message);
  }

  /** Size and storedAt of the stored object, or null when absent. */
  async function headOf(key: string): Promise<{ size: number; storedAt: Date } | null> {
    try {
      const head = await client.send(new HeadObjectCommand({ Bucket, Key: key }));
      // No date would be a broken server; "just stored" keeps the blob from the collector.
      return { size: head.ContentLength ?? 0, storedAt: head.LastModified ?? new Date() };
    } catch (e) {
      if (isNotFound(e)) return null;
      throw failure("HeadObject", key, e);
    }
  }

  /** Size of the stored object, or null when absent. */
  async function sizeOf(key: string): Promise<number | null> {
    return (await headOf(key))?.size ?? null;
  }

  const claimAfterMs = opts.claimAfterMs ?? DEFAULT_CLAIM_AFTER_MS;

  /** Claims a stored blob (a fresh LastModified when it is older than claimAfterMs); false when it is gone. */
  async function claim(hash: string): Promise<boolean> {
    const key = blobKey(hash);
    const head = await headOf(key);
    if (head === null) return false;
    if (Date.now() - head.storedAt.getTime() < claimAfterMs) return true;
    try {
      await client.send(
        new CopyObjectCommand({
          Bucket,
          Key: key,
          CopySource: `${Bucket}/${key}`,
          // Copying an object onto itself is allowed only when something changes: the metadata, rewritten as is.
          MetadataDirective: "REPLACE",
          ContentType: "application/octet-stream",
          Metadata: { sha256: hash },
        }),
      );
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw failure("CopyObject", key, e);
    }
  }

  /** Every object under `prefix`, page by page. */
  async function* listObjects(prefix: string): AsyncGenerator<{ key: string; storedAt: Date }> {
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await client.send(
          new ListObjectsV2Command({ Bucket, Prefix: prefix, ContinuationToken: token }),
        );
      } catch (e) {
        throw failure("ListObjectsV2", prefix, e);
      }
      for (const o of page.Contents ?? []) {
        if (o.Key) yield { key: o.Key, storedAt: o.LastModified ?? new Date() };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** The object's body and length, or null when absent. */
  async function getObject(key: string): Promise<{ body: ReadableStream<Uint8Array>; size: number } | null> {
    try {
      const out = await client.send(new GetObjectCommand({ Bucket, Key: key }));
      if (!out.Body) throw new Error("no body");
      return { body: out.Body.transformToWebStream(), size: out.ContentLength ?? 0 };
    } catch (e) {
      if (isNotFound(e)) return null;
      throw failure("GetObject", key, e);
    }
  }

  async function putObject(
    key: string,
    body: Uint8Array | string,
    extra: Partial<PutObjectCommand["input"]>,
  ) {
    try {
      await client.send(new PutObjectCommand({ Bucket, Key: key, Body: body, ...extra }));
    } catch (e) {
      throw failure("PutObject", key, e);
    }
  }

  async function upload(hash: string, bytes: Uint8Array, sha256: string): Promise<void> {
    // Each blob is uploaded once: a stored hash is a stored content (claimed here for the caller's manifest).
    if (await claim(hash)) return;
    await putObject(blobKey(hash), bytes, {
      ContentType: "application/octet-stream",
      ContentLength: bytes.length,
      // The store checks the bytes it received against this (end-to-end integrity).
      ChecksumAlgorithm: "SHA256",
      ChecksumSHA256: sha256,
      Metadata: { sha256: hash },
    });
  }

  /** Reads a blob from S3, checking its content against the hash; into the cache when there is one. */
  async function download(hash: string): Promise<Blob | null> {
    const object = await getObject(blobKey(hash));
    if (object === null) return null;
    if (cache && object.size <= cache.maxBytes) return cache.fill(hash, object.body);
    const bytes = new Uint8Array(await new Response(object.body).arrayBuffer());
    if (new Bun.CryptoHasher("sha256").update(bytes).digest("hex") !== hash) {
      throw new Error(`S3 object ${blobKey(hash)} does not match its sha256`);
    }
    return new Blob([bytes], { type: "application/octet-stream" });
  }

  return {
    ...(cache && { cacheStats: () => ({ ...cacheStats }) }),

    async missing(hashes) {
      const unique = [...new Set(hashes)];
      for (const h of unique) assertSha256(h);
      const stored = await mapLimit(unique, HEAD_CONCURRENCY, claim);
      return unique.filter((_, i) => !stored[i]);
    },

    async putBlob(hash, data) {
      assertSha256(hash);
      const bytes = data instanceof Uint8Array ? data : new Uint8Array(await data.arrayBuffer());
      const digest = new Bun.CryptoHasher("sha256").update(bytes).digest();
      // Checked even when the blob is stored already, so a wrong hash is refused the same way every time.
      if (digest.toString("hex") !== hash) throw mismatch(hash);
      const running = uploads.get(hash);
      if (running) return running;
      const started = upload(hash, bytes, digest.toString("base64")).finally(() => uploads.delete(hash));
      uploads.set(hash, started);
      return started;
    },

    async getBlob(hash) {
      assertSha256(hash);
      const cached = cache?.get(hash);
      if (cached) {
        cacheStats.hits++;
        return cached;
      }
      if (cache) cacheStats.misses++;
      const running = downloads.get(hash);
      if (running) return running;
      const started = download(hash).finally(() => downloads.delete(hash));
      downloads.set(hash, started);
      return started;
    },

    async putManifest(manifest) {
      const checked = parseManifest(manifest);
      const files = manifestBlobs(checked).map(({ where, blob }) => [where, blob] as const);
      const hashes = [...new Set(files.map(([, f]) => f.hash))];
      const sizes = await mapLimit(hashes, HEAD_CONCURRENCY, (h) => sizeOf(blobKey(h)));
      const stored = new Map(hashes.map((h, i) => [h, sizes[i] ?? null]));
      const absent = hashes.filter((h) => stored.get(h) === null);
      if (absent.length > 0) {
        throw badRequest(
          `manifest references ${absent.length} blob(s) not stored, e.g. ${absent.slice(0, 3).join(", ")}`,
        );
      }
      const wrong = files.find(([, f]) => stored.get(f.hash) !== f.size);
      if (wrong) throw badRequest(`manifest size of ${wrong[0]} does not match its stored blob`);
      await putObject(manifestKey(checked.deploymentId), JSON.stringify(checked), {
        ContentType: "application/json",
      });
    },

    async getManifest(deploymentId) {
      assertDeploymentId(deploymentId);
      const object = await getObject(manifestKey(deploymentId));
      if (object === null) return null;
      return parseManifest(JSON.parse(await new Response(object.body).text()));
    },

    async deleteManifest(deploymentId) {
      assertDeploymentId(deploymentId);
      const key = manifestKey(deploymentId);
      try {
        // S3 answers 204 whether or not the key existed.
        await client.send(new DeleteObjectCommand({ Bucket, Key: key }));
      } catch (e) {
        throw failure("DeleteObject", key, e);
      }
    },

    async *listManifests() {
      for await (const { key } of listObjects("manifests/")) {
        const id = key.slice("manifests/".length, -".json".length);
        if (key.endsWith(".json") && isDeploymentId(id)) yield id;
      }
    },

    async *listBlobs() {
      for await (const { key, storedAt } of listObjects("blobs/")) {
        const hash = key.slice("blobs/xx/".length);
        if (isSha256(hash) && key === blobKey(hash)) yield { hash, storedAt };
      }
    },

    async deleteBlob(hash, storedBefore) {
      assertSha256(hash);
      const key = blobKey(hash);
      // S3 has no conditional delete: this HEAD is the fresh check, one round trip before the DELETE, so an
      // upload has to claim the blob and land its manifest inside that round trip to lose it.
      const head = await headOf(key);
      if (head === null || head.storedAt.getTime() >= storedBefore.getTime()) return false;
      try {
        await client.send(new DeleteObjectCommand({ Bucket, Key: key }));
      } catch (e) {
        throw failure("DeleteObject", key, e);
      }
      return true;
    },
  };
}

/**
 * The proxies' local blob cache: <dir>/blobs/<aa>/<hash>, written via <dir>/tmp and renamed, bounded by
 * `maxBytes`. Eviction is least recently used within this process, and oldest-downloaded-first across
 * restarts (the index is rebuilt from the files' mtimes). One process per directory: it owns the index.
 */
function openBlobCache(dir: string, maxBytes: number) {
  const blobs = join(dir, "blobs");
  const tmp = join(dir, "tmp");
  rmSync(tmp, { recursive: true, force: true });
  for (const d of [blobs, tmp]) mkdirSync(d, { recursive: true, mode: 0o700 });
  const path = (hash: string) => join(blobs, hash.slice(0, 2), hash);

  /** hash -> size, oldest access first (a Map iterates in insertion order; a hit re-inserts). */
  const index = new Map<string, number>();
  let total = 0;
  const found: { hash: string; size: number; mtime: number }[] = [];
  for (const prefix of readdirSync(blobs)) {
    for (const hash of readdirSync(join(blobs, prefix))) {
      const st = statSync(join(blobs, prefix, hash));
      found.push({ hash, size: st.size, mtime: st.mtimeMs });
    }
  }
  for (const f of found.sort((a, b) => a.mtime - b.mtime)) {
    index.set(f.hash, f.size);
    total += f.size;
  }

  async function evict() {
    for (const [hash, size] of index) {
      if (total <= maxBytes) return;
      index.delete(hash);
      total -= size;
      // A response already streaming the file keeps its descriptor; one not yet opened would fail, which is
      // why the most recently returned blobs go last.
      await unlink(path(hash)).catch(() => {});
    }
  }

  return {
    maxBytes,

    get(hash: string): Blob | null {
      const size = index.get(hash);
      if (size === undefined) return null;
      index.delete(hash);
      index.set(hash, size);
      return Bun.file(path(hash));
    },

    /** Writes the stream to the cache, verifying it against `hash`, and returns the cached file. */
    async fill(hash: string, body: ReadableStream<Uint8Array>): Promise<Blob> {
      const temp = join(tmp, `${crypto.randomUUID()}.tmp`);
      const hasher = new Bun.CryptoHasher("sha256");
      const file = await open(temp, "wx", 0o600);
      let size = 0;
      try {
        for await (const chunk of body) {
          hasher.update(chunk);
          await file.write(chunk);
          size += chunk.length;
        }
        await file.sync();
        await file.close();
        if (hasher.digest("hex") !== hash)
          throw new Error(`S3 object ${blobKey(hash)} does not match its sha256`);
        await mkdir(join(blobs, hash.slice(0, 2)), { recursive: true, mode: 0o700 });
        await rename(temp, path(hash));
      } catch (e) {
        await file.close().catch(() => {});
        await unlink(temp).catch(() => {});
        throw e;
      }
      total += size - (index.get(hash) ?? 0);
      index.delete(hash);
      index.set(hash, size);
      await evict();
      return Bun.file(path(hash));
    },
  };
}

// Runs the artifacts contract on S3 (moto, in a fresh bucket per run), plus upload-once and the local blob cache.

import { afterAll, expect, test } from "bun:test";
import { readdirSync, statSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import type { S3Config } from "../config/config.ts";
import { AppError } from "../errors.ts";
import { testService } from "../testing/services.ts";
import { artifactsContract, blob, sha256 } from "./artifacts.contract.ts";
import { type Artifacts, openArtifacts } from "./artifacts.ts";
import { openS3Artifacts } from "./artifacts-s3.ts";

interface Server {
  config: S3Config;
  /** A client of our own, to look at and tamper with the bucket behind the store's back. */
  admin: S3Client;
}

/** Fake credentials: moto accepts any. */
const credentials = { accessKeyId: "AKIAMINIVERCELTEST", secretAccessKey: "minivercel-test-secret" };

async function connect(): Promise<Server> {
  const url = testService("moto");
  const config: S3Config = {
    endpoint: url,
    region: "us-east-1",
    bucket: `minivercel-test-${crypto.randomUUID()}`,
    ...credentials,
    publicUrl: null,
  };
  const admin = new S3Client({ endpoint: url, region: config.region, forcePathStyle: true, credentials });
  await admin.send(new CreateBucketCommand({ Bucket: config.bucket })).catch((e: unknown) => {
    throw new Error(`no S3 for the artifacts tests at ${url}: ${e instanceof Error ? e.message : String(e)}`);
  });
  return { config, admin };
}

// Setup runs once, on first use; a missing server fails every test rather than skipping it.
let setup: Promise<Server> | null = null;
const server = (): Promise<Server> => {
  setup ??= connect();
  return setup;
};

afterAll(async () => {
  const started = await setup?.catch(() => null);
  if (!started) return;
  const { admin, config } = started;
  const Bucket = config.bucket;
  for (;;) {
    const page = await admin.send(new ListObjectsV2Command({ Bucket }));
    const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
    if (keys.length === 0) break;
    await admin.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: keys } }));
  }
  await admin.send(new DeleteBucketCommand({ Bucket }));
  admin.destroy();
});

const tempDir = () => mkdtemp(join(tmpdir(), "minivercel-s3-cache-"));
const blobKey = (hash: string) => `blobs/${hash.slice(0, 2)}/${hash}`;

let shared: Artifacts | null = null;
// The default claimAfterMs (a minute) is too long for the contract's claim case: see the claim test below.
artifactsContract(
  "s3 (moto)",
  async () => {
    const { config } = await server();
    shared ??= await openArtifacts({ kind: "s3", s3: config });
    return shared;
  },
  { claimAfterMs: 60_000 },
);
artifactsContract(
  "s3 (moto) with a local blob cache",
  async () => openArtifacts({ kind: "s3", s3: (await server()).config, cacheDir: await tempDir() }),
  { claimAfterMs: 60_000 },
);
artifactsContract("s3 (moto), claims always copy", async () =>
  openS3Artifacts((await server()).config, { claimAfterMs: 0 }),
);

/** A pass-through proxy in front of S3 that records "METHOD /path" of every request. */
function recordingProxy(target: string) {
  const requests: string[] = [];
  const proxy = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      requests.push(`${req.method} ${url.pathname}`);
      const body = req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer();
      const res = await fetch(`${target}${url.pathname}${url.search}`, {
        method: req.method,
        headers: req.headers,
        body,
      });
      return new Response(req.method === "HEAD" ? null : res.body, {
        status: res.status,
        headers: res.headers,
      });
    },
  });
  return { url: `http://127.0.0.1:${proxy.port}`, requests, stop: () => proxy.stop(true) };
}

test("s3: a blob already stored is not uploaded again, concurrent puts upload once", async () => {
  const { config } = await server();
  const proxy = recordingProxy(config.endpoint ?? "");
  try {
    const store = openS3Artifacts({ ...config, endpoint: proxy.url });
    const puts = (hash: string) =>
      proxy.requests.filter((r) => r === `PUT /${config.bucket}/${blobKey(hash)}`).length;
    const a = blob("once");
    await store.putBlob(a.hash, a.data);
    await store.putBlob(a.hash, a.data);
    await store.putBlob(a.hash, new Blob([a.data]));
    // Another process (another client) sees it stored too.
    await openS3Artifacts({ ...config, endpoint: proxy.url }).putBlob(a.hash, a.data);
    expect(puts(a.hash)).toBe(1);
    const b = blob("concurrent");
    await Promise.all(Array.from({ length: 8 }, () => store.putBlob(b.hash, b.data)));
    expect(puts(b.hash)).toBe(1);
    expect(await store.missing([a.hash, b.hash])).toEqual([]);
  } finally {
    proxy.stop();
  }
});

test("s3: object layout, content type and stored sha256", async () => {
  const { config, admin } = await server();
  const store = openS3Artifacts(config);
  const a = blob();
  await store.putBlob(a.hash, a.data);
  const head = await admin.send(
    new HeadObjectCommand({ Bucket: config.bucket, Key: blobKey(a.hash), ChecksumMode: "ENABLED" }),
  );
  expect(head.ContentType).toBe("application/octet-stream");
  expect(head.ContentLength).toBe(a.data.length);
  expect(head.Metadata?.sha256).toBe(a.hash);
  expect(head.ChecksumSHA256).toBe(Buffer.from(a.hash, "hex").toString("base64"));
  const id = crypto.randomUUID();
  await store.putManifest({
    version: 1,
    deploymentId: id,
    createdAt: new Date().toISOString(),
    files: { "/a.txt": { hash: a.hash, size: a.data.length, type: "text/plain" } },
  });
  const manifest = await admin.send(
    new HeadObjectCommand({ Bucket: config.bucket, Key: `manifests/${id}.json` }),
  );
  expect(manifest.ContentType).toBe("application/json");
});

test("s3: the local cache serves a blob after its object is gone, and survives a restart", async () => {
  const { config, admin } = await server();
  const cacheDir = await tempDir();
  const store = openS3Artifacts(config, { cacheDir });
  const a = blob("cached");
  const b = blob("never read");
  await store.putBlob(a.hash, a.data);
  await store.putBlob(b.hash, b.data);
  const first = await store.getBlob(a.hash);
  expect(first && "name" in first ? first.name : null).toBe(
    join(cacheDir, "blobs", a.hash.slice(0, 2), a.hash),
  );
  for (const h of [a.hash, b.hash])
    await admin.send(new DeleteObjectCommand({ Bucket: config.bucket, Key: blobKey(h) }));
  expect(await openS3Artifacts(config).getBlob(a.hash)).toBeNull();
  expect(await ((await store.getBlob(a.hash)) as Blob).text()).toBe(new TextDecoder().decode(a.data));
  expect(await store.getBlob(b.hash)).toBeNull();
  // For /metrics: a then a again (hit), then b (miss); without a cache there is nothing to count.
  expect(store.cacheStats?.()).toEqual({ hits: 1, misses: 2 });
  expect(openS3Artifacts(config).cacheStats).toBeUndefined();
  const restarted = openS3Artifacts(config, { cacheDir });
  expect(await ((await restarted.getBlob(a.hash)) as Blob).text()).toBe(new TextDecoder().decode(a.data));
});

test("s3: the cache stays under its size bound, evicting the least recently used", async () => {
  const { config, admin } = await server();
  const cacheDir = await tempDir();
  const store = openS3Artifacts(config, { cacheDir, cacheMaxBytes: 3000 });
  const blobs = Array.from({ length: 4 }, () => {
    const data = crypto.getRandomValues(new Uint8Array(1000));
    return { data, hash: sha256(data) };
  });
  const big = crypto.getRandomValues(new Uint8Array(5000));
  for (const x of [...blobs, { data: big, hash: sha256(big) }]) await store.putBlob(x.hash, x.data);
  const [b0, b1, b2, b3] = blobs.map((x) => x.hash);
  const cachedFiles = () =>
    readdirSync(join(cacheDir, "blobs")).flatMap((d) =>
      readdirSync(join(cacheDir, "blobs", d)).map((f) => join(cacheDir, "blobs", d, f)),
    );
  for (const h of [b0, b1, b2, b0, b3]) expect((await store.getBlob(h as string))?.size).toBe(1000);
  // b1 was the least recently used when b3 came in.
  expect(
    cachedFiles()
      .map((f) => f.slice(-64))
      .sort(),
  ).toEqual([b0, b2, b3].sort() as string[]);
  // Larger than the whole bound: served from memory, not cached.
  expect((await store.getBlob(sha256(big)))?.size).toBe(5000);
  const files = cachedFiles();
  expect(files).toHaveLength(3);
  expect(files.reduce((sum, f) => sum + statSync(f).size, 0)).toBeLessThanOrEqual(3000);
  for (const x of blobs)
    await admin.send(new DeleteObjectCommand({ Bucket: config.bucket, Key: blobKey(x.hash) }));
  for (const h of [b0, b2, b3]) expect((await store.getBlob(h as string))?.size).toBe(1000);
  expect(await store.getBlob(b1 as string)).toBeNull();
});

test("s3: an object whose content does not match its key is refused, and not cached", async () => {
  const { config, admin } = await server();
  const cacheDir = await tempDir();
  const claimed = blob("claimed");
  await admin.send(
    new PutObjectCommand({ Bucket: config.bucket, Key: blobKey(claimed.hash), Body: blob("tampered").data }),
  );
  for (const store of [openS3Artifacts(config), openS3Artifacts(config, { cacheDir })]) {
    const error = await store.getBlob(claimed.hash).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect(String(error)).toContain("does not match its sha256");
  }
  expect(readdirSync(join(cacheDir, "blobs"))).toEqual([]);
  expect(readdirSync(join(cacheDir, "tmp"))).toEqual([]);
});

test("s3: failures propagate as plain Errors that name the operation, never the credentials", async () => {
  const { config } = await server();
  const secret = `do-not-leak-${crypto.randomUUID()}`;
  const errorOf = (p: Promise<unknown>) =>
    p.then(
      () => null,
      (e: unknown) => e,
    );
  const a = blob();
  const noBucket = openS3Artifacts({
    ...config,
    bucket: `minivercel-absent-${crypto.randomUUID()}`,
    secretAccessKey: secret,
  });
  const noServer = openS3Artifacts({ ...config, endpoint: "http://127.0.0.1:9", secretAccessKey: secret });
  for (const [error, expected] of [
    [await errorOf(noBucket.putBlob(a.hash, a.data)), "NoSuchBucket"],
    [await errorOf(noBucket.getManifest(crypto.randomUUID())), "NoSuchBucket"],
    [await errorOf(noServer.getBlob(a.hash)), "GetObject"],
  ] as const) {
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(AppError);
    const message = String(error);
    expect(message).toContain(expected);
    expect(message).not.toContain(secret);
    expect(message).not.toContain(credentials.accessKeyId);
  }
});

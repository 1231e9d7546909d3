// Runs the artifacts contract on local disk, plus the on-disk layout and atomic-write guarantees.

import { expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, renameSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { artifactsContract, blob, expectCode } from "./artifacts.contract.ts";
import { openArtifacts } from "./artifacts.ts";
import { openDiskArtifacts } from "./artifacts-disk.ts";

const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

const shared = tempDir("minivercel-artifacts-");
artifactsContract("disk (shared dir)", async () => openArtifacts({ kind: "disk", dir: shared }));
artifactsContract("disk (fresh dir)", async () => openDiskArtifacts(tempDir("minivercel-artifacts-")));

test("disk layout: blobs/<aa>/<rest>, manifests/<id>.json, no temp files left behind", async () => {
  const dir = tempDir("minivercel-artifacts-");
  const store = openDiskArtifacts(dir);
  const a = blob();
  await store.putBlob(a.hash, a.data);
  expect(existsSync(join(dir, "blobs", a.hash.slice(0, 2), a.hash.slice(2)))).toBe(true);
  await expectCode(store.putBlob(blob().hash, a.data), "bad_request");
  const id = crypto.randomUUID();
  await store.putManifest({
    version: 1,
    deploymentId: id,
    createdAt: new Date().toISOString(),
    files: { "/a": { hash: a.hash, size: a.data.length, type: "application/octet-stream" } },
  });
  expect(existsSync(join(dir, "manifests", `${id}.json`))).toBe(true);
  expect(readdirSync(join(dir, "tmp"))).toEqual([]);
  // One blob directory, one blob: the refused put left nothing.
  expect(readdirSync(join(dir, "blobs")).flatMap((d) => readdirSync(join(dir, "blobs", d)))).toHaveLength(1);
});

test("disk: getBlob returns a Bun.file of the stored blob", async () => {
  const dir = tempDir("minivercel-artifacts-");
  const store = openDiskArtifacts(dir);
  const a = blob();
  await store.putBlob(a.hash, a.data);
  const file = await store.getBlob(a.hash);
  expect(file && "name" in file ? file.name : null).toBe(
    join(dir, "blobs", a.hash.slice(0, 2), a.hash.slice(2)),
  );
});

test("disk: a manifest whose size disagrees with the stored blob is refused", async () => {
  const store = openDiskArtifacts(tempDir("minivercel-artifacts-"));
  const a = blob();
  await store.putBlob(a.hash, a.data);
  const id = crypto.randomUUID();
  await expectCode(
    store.putManifest({
      version: 1,
      deploymentId: id,
      createdAt: new Date().toISOString(),
      files: { "/a": { hash: a.hash, size: a.data.length + 1, type: "text/plain" } },
    }),
    "bad_request",
  );
  expect(await store.getManifest(id)).toBeNull();
});

test("disk: a blob a collector left aside (it crashed while deciding) is put back when the store opens", async () => {
  const dir = tempDir("minivercel-artifacts-");
  const store = openDiskArtifacts(dir);
  const a = blob();
  await store.putBlob(a.hash, a.data);
  renameSync(
    join(dir, "blobs", a.hash.slice(0, 2), a.hash.slice(2)),
    join(dir, "tmp", `gc-${a.hash}-crashed`),
  );
  expect(await store.missing([a.hash])).toEqual([a.hash]);
  const reopened = openDiskArtifacts(dir);
  expect(await reopened.missing([a.hash])).toEqual([]);
  expect(readdirSync(join(dir, "tmp"))).toEqual([]);
});

test("disk: a blob's storedAt is its mtime, and a claim moves it to now", async () => {
  const dir = tempDir("minivercel-artifacts-");
  const store = openDiskArtifacts(dir);
  const a = blob();
  await store.putBlob(a.hash, a.data);
  const old = new Date(Date.now() - 3_600_000);
  utimesSync(join(dir, "blobs", a.hash.slice(0, 2), a.hash.slice(2)), old, old);
  const storedAt = async () => {
    for await (const b of store.listBlobs()) if (b.hash === a.hash) return b.storedAt.getTime();
    return null;
  };
  expect(await storedAt()).toBe(old.getTime());
  const cutoff = new Date(Date.now() - 60_000);
  expect(await store.missing([a.hash])).toEqual([]);
  expect(await storedAt()).toBeGreaterThan(cutoff.getTime());
  expect(await store.deleteBlob(a.hash, cutoff)).toBe(false);
  expect(readdirSync(join(dir, "tmp"))).toEqual([]);
});

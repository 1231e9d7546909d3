// Proxy: file bodies; a blob that cannot be read answers null (the proxy's 502) and is logged with its hash.

import { expect, test } from "bun:test";
import { captureLog } from "../testing/metrics.ts";
import { type BodyRef, createBodies } from "./bodies.ts";

test("an unreadable small blob is null, logged with its hash, and not cached", async () => {
  const { log, lines } = captureLog();
  // Like a file removed between the lookup and the read.
  class Unreadable extends Blob {
    override bytes(): Promise<Uint8Array<ArrayBuffer>> {
      return Promise.reject(new Error("ENOENT: gone"));
    }
  }
  const unreadable = new Unreadable(["abc"]);
  let reads = 0;
  const bodies = createBodies(
    {
      getBlob: async () => {
        reads++;
        return unreadable;
      },
    },
    { maxBytes: 1024, maxItemBytes: 100 },
    log,
  );
  expect(await bodies.get("h1", 3)).toBeNull();
  expect(await bodies.get("h1", 3)).toBeNull();
  expect(reads).toBe(2);
  expect(lines).toHaveLength(2);
  expect(lines[0]).toEqual(
    expect.objectContaining({
      level: "error",
      msg: "cannot read blob",
      hash: "h1",
      size: 3,
      error: expect.objectContaining({ message: "ENOENT: gone" }),
    }),
  );
});

test("a caller's kept entry answers from memory until the cache lets the body go", async () => {
  let reads = 0;
  const blobs: Record<string, Blob> = { h1: new Blob(["a".repeat(60)]), h2: new Blob(["b".repeat(60)]) };
  const bodies = createBodies(
    {
      getBlob: async (hash) => {
        reads++;
        return blobs[hash] ?? null;
      },
    },
    // Room for one 60-byte body: reading the second evicts the first.
    { maxBytes: 100, maxItemBytes: 100 },
    captureLog().log,
  );
  const ref: BodyRef = { slot: null };
  const first = await bodies.get("h1", 60, ref);
  expect(await first?.text()).toBe("a".repeat(60));
  // The second request finds it in the cache and keeps its entry; the third goes through the kept entry.
  expect(bodies.get("h1", 60, ref)).toBe(first as Blob);
  expect(ref.slot?.value).toBe(first as Blob);
  expect(bodies.get("h1", 60, ref)).toBe(first as Blob);
  expect(reads).toBe(1);
  expect(bodies.stats()).toEqual({ hits: 2, misses: 1 });
  // Another body needs the room: h1, used since the last scan, is spared once (second chance), then evicted. The
  // kept entry no longer holds it, and the next request reads it again.
  for (let i = 0; i < 2; i++) expect(await (await bodies.get("h2", 60))?.text()).toBe("b".repeat(60));
  const again = bodies.get("h1", 60, ref);
  expect(again).toBeInstanceOf(Promise);
  expect(await (await again)?.text()).toBe("a".repeat(60));
  expect(reads).toBe(4);
  expect(ref.slot?.value).toBeUndefined();
});

// Proxy: file bodies; a blob that cannot be read answers null (the proxy's 502) and is logged with its hash.

import { expect, test } from "bun:test";
import { captureLog } from "../testing/metrics.ts";
import { createBodies } from "./bodies.ts";

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

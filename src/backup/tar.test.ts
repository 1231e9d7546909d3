// The archive format: our tar reads back what it writes, GNU tar agrees with it both ways, damage is refused.

import { describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../testing/deps.ts";
import { collect, readTar, TarError, tarEnd, tarFile } from "./tar.ts";

const encode = (text: string) => new TextEncoder().encode(text);
const longPath = `git/${"d".repeat(60)}.git/refs/heads/${"feature-".repeat(12)}x`;
const entries: Record<string, Uint8Array> = {
  "minivercel.db": new Uint8Array(70_000).map((_, i) => (i * 31) % 256),
  empty: new Uint8Array(0),
  "exactly-one-block": new Uint8Array(512).fill(7),
  [longPath]: encode("a ref behind a name longer than 100 bytes"),
  "artifacts/manifests/ünïcode.json": encode("{}"),
};

async function* write(files: Record<string, Uint8Array>): AsyncGenerator<Uint8Array> {
  for (const [path, data] of Object.entries(files)) {
    // Cut into odd pieces, as file reads would be.
    const pieces = [data.subarray(0, 1000), data.subarray(1000, 1001), data.subarray(1001)];
    yield* tarFile(path, data.length, pieces, { mode: path === "empty" ? 0o755 : 0o600 });
  }
  yield tarEnd();
}

/** Re-chunks a byte array into pieces of `size`, to exercise the reader's buffering. */
async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function read(bytes: Uint8Array, size = 333): Promise<Record<string, Uint8Array>> {
  const out: Record<string, Uint8Array> = {};
  for await (const entry of readTar(chunked(bytes, size))) out[entry.path] = await collect(entry.body);
  return out;
}

describe("tar", () => {
  test("reads back what it writes, whatever the chunking", async () => {
    const bytes = await collect(write(entries));
    expect(bytes.length % 512).toBe(0);
    for (const size of [1, 333, 512, 100_000]) expect(await read(bytes, size)).toEqual(entries);
  });

  test("an entry whose body is not read is skipped cleanly", async () => {
    const bytes = await collect(write(entries));
    const paths: string[] = [];
    for await (const entry of readTar(chunked(bytes, 700))) {
      paths.push(entry.path);
      for await (const _ of entry.body) break; // one chunk, then stop
    }
    expect(paths).toEqual(Object.keys(entries));
  });

  test("GNU tar lists and extracts our archives, and we read its pax archives", async () => {
    const dir = tempDir("minivercel-tar-");
    const archive = join(dir, "ours.tar");
    writeFileSync(archive, await collect(write(entries)));
    const listed = Bun.spawnSync(["tar", "-tf", archive]);
    expect(listed.stdout.toString().trim().split("\n")).toEqual(Object.keys(entries));
    const out = join(dir, "out");
    mkdirSync(out);
    expect(Bun.spawnSync(["tar", "-xf", archive, "-C", out]).exitCode).toBe(0);
    for (const [path, data] of Object.entries(entries))
      expect(new Uint8Array(readFileSync(join(out, path)))).toEqual(new Uint8Array(data));

    const theirs = join(dir, "theirs.tar");
    const made = Bun.spawnSync(["tar", "--format=pax", "-cf", theirs, "-C", out, "minivercel.db", longPath]);
    expect(made.exitCode).toBe(0);
    const back = await read(new Uint8Array(readFileSync(theirs)));
    expect(back["minivercel.db"]).toEqual(entries["minivercel.db"]);
    expect(back[longPath]).toEqual(entries[longPath]);
  });

  test("refuses a damaged header, a cut archive, links, and a body that changed size while written", async () => {
    const bytes = await collect(write(entries));
    const damaged = bytes.slice();
    damaged[10] = (damaged[10] ?? 0) ^ 1;
    await expect(read(damaged)).rejects.toThrow("header checksum");
    await expect(read(bytes.subarray(0, 2048))).rejects.toBeInstanceOf(TarError);
    await expect(read(bytes.subarray(0, bytes.length - 1024))).rejects.toThrow("no end-of-archive marker");

    const dir = tempDir("minivercel-tar-");
    writeFileSync(join(dir, "target"), "x");
    const linked = join(dir, "link.tar");
    Bun.spawnSync(["ln", "-s", "/etc/passwd", join(dir, "link")]);
    expect(Bun.spawnSync(["tar", "--format=pax", "-cf", linked, "-C", dir, "link"]).exitCode).toBe(0);
    await expect(read(new Uint8Array(readFileSync(linked)))).rejects.toThrow("unsupported type '2'");

    await expect(collect(tarFile("f", 10, [encode("short")]))).rejects.toThrow("shrank");
    await expect(collect(tarFile("f", 2, [encode("longer")]))).rejects.toThrow("grew");
  });
});

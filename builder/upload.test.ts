// Upload step on real temp dirs and the disk artifact store: dedup, symlink containment, limits, ordering.

import { describe, expect, test } from "bun:test";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { AppError } from "../src/errors.ts";
import { expectCode, sha256 } from "../src/store/artifacts.contract.ts";
import type { Artifacts, ManifestFile } from "../src/store/artifacts.ts";
import { openDiskArtifacts } from "../src/store/artifacts-disk.ts";
import { collectOutput, uploadOutput } from "./upload.ts";
import { DEFAULT_UPLOAD_LIMITS, type UploadLimits } from "./walk.ts";

const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

/** Writes `files` (relative path -> content) under a fresh directory. */
function site(files: Record<string, string | Uint8Array>): string {
  const root = tempDir("minivercel-out-");
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

function store(): { artifacts: Artifacts; dir: string } {
  const dir = tempDir("minivercel-artifacts-");
  return { artifacts: openDiskArtifacts(dir), dir };
}

function blobFiles(dir: string): string[] {
  const blobs = join(dir, "blobs");
  return readdirSync(blobs).flatMap((d) => readdirSync(join(blobs, d)).map((f) => d + f));
}

function recorder() {
  const lines: string[] = [];
  return { lines, log: (m: string) => lines.push(m) };
}

const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 1, 2, 255]);

describe("uploadOutput", () => {
  test("a small site uploads every file once, with types and a manifest", async () => {
    const root = site({
      "index.html": "<h1>hi</h1>",
      "assets/app.js": "console.log(1)",
      "assets/style.css": "body{}",
      "img/logo.png": png,
      "data.unknownext": "x",
    });
    const { artifacts, dir } = store();
    const id = crypto.randomUUID();
    const { lines, log } = recorder();
    const result = await uploadOutput(artifacts, id, root, { log });
    expect(result).toEqual({
      files: 5,
      uploaded: 5,
      bytes: 11 + 14 + 6 + png.length + 1,
      uploadedBytes: 11 + 14 + 6 + png.length + 1,
    });
    expect(blobFiles(dir)).toHaveLength(5);
    const manifest = await artifacts.getManifest(id);
    expect(Object.keys(manifest?.files ?? {})).toEqual([
      "/assets/app.js",
      "/assets/style.css",
      "/data.unknownext",
      "/img/logo.png",
      "/index.html",
    ]);
    expect(manifest?.files["/index.html"]).toEqual({
      hash: sha256("<h1>hi</h1>"),
      size: 11,
      type: "text/html;charset=utf-8",
    });
    expect(manifest?.files["/img/logo.png"]?.type).toBe("image/png");
    expect(manifest?.files["/data.unknownext"]?.type).toBe("application/octet-stream");
    const logo = await artifacts.getBlob(sha256(png));
    expect(new Uint8Array(await (logo as Blob).arrayBuffer())).toEqual(png);
    expect(lines.some((l) => l.includes("uploading 5 new blobs"))).toBe(true);
  });

  test("a second upload of the same content uploads no blobs", async () => {
    const root = site({ "index.html": "same", "a/b.txt": "also same" });
    const { artifacts, dir } = store();
    await uploadOutput(artifacts, crypto.randomUUID(), root, { log: () => {} });
    const before = blobFiles(dir);
    const again = await uploadOutput(artifacts, crypto.randomUUID(), root, { log: () => {} });
    expect(again).toEqual({ files: 2, uploaded: 0, bytes: 13, uploadedBytes: 0 });
    expect(blobFiles(dir)).toEqual(before);
  });

  test("identical files in two paths store one blob", async () => {
    const root = site({ "a.html": "dup", "deep/er/b.html": "dup", "c.txt": "other" });
    const { artifacts, dir } = store();
    const id = crypto.randomUUID();
    const result = await uploadOutput(artifacts, id, root, { log: () => {} });
    expect(result).toEqual({ files: 3, uploaded: 2, bytes: 11, uploadedBytes: 8 });
    expect(blobFiles(dir)).toHaveLength(2);
    const files = (await artifacts.getManifest(id))?.files;
    expect(files?.["/a.html"]?.hash).toBe(sha256("dup"));
    expect(files?.["/deep/er/b.html"]?.hash).toBe(sha256("dup"));
  });

  test("symlinks leaving the root are skipped with warnings; their content is not stored", async () => {
    const outside = site({ "secret.txt": `secret ${crypto.randomUUID()}` });
    const root = site({ "index.html": "ok" });
    symlinkSync("/etc/passwd", join(root, "passwd"));
    symlinkSync(outside, join(root, "leak"));
    symlinkSync(join(outside, "secret.txt"), join(root, "secret.txt"));
    symlinkSync("../..", join(root, "up"));
    const { artifacts, dir } = store();
    const id = crypto.randomUUID();
    const { lines, log } = recorder();
    const result = await uploadOutput(artifacts, id, root, { log });
    expect(result.files).toBe(1);
    expect(blobFiles(dir)).toEqual([sha256("ok")]);
    expect(Object.keys((await artifacts.getManifest(id))?.files ?? {})).toEqual(["/index.html"]);
    const secretHash = sha256(readFileSync(join(outside, "secret.txt")));
    expect(await artifacts.missing([sha256(readFileSync("/etc/passwd")), secretHash])).toHaveLength(2);
    for (const name of ["/passwd", "/leak", "/secret.txt", "/up"]) {
      expect(lines).toContain(`warning: skipped "${name}": symlink points outside the output directory`);
    }
  });

  test("symlinks inside the root are followed, files and directories", async () => {
    const root = site({ "index.html": "home", "v2/docs/intro.html": "intro" });
    symlinkSync("index.html", join(root, "alias.html"));
    symlinkSync("v2/docs", join(root, "latest"));
    const { artifacts, dir } = store();
    const id = crypto.randomUUID();
    const result = await uploadOutput(artifacts, id, root, { log: () => {} });
    expect(result).toEqual({ files: 4, uploaded: 2, bytes: 18, uploadedBytes: 9 });
    expect(blobFiles(dir)).toHaveLength(2);
    const files = (await artifacts.getManifest(id))?.files ?? {};
    expect(Object.keys(files)).toEqual([
      "/alias.html",
      "/index.html",
      "/latest/intro.html",
      "/v2/docs/intro.html",
    ]);
    expect(files["/alias.html"]?.hash).toBe(sha256("home"));
    expect(files["/latest/intro.html"]?.hash).toBe(sha256("intro"));
  });

  test("symlink loops terminate with warnings", async () => {
    const root = site({ "index.html": "x", "a/b/file.txt": "y" });
    symlinkSync(".", join(root, "self-dir"));
    symlinkSync("..", join(root, "a", "b", "up"));
    symlinkSync("../b", join(root, "a", "b", "again"));
    symlinkSync("loop", join(root, "loop"));
    symlinkSync("ping", join(root, "pong"));
    symlinkSync("pong", join(root, "ping"));
    const { lines, log } = recorder();
    const files = await collectOutput(root, DEFAULT_UPLOAD_LIMITS, log);
    expect(files.map((f) => f.path)).toEqual(["/a/b/file.txt", "/index.html"]);
    expect(lines).toContain('skipped "/self-dir": symlink loop');
    expect(lines).toContain('skipped "/a/b/up": symlink loop');
    expect(lines).toContain('skipped "/a/b/again": symlink loop');
    expect(lines).toContain('skipped "/loop": broken or looping symlink');
    expect(lines).toContain('skipped "/ping": broken or looping symlink');
  });

  test("special files and unsafe names are skipped with warnings", async () => {
    const root = site({
      "index.html": "x",
      "back\\slash.txt": "b",
      "ctl\u0001.txt": "c",
      "dir\\x/inner.txt": "d",
    });
    const notUtf8 = Buffer.from([0x62, 0x61, 0x64, 0xff, 0x2e, 0x74, 0x78, 0x74]);
    writeFileSync(Buffer.concat([Buffer.from(`${root}/`), notUtf8]), "not utf-8");
    expect(Bun.spawnSync(["mkfifo", "--", join(root, "fifo")]).exitCode).toBe(0);
    symlinkSync("/dev/null", join(root, "null"));
    const { lines, log } = recorder();
    const files = await collectOutput(root, DEFAULT_UPLOAD_LIMITS, log);
    expect(files.map((f) => f.path)).toEqual(["/index.html"]);
    expect(lines).toContain('skipped "/fifo": not a regular file');
    expect(lines.filter((l) => l.includes("backslash, a control character or invalid UTF-8"))).toHaveLength(
      4,
    );
    expect(lines).toContain('skipped "/null": symlink points outside the output directory');
  });

  test("a multi-megabyte file is hashed correctly in chunks", async () => {
    const big = new Uint8Array(5 * 1024 * 1024 + 17).map((_, i) => (i * 7 + (i >> 13)) & 0xff);
    const root = site({ "big.bin": big });
    const { artifacts } = store();
    const files = await collectOutput(root, DEFAULT_UPLOAD_LIMITS, () => {});
    expect(files[0]?.hash).toBe(sha256(big));
    expect(files[0]?.size).toBe(big.length);
    await uploadOutput(artifacts, crypto.randomUUID(), root, { log: () => {} });
    expect((await artifacts.getBlob(sha256(big)))?.size).toBe(big.length);
  });

  describe("limits throw clear errors and store nothing", () => {
    const cases: [string, Partial<UploadLimits>, string][] = [
      ["file count", { maxFiles: 2 }, "the output has more than 2 files, the limit per deployment"],
      ["per-file size", { maxFileBytes: 5 }, "/c.txt is 6 B, over the limit of 5 B per file"],
      [
        "total size",
        { maxTotalBytes: 10 },
        "the output is over 10 B, the limit per deployment (reached at /c.txt)",
      ],
    ];
    for (const [name, override, message] of cases) {
      test(name, async () => {
        const root = site({ "a.txt": "1234", "b.txt": "5", "c.txt": "678901" });
        const { artifacts, dir } = store();
        const id = crypto.randomUUID();
        const limits = { ...DEFAULT_UPLOAD_LIMITS, ...override };
        const error = await expectCode(
          uploadOutput(artifacts, id, root, { limits, log: () => {} }),
          "bad_request",
        );
        expect(error.message).toBe(message);
        expect(await artifacts.getManifest(id)).toBeNull();
        expect(blobFiles(dir)).toEqual([]);
      });
    }
  });

  test("an empty or missing output directory is refused", async () => {
    const { artifacts } = store();
    await expectCode(
      uploadOutput(artifacts, crypto.randomUUID(), site({}), { log: () => {} }),
      "bad_request",
    );
    const missing = join(tempDir("minivercel-out-"), "dist");
    const error = await expectCode(
      uploadOutput(artifacts, crypto.randomUUID(), missing, { log: () => {} }),
      "bad_request",
    );
    expect(error.message).toContain("output directory not found");
  });

  test("with a boundary, an output root that resolves outside it is refused and nothing is stored", async () => {
    const { artifacts, dir } = store();
    const checkout = realpathSync(tempDir("minivercel-checkout-"));
    const outside = site({ "secret.txt": "host file" });
    symlinkSync(outside, join(checkout, "out"));
    symlinkSync("..", join(checkout, "up"));
    for (const root of [join(checkout, "out"), join(checkout, "up")]) {
      const error = await expectCode(
        uploadOutput(artifacts, crypto.randomUUID(), root, { log: () => {}, within: checkout }),
        "bad_request",
      );
      expect(error.message).toContain("resolves outside the repository");
    }
    expect(blobFiles(dir)).toEqual([]);
    // The boundary itself and directories inside it are fine.
    writeFileSync(join(checkout, "index.html"), "in");
    const inside = await uploadOutput(artifacts, crypto.randomUUID(), checkout, {
      log: () => {},
      within: checkout,
    });
    expect(inside.files).toBe(1);
  });

  test("a bad deployment id is refused before anything is stored", async () => {
    const { artifacts, dir } = store();
    await expectCode(
      uploadOutput(artifacts, "../escape", site({ "a.txt": "a" }), { log: () => {} }),
      "bad_request",
    );
    expect(blobFiles(dir)).toEqual([]);
  });

  test("the manifest is stored only after every blob", async () => {
    const root = site(Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`f${i}.txt`, `file ${i}`])));
    const { artifacts } = store();
    const events: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    // A recording wrapper around the real disk store: the order of calls is what is under test.
    const recording: Artifacts = {
      ...artifacts,
      missing: (hashes) => artifacts.missing(hashes),
      async putBlob(hash, data) {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await artifacts.putBlob(hash, data);
        inFlight -= 1;
        events.push("blob");
      },
      async putManifest(manifest) {
        events.push(`manifest (${inFlight} blobs in flight)`);
        await artifacts.putManifest(manifest);
      },
    };
    await uploadOutput(recording, crypto.randomUUID(), root, { log: () => {} });
    expect(events).toHaveLength(41);
    expect(events.at(-1)).toBe("manifest (0 blobs in flight)");
    expect(maxInFlight).toBeGreaterThan(1);
    expect(maxInFlight).toBeLessThanOrEqual(8);
    // And the store itself refuses a manifest naming a blob it lacks (the contract case, here on disk).
    const error = await artifacts
      .putManifest({
        version: 1,
        deploymentId: crypto.randomUUID(),
        createdAt: new Date().toISOString(),
        files: { "/x": { hash: sha256("never stored"), size: 12, type: "text/plain" } },
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
  });

  describe("precompressed variants", () => {
    const js = `export const data = ${JSON.stringify(Array.from({ length: 400 }, (_, i) => ({ id: i, name: `item ${i}` })))};\n`;
    const random = crypto.getRandomValues(new Uint8Array(4096));

    test("compressible files over 1 KB get gzip and brotli blobs; others do not", async () => {
      const root = site({
        "assets/app.js": js,
        "index.html": "<h1>tiny</h1>",
        "img/photo.png": random,
        "noise.txt": crypto.getRandomValues(new Uint8Array(4096)),
        "style.css": `${"body { color: red; }\n".repeat(200)}`,
      });
      const { artifacts } = store();
      const id = crypto.randomUUID();
      const { lines, log } = recorder();
      await uploadOutput(artifacts, id, root, { log });
      const files = (await artifacts.getManifest(id))?.files ?? {};
      const app = files["/assets/app.js"];
      expect(app?.gzip?.size).toBeLessThan(js.length);
      expect(app?.br?.size).toBeLessThan(app?.gzip?.size ?? 0);
      const gz = await (await artifacts.getBlob(app?.gzip?.hash ?? ""))?.bytes();
      const br = await (await artifacts.getBlob(app?.br?.hash ?? ""))?.bytes();
      expect(new TextDecoder().decode(Bun.gunzipSync(gz ?? new Uint8Array()))).toBe(js);
      const { brotliDecompressSync } = await import("node:zlib");
      expect(brotliDecompressSync(br ?? new Uint8Array()).toString()).toBe(js);
      expect(files["/style.css"]?.br).toBeDefined();
      // Under 1 KB, an image, and text that does not shrink: no variants.
      for (const path of ["/index.html", "/img/photo.png", "/noise.txt"]) {
        expect(files[path]?.gzip).toBeUndefined();
        expect(files[path]?.br).toBeUndefined();
      }
      expect(lines.some((l) => l.startsWith("precompressed 2 of 3 text files"))).toBe(true);
    });

    test("variants are deduplicated like any blob and survive a second deploy", async () => {
      const root = site({ "a.js": js, "copy/a.js": js });
      const { artifacts, dir } = store();
      const first = crypto.randomUUID();
      await uploadOutput(artifacts, first, root, { log: () => {} });
      expect(blobFiles(dir)).toHaveLength(3);
      const second = crypto.randomUUID();
      const { lines, log } = recorder();
      await uploadOutput(artifacts, second, root, { log });
      expect(blobFiles(dir)).toHaveLength(3);
      expect((await artifacts.getManifest(second))?.files["/copy/a.js"]).toEqual(
        (await artifacts.getManifest(first))?.files["/a.js"] as ManifestFile,
      );
      expect(lines.some((l) => l.endsWith("0 new blobs"))).toBe(true);
    });
  });
});

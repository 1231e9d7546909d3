// The drop zone's browser scripts (zip.js, sha256.js, drop-files.js), run here as the browser runs them: their
// text evaluated as a classic script. The page itself is exercised in Chromium (first-run.e2e.test.ts).

import { beforeAll, describe, expect, test } from "bun:test";
import dropFilesJs from "../../views/static/drop-files.js" with { type: "text" };
import sha256Js from "../../views/static/sha256.js" with { type: "text" };
import zipJs from "../../views/static/zip.js" with { type: "text" };
import { makeZip } from "../testing/zip.ts";

interface Limits {
  maxFiles: number;
  maxFileBytes: number;
  maxTotalBytes: number;
}
interface Picked {
  path: string;
  blob: Blob | null;
}
interface Selection {
  name: string;
  files: Picked[];
  label: string;
  notes?: string[];
}
interface Scripts {
  sha256(blob: Blob): Promise<string>;
  sha256Js(blob: Blob): Promise<string>;
  fromFiles(files: File[], limits: Limits): Promise<Selection>;
  prepare(
    selection: Selection,
    limits: Limits,
  ): { files: { path: string; blob: Blob }[]; total: number; notes: string[] };
  DropError: new () => Error;
  buildReason(files: { path: string; blob: Blob }[]): Promise<string | null>;
}

const LIMITS: Limits = { maxFiles: 100, maxFileBytes: 1024 * 1024, maxTotalBytes: 4 * 1024 * 1024 };
let mv: Scripts;

beforeAll(() => {
  for (const source of [zipJs, sha256Js, dropFilesJs]) new Function(source)();
  mv = (globalThis as unknown as { minivercel: Scripts }).minivercel;
});

const sha = (data: Uint8Array) => new Bun.CryptoHasher("sha256").update(data).digest("hex");
const zipFile = (name: string, data: Uint8Array<ArrayBuffer>) =>
  new File([data], name, { type: "application/zip" });
const text = async (blob: Blob | null) => (blob ? await blob.text() : null);

describe("sha256.js", () => {
  test("Web Crypto and the plain-JS fallback (plain http) both give the sha256 the server checks", async () => {
    for (const size of [0, 1, 55, 56, 63, 64, 65, 1000, 4 * 1024 * 1024 + 3]) {
      const data = new Uint8Array(size).map((_, i) => (i * 31 + 7) & 0xff);
      expect(await mv.sha256Js(new Blob([data]))).toBe(sha(data));
      expect(await mv.sha256(new Blob([data]))).toBe(sha(data));
    }
  });
});

describe("zip.js through drop-files.js", () => {
  test("stored and deflated entries come out intact; a zip of one folder deploys what is inside it", async () => {
    const big = "x".repeat(50_000);
    const zip = makeZip([
      { name: "dist/", data: "", method: 0 },
      { name: "dist/index.html", data: "<h1>zipped</h1>", method: 0 },
      { name: "dist/assets/app.js", data: big },
      { name: "dist/ünïcode name.txt", data: "ok" },
    ]);
    const selection = await mv.fromFiles([zipFile("My Site.zip", zip)], LIMITS);
    expect(selection.name).toBe("My Site");
    expect(selection.files.map((f) => f.path)).toEqual(["index.html", "assets/app.js", "ünïcode name.txt"]);
    expect(await text(selection.files[0]?.blob ?? null)).toBe("<h1>zipped</h1>");
    expect(await text(selection.files[1]?.blob ?? null)).toBe(big);
  });

  test("what it cannot read is refused with a message naming the entry and the reason", async () => {
    const refused = async (name: string, zip: Uint8Array<ArrayBuffer>): Promise<string> => {
      try {
        await mv.fromFiles([zipFile(name, zip)], LIMITS);
      } catch (error) {
        expect(error).toBeInstanceOf(mv.DropError);
        return (error as Error).message;
      }
      throw new Error("not refused");
    };
    const index = { name: "index.html", data: "hi" };
    expect(await refused("b.zip", makeZip([index, { name: "a.txt", data: "a", method: 12 }]))).toBe(
      "b.zip: a.txt is compressed with bzip2: only stored and deflated entries are supported.",
    );
    expect(await refused("e.zip", makeZip([{ name: "secret.txt", data: "a", flags: 1 }]))).toContain(
      "secret.txt is encrypted",
    );
    expect(await refused("t.zip", makeZip([index, { name: "../../etc/passwd", data: "x" }]))).toContain(
      'unsafe path, "../../etc/passwd"',
    );
    expect(await refused("abs.zip", makeZip([{ name: "/etc/passwd", data: "x" }]))).toContain("unsafe path");
    // A size that lies (a zip bomb's trick) and a wrong checksum.
    expect(
      await refused("bomb.zip", makeZip([{ name: "a.txt", data: "a".repeat(5000), size: 10 }])),
    ).toContain("larger than the zip says");
    expect(await refused("crc.zip", makeZip([{ name: "a.txt", data: "abc", crc: 1 }]))).toContain("checksum");
    const huge = makeZip([{ name: "big.bin", data: "x", size: 2 * 1024 * 1024, method: 0 }]);
    expect(await refused("huge.zip", huge)).toBe("huge.zip: big.bin is over 1.0 MB, the limit per file.");
    expect(await refused("not.zip", new TextEncoder().encode("just text"))).toBe(
      "not.zip: this file is not a zip archive (or it is damaged).",
    );
  });

  test("symbolic links in a zip are left out and said so", async () => {
    const zip = makeZip([
      { name: "index.html", data: "hi" },
      { name: "link", data: "/etc/passwd", method: 0, mode: 0o120777 },
    ]);
    const prepared = mv.prepare(await mv.fromFiles([zipFile("s.zip", zip)], LIMITS), LIMITS);
    expect(prepared.files.map((f) => f.path)).toEqual(["/index.html"]);
    expect(prepared.notes).toContain("1 symbolic links in the zip left out");
  });
});

describe("drop-files.js: what is deployed", () => {
  const file = (path: string, data = "x"): Picked => ({ path, blob: new Blob([data]) });
  const selection = (files: Picked[]): Selection => ({ name: "site", files, label: "test" });

  test("clutter and version control are left out; names the server refuses are left out and named", () => {
    const prepared = mv.prepare(
      selection([
        file("index.html"),
        file("b/c.css"),
        file(".DS_Store"),
        file("__MACOSX/._index.html"),
        { path: ".git/", blob: null },
        file("bad\\name.txt"),
      ]),
      LIMITS,
    );
    expect(prepared.files.map((f) => f.path)).toEqual(["/b/c.css", "/index.html"]);
    expect(prepared.notes).toEqual([
      "3 system or version-control entries left out (.DS_Store, .git, …)",
      "1 files left out: a backslash or control character in the name (bad\\name.txt)",
    ]);
  });

  test("an empty drop, too many files, a file or a total over the limits: refused before any upload", () => {
    const refused = (files: Picked[], limits = LIMITS): string => {
      try {
        mv.prepare(selection(files), limits);
      } catch (error) {
        expect(error).toBeInstanceOf(mv.DropError);
        return (error as Error).message;
      }
      throw new Error("not refused");
    };
    expect(refused([])).toBe("There are no files to deploy in that drop (empty folders do not count).");
    expect(refused([file(".DS_Store")])).toStartWith("There are no files");
    expect(refused([file("a"), file("b"), file("c")], { ...LIMITS, maxFiles: 2 })).toBe(
      "That is more than 2 files, the limit per deployment.",
    );
    expect(refused([file("big.bin", "x".repeat(1024 * 1024 + 1))])).toBe(
      "big.bin is 1.0 MB, over the limit of 1.0 MB per file.",
    );
    expect(
      refused([file("a", "x".repeat(600)), file("b", "x".repeat(600))], { ...LIMITS, maxTotalBytes: 1000 }),
    ).toBe("The files add up to 1.2 KB, over the limit of 1000 B per deployment.");
  });

  test("a site without index.html at the top is deployed with a warning", () => {
    expect(mv.prepare(selection([file("docs/index.html")]), LIMITS).notes).toEqual([
      "There is no index.html at the top: the site's home page will answer 404.",
    ]);
  });
});

describe("what the server builds", () => {
  const at = (path: string, body = "x") => ({ path, blob: new Blob([body]) });
  test("functions under api/ or a build script are built on the server; a plain site is served as it is", async () => {
    expect(await mv.buildReason([at("/index.html"), at("/api/hello.ts")])).toBe("functions under api/");
    expect(await mv.buildReason([at("/api/users/[id].js")])).toBe("functions under api/");
    expect(
      await mv.buildReason([at("/package.json", JSON.stringify({ scripts: { build: "vite build" } }))]),
    ).toBe("a build script in package.json");
    // Helpers, type declarations, tests, dependencies and other files under api/ are not functions.
    const plain = [
      at("/index.html"),
      at("/api/_lib.ts"),
      at("/api/.hidden.js"),
      at("/api/types.d.ts"),
      at("/api/a.test.ts"),
      at("/api/node_modules/x/index.js"),
      at("/api/data.json"),
      at("/assets/api/app.js"),
      at("/package.json", JSON.stringify({ scripts: { start: "serve" } })),
    ];
    expect(await mv.buildReason(plain)).toBeNull();
    expect(await mv.buildReason([at("/package.json", "{ not json")])).toBeNull();
  });
});

// The data directory's format marker: written at first start, kept current, and a newer one refused.

import { expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { VERSION } from "../config/version.ts";
import { AppError } from "../errors.ts";
import { tempDir } from "../testing/deps.ts";
import { checkDataDir, DATA_FORMAT, MARKER, readDataMarker } from "./data-format.ts";

const marker = (dir: string) => JSON.parse(readFileSync(join(dir, MARKER), "utf8"));

test("a new directory is marked with this binary's format and version", () => {
  const dir = tempDir();
  expect(readDataMarker(dir)).toBeNull();
  checkDataDir(dir);
  expect(marker(dir)).toEqual({ format: DATA_FORMAT, version: VERSION });
});

test("a directory an older release (same format) or an older format used is taken over", () => {
  const dir = tempDir();
  checkDataDir(dir, { format: 1, version: "0.0.1" });
  expect(marker(dir)).toEqual({ format: 1, version: "0.0.1" });
  checkDataDir(dir, { format: 2, version: "0.2.0" });
  expect(marker(dir)).toEqual({ format: 2, version: "0.2.0" });
});

test("a newer format is refused, naming both versions, and the marker is left as it was", () => {
  const dir = tempDir();
  checkDataDir(dir, { format: 3, version: "3.0.0" });
  let error: unknown = null;
  try {
    checkDataDir(dir, { format: 2, version: "2.5.0" });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(AppError);
  expect((error as Error).message).toBe(
    `data directory ${dir} has data format 3 (last used by minivercel 3.0.0); this binary, minivercel 2.5.0, ` +
      "supports data format 2 at most: upgrade minivercel",
  );
  expect(marker(dir)).toEqual({ format: 3, version: "3.0.0" });
});

test("a marker that is not one is refused rather than overwritten", () => {
  for (const text of ["not json", "{}", '{"format": "2"}', '{"format": 0}', "[1]"]) {
    const dir = tempDir();
    writeFileSync(join(dir, MARKER), text);
    expect(() => checkDataDir(dir)).toThrow(/is not a minivercel data format marker/);
    expect(readFileSync(join(dir, MARKER), "utf8")).toBe(text);
  }
});

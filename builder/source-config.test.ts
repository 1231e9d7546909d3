// A zero-config function's settings read from its source, as Vercel's static analysis reads them.

import { expect, test } from "bun:test";
import { sourceConfig } from "./zero-config.ts";

test("runtime and maxDuration from `export const config`, or Next's separate exports; the defaults otherwise", () => {
  expect(sourceConfig(`export default function handler(req, res) {}`, "api/a.js")).toEqual({
    runtime: "nodejs",
  });
  expect(sourceConfig(`export const config = { runtime: 'edge' };`, "api/a.js")).toEqual({ runtime: "edge" });
  expect(sourceConfig(`export const config = {\n  runtime: "experimental-edge",\n};`, "api/a.js")).toEqual({
    runtime: "edge",
  });
  expect(
    sourceConfig(`export const config: Config = { maxDuration: 30, regions: ["iad1"] };`, "api/a.ts"),
  ).toEqual({ runtime: "nodejs", maxDuration: 30 });
  expect(sourceConfig(`export const runtime = "edge";\nexport const maxDuration = 5;`, "api/a.ts")).toEqual({
    runtime: "edge",
    maxDuration: 5,
  });
  // A `runtime` key elsewhere (not in the exported config) is not a setting.
  expect(sourceConfig(`const options = { runtime: "deno" };`, "api/a.js")).toEqual({ runtime: "nodejs" });
});

test("values that cannot be honoured refuse the deploy, naming the file", () => {
  expect(sourceConfig(`export const config = { runtime: "deno" };`, "api/a.ts")).toBe(
    'api/a.ts: runtime "deno" is not supported (edge or nodejs)',
  );
  expect(sourceConfig(`export const maxDuration = 901;`, "api/b.ts")).toBe(
    "api/b.ts: maxDuration 901 is outside 1-900 seconds",
  );
});

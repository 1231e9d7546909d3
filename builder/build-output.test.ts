// Build Output API uploads on real temp dirs and the disk artifact store: the manifest of static files and
// functions, shared .func directories, prerender files, filePathMap, and every refusal naming what it refuses.

import { describe, expect, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { AppError } from "../src/errors.ts";
import { sha256 } from "../src/store/artifacts.contract.ts";
import type { Artifacts } from "../src/store/artifacts.ts";
import { openDiskArtifacts } from "../src/store/artifacts-disk.ts";
import { tempDir } from "../src/testing/deps.ts";
import { uploadBuildOutput } from "./build-output.ts";
import { DEFAULT_UPLOAD_LIMITS } from "./walk.ts";

const NODE = { runtime: "nodejs20.x", handler: "index.mjs", launcherType: "Nodejs", shouldAddHelpers: true };
const HANDLER = "export default (req, res) => res.json({ ok: true });\n";

/** A checkout holding `.vercel/output` with `files` (JSON for objects) and `links` (path -> target). */
function checkout(files: Record<string, string | object>, links: Record<string, string> = {}) {
  const root = realpathSync(tempDir("minivercel-boa-"));
  const output = join(root, ".vercel/output");
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(output, path)), { recursive: true });
    writeFileSync(join(output, path), typeof content === "string" ? content : JSON.stringify(content));
  }
  for (const [path, target] of Object.entries(links)) {
    mkdirSync(dirname(join(output, path)), { recursive: true });
    symlinkSync(target, join(output, path));
  }
  return { root, output };
}

function deploy(c: { root: string; output: string }, artifacts?: Artifacts) {
  const lines: string[] = [];
  const store = artifacts ?? openDiskArtifacts(tempDir("minivercel-artifacts-"));
  const id = crypto.randomUUID();
  const result = uploadBuildOutput(store, id, c.output, { within: c.root, log: (m) => lines.push(m) });
  return { result, lines, store, id };
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return (error as AppError).message;
  }
  throw new Error("accepted");
}

const CONFIG = { version: 3, routes: [{ handle: "filesystem" }] };

describe("a Build Output deploys", () => {
  test("static files, two functions sharing one .func, a prerender with its fallback", async () => {
    const c = checkout(
      {
        "config.json": CONFIG,
        "static/index.html": `<h1>${"hello ".repeat(400)}</h1>`,
        "static/css/site.css": "body{}",
        "functions/api/a.func/.vc-config.json": { ...NODE, memory: 512, maxDuration: 10, regions: ["iad1"] },
        "functions/api/a.func/index.mjs": HANDLER,
        "functions/api/a.func/node_modules/dep/index.js": "module.exports = 1;\n",
        "functions/api/a.func/bin/tool": "#!/bin/sh\necho hi\n",
        "functions/api/a.prerender-config.json": { expiration: 60, fallback: "a.prerender-fallback.html" },
        "functions/api/a.prerender-fallback.html": "<p>fallback</p>",
        "shared/lib.js": "export const x = 1;\n",
      },
      { "functions/api/b.func": "a.func", "functions/api/a.func/lib.js": "../../../shared/lib.js" },
    );
    chmodSync(join(c.output, "functions/api/a.func/bin/tool"), 0o755);
    const { result, lines, store, id } = deploy(c);
    expect(await result).toMatchObject({ files: 2, functions: 2 });
    expect(lines).toContain("Build Output API: 2 static files, 2 functions (nodejs20.x), 1 prerendered");
    expect(lines).toContain('function "/api/a": "regions" is ignored (one region here)');

    const manifest = await store.getManifest(id);
    expect(manifest?.version).toBe(2);
    expect(Object.keys(manifest?.files ?? {})).toEqual(["/css/site.css", "/index.html"]);
    expect(manifest?.files["/index.html"]?.br).toBeDefined();
    const a = manifest?.functions?.["/api/a"];
    const b = manifest?.functions?.["/api/b"];
    expect(Object.keys(a?.files ?? {})).toEqual([
      "bin/tool",
      "index.mjs",
      "lib.js",
      "node_modules/dep/index.js",
    ]);
    expect(a?.files["bin/tool"]?.executable).toBe(true);
    expect(a?.files["index.mjs"]).toEqual({ hash: sha256(HANDLER), size: HANDLER.length });
    expect(a?.files["lib.js"]?.hash).toBe(sha256("export const x = 1;\n"));
    // The symlinked function is a plain tree of its own with the same blobs, without the prerender.
    expect(b?.files).toEqual(a?.files ?? {});
    expect(b?.config).toEqual(a?.config ?? { hash: "", size: 0 });
    expect(b?.prerender).toBeUndefined();
    expect(a?.fallback).toMatchObject({ hash: sha256("<p>fallback</p>"), type: "text/html;charset=utf-8" });
    const config = await store.getBlob(manifest?.buildOutput?.config.hash ?? "");
    expect(JSON.parse((await config?.text()) ?? "null")).toEqual(CONFIG);
    const prerender = await store.getBlob(a?.prerender?.hash ?? "");
    expect(JSON.parse((await prerender?.text()) ?? "null")).toMatchObject({ expiration: 60 });

    // A second deployment of the same output stores nothing new.
    const again = deploy(c, store);
    expect((await again.result).uploaded).toBe(0);
  });

  test("filePathMap files come from the repository; a function needs no static files", async () => {
    const c = checkout({
      "config.json": CONFIG,
      "functions/index.func/.vc-config.json": { ...NODE, filePathMap: { "lib/data.json": "data/data.json" } },
      "functions/index.func/index.mjs": HANDLER,
    });
    mkdirSync(join(c.root, "data"));
    writeFileSync(join(c.root, "data/data.json"), "[1]");
    const { result, store, id } = deploy(c);
    expect(await result).toMatchObject({ files: 0, functions: 1 });
    const fn = (await store.getManifest(id))?.functions?.["/index"];
    expect(fn?.files["lib/data.json"]?.hash).toBe(sha256("[1]"));
  });

  test("an edge function with its entrypoint", async () => {
    const c = checkout({
      "config.json": CONFIG,
      "functions/edge.func/.vc-config.json": { runtime: "edge", entrypoint: "index.js" },
      "functions/edge.func/index.js": "export default () => new Response('edge');",
    });
    const { result, lines } = deploy(c);
    await result;
    expect(lines).toContain("Build Output API: 0 static files, 1 function (edge)");
  });
});

describe("refused, naming the function and field", () => {
  const fn = (vc: object, extra: Record<string, string> = {}) =>
    checkout({
      "config.json": CONFIG,
      "functions/api/x.func/.vc-config.json": vc,
      "functions/api/x.func/index.mjs": HANDLER,
      ...extra,
    });

  test.each([
    [{ ...NODE, runtime: "python3.12" }, 'function "/api/x": runtime "python3.12" is not supported'],
    [
      { runtime: "nodejs20.x", launcherType: "Nodejs" },
      'function "/api/x": handler: expected required property',
    ],
    [{ ...NODE, launcherType: undefined }, 'function "/api/x": launcherType: expected required property'],
    [{ ...NODE, handler: "main.js" }, 'function "/api/x": handler "main.js" is not a file of the function'],
    [
      { ...NODE, handler: "../../../etc/passwd" },
      'function "/api/x": handler "../../../etc/passwd" is not a path inside the function',
    ],
    [{ runtime: "edge" }, 'function "/api/x": entrypoint: expected required property'],
    [{ ...NODE, memory: 64 }, 'function "/api/x": memory must be 128 to 3008 MB, got 64'],
    [{ ...NODE, maxDuration: -1 }, 'function "/api/x": maxDuration must be 1 to 900 seconds, got -1'],
    [{ ...NODE, awsLambdaHandler: "index.handler" }, 'function "/api/x": "awsLambdaHandler" (an AWS Lambda'],
    [{ ...NODE, launcherType: "Bridge" }, 'function "/api/x": launcherType: expected'],
    [{ ...NODE, environment: { "A=B": "x" } }, 'function "/api/x": "environment" has a bad variable name'],
    [{ ...NODE, filePathMap: { "a.js": "../outside.js" } }, 'function "/api/x": "filePathMap" entry "a.js"'],
    [
      { ...NODE, filePathMap: { "a.js": "missing.js" } },
      'function "/api/x": filePathMap entry "missing.js" is not in the repository',
    ],
  ])("%j", async (vc, message) => {
    expect(await refusal(deploy(fn(vc)).result)).toStartWith(message);
  });

  test("a .func symlinked out of the checkout", async () => {
    const c = checkout({ "config.json": CONFIG }, { "functions/api/x.func": "/usr/lib" });
    expect(await refusal(deploy(c).result)).toBe(
      'function "/api/x": functions/api/x.func resolves outside .vercel/output through a symbolic link; refusing to read it',
    );
  });

  test("a file of a function symlinked out of .vercel/output, and a .vc-config.json that is a link out", async () => {
    const c = fn(NODE);
    symlinkSync("/etc/hostname", join(c.output, "functions/api/x.func/host"));
    expect(await refusal(deploy(c).result)).toBe(
      'function "/api/x": "/host": symlink points outside .vercel/output',
    );
    const d = checkout({ "config.json": CONFIG, "functions/api/x.func/index.mjs": HANDLER });
    symlinkSync("/etc/hostname", join(d.output, "functions/api/x.func/.vc-config.json"));
    expect(await refusal(deploy(d).result)).toContain("resolves outside .vercel/output");
  });

  test("static/ symlinked out of the checkout", async () => {
    const c = checkout({ "config.json": CONFIG }, { static: "/etc" });
    expect(await refusal(deploy(c).result)).toBe(
      '.vercel/output directory "static" resolves outside the repository through a symbolic link; refusing to read it',
    );
  });

  test("a config.json the router refuses, and a prerender fallback that is missing", async () => {
    const c = checkout({ "config.json": { version: 2 }, "static/index.html": "x" });
    expect(await refusal(deploy(c).result)).toBe(
      '.vercel/output/config.json: config.json must have "version": 3',
    );
    const d = fn(NODE, {
      "functions/api/x.prerender-config.json": JSON.stringify({ expiration: 1, fallback: "gone.html" }),
    });
    expect(await refusal(deploy(d).result)).toBe(
      'function "/api/x": prerender fallback "gone.html" is missing',
    );
  });

  test("function files count against the deployment's file limit; nothing is stored", async () => {
    const files: Record<string, string> = { "static/index.html": "x" };
    for (let i = 0; i < 5; i++) files[`functions/api/x.func/f${i}.js`] = `${i}`;
    const c = fn(NODE, files);
    const dir = tempDir("minivercel-artifacts-");
    const store = openDiskArtifacts(dir);
    const id = crypto.randomUUID();
    const limits = { ...DEFAULT_UPLOAD_LIMITS, maxFiles: 4 };
    const message = await refusal(
      uploadBuildOutput(store, id, c.output, { within: c.root, log: () => {}, limits }),
    );
    expect(message).toBe(
      "the deployment (static files and functions) has more than 4 files, the limit per deployment",
    );
    expect(await store.getManifest(id)).toBeNull();
    const blobs = join(dir, "blobs");
    expect(existsSync(blobs) ? readdirSync(blobs).flatMap((d) => readdirSync(join(blobs, d))) : []).toEqual(
      [],
    );
  });
});

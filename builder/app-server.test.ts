// App server detection and upload on real temp dirs and the disk artifact store: which server each layout is, the
// server's files (caches and .git left out, symlinks kept inside the checkout) and the static files beside it.

import { describe, expect, test } from "bun:test";
import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { AppError } from "../src/errors.ts";
import { openDiskArtifacts } from "../src/store/artifacts-disk.ts";
import { tempDir } from "../src/testing/deps.ts";
import { chooseServer, uploadServer } from "./app-server.ts";
import type { StartCandidate } from "./detect.ts";

function project(files: Record<string, string>): string {
  const root = realpathSync(tempDir("minivercel-app-"));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

const START: StartCandidate = {
  command: "npm start",
  reason: 'package.json\'s "start" script',
  withoutOutput: true,
};
const choose = (dir: string, opts: Partial<Parameters<typeof chooseServer>[1]> & { output?: boolean } = {}) =>
  chooseServer(dir, {
    startCommand: null,
    candidate: null,
    hasBuildOutput: false,
    hasOutputDirectory: async () => opts.output ?? false,
    ...opts,
  });

describe("which server", () => {
  test("Next.js standalone: its server.js in .next/standalone, .next/static and public served by the proxy", async () => {
    const dir = project({ ".next/standalone/server.js": "", ".next/static/chunks/a.js": "" });
    expect(await choose(dir, { candidate: START })).toEqual({
      root: ".next/standalone",
      command: "node server.js",
      detected: "Next.js standalone output (node .next/standalone/server.js)",
      statics: [
        { dir: ".next/static", prefix: "/_next/static/" },
        { dir: "public", prefix: "/" },
      ],
    });
  });

  test("Nuxt/Nitro node-server: .output/server/index.mjs, .output/public served by the proxy", async () => {
    const choice = await choose(project({ ".output/server/index.mjs": "" }));
    expect(choice).toMatchObject({ root: ".output", command: "node server/index.mjs" });
    expect(choice?.statics).toEqual([{ dir: ".output/public", prefix: "/" }]);
  });

  test("a start script only when the build left no output; the project's command always; Build Output wins", async () => {
    const dir = project({ "server.js": "" });
    expect(await choose(dir, { candidate: START, output: true })).toBeNull();
    expect((await choose(dir, { candidate: START }))?.command).toBe("npm start");
    expect(
      (await choose(dir, { candidate: { ...START, withoutOutput: false }, output: true }))?.command,
    ).toBe("npm start");
    expect(await choose(dir, { candidate: START, hasBuildOutput: true })).toBeNull();
    expect(await choose(project({ ".next/standalone/server.js": "" }), { hasBuildOutput: true })).toBeNull();
    const own = await choose(dir, { startCommand: "bun run serve", hasBuildOutput: true });
    expect(own).toMatchObject({
      root: "",
      command: "bun run serve",
      detected: "the project's start command",
    });
    expect(await choose(dir)).toBeNull();
  });
});

describe("upload", () => {
  test("server files by relative path (caches, .git left out), public/ as static files, the manifest last", async () => {
    const dir = project({
      "server.js": "require('express')",
      "node_modules/express/index.js": "module.exports = {}",
      "node_modules/.cache/big": "cache",
      ".git/HEAD": "ref",
      "public/logo.txt": "logo",
      "public/css/site.css": "body{}",
    });
    mkdirSync(join(dir, "node_modules/.bin"), { recursive: true });
    symlinkSync("../express/index.js", join(dir, "node_modules/.bin/express"));
    const artifacts = await openDiskArtifacts(tempDir("minivercel-app-store-"));
    const id = crypto.randomUUID();
    const logs: string[] = [];
    const choice = await choose(dir, { startCommand: "node server.js" });
    if (!choice) throw new Error("no server chosen");
    const stats = await uploadServer(artifacts, id, dir, choice, { within: dir, log: (m) => logs.push(m) });
    expect(stats).toMatchObject({ files: 2, serverFiles: 5 });
    const manifest = await artifacts.getManifest(id);
    expect(manifest?.server?.command).toBe("node server.js");
    expect(Object.keys(manifest?.server?.files ?? {}).sort()).toEqual([
      "node_modules/.bin/express",
      "node_modules/express/index.js",
      "public/css/site.css",
      "public/logo.txt",
      "server.js",
    ]);
    expect(Object.keys(manifest?.files ?? {}).sort()).toEqual(["/css/site.css", "/logo.txt"]);
    const served = manifest?.files["/logo.txt"];
    expect(await (await artifacts.getBlob(served?.hash ?? ""))?.text()).toBe("logo");
    expect(logs.some((l) => l.startsWith("App server: the project's start command; 5 server files"))).toBe(
      true,
    );
  });

  test("Next.js standalone: only .next/standalone is the server; .next/static is served at /_next/static", async () => {
    const dir = project({
      ".next/standalone/server.js": "server",
      ".next/standalone/node_modules/next/index.js": "next",
      ".next/static/chunks/app.js": "chunk",
      ".next/cache/huge": "cache",
      "node_modules/next/dist/huge.js": "not deployed",
      "public/favicon.ico": "ico",
    });
    const artifacts = await openDiskArtifacts(tempDir("minivercel-app-store-"));
    const id = crypto.randomUUID();
    const choice = await choose(dir);
    if (!choice) throw new Error("no server chosen");
    await uploadServer(artifacts, id, dir, choice, { within: dir, log: () => {} });
    const manifest = await artifacts.getManifest(id);
    expect(Object.keys(manifest?.server?.files ?? {}).sort()).toEqual([
      "node_modules/next/index.js",
      "server.js",
    ]);
    expect(Object.keys(manifest?.files ?? {}).sort()).toEqual([
      "/_next/static/chunks/app.js",
      "/favicon.ico",
    ]);
  });

  test("a server directory linked out of the checkout is refused, naming it", async () => {
    const outside = project({ "server.js": "secret" });
    const dir = project({});
    mkdirSync(join(dir, ".output"));
    symlinkSync(outside, join(dir, ".output/server"));
    const artifacts = await openDiskArtifacts(tempDir("minivercel-app-store-"));
    const choice = { root: ".output/server", command: "node server.js", detected: "x", statics: [] };
    const refused = await uploadServer(artifacts, crypto.randomUUID(), dir, choice, {
      within: dir,
      log: () => {},
    }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AppError);
    expect(String((refused as AppError).message)).toMatch(/resolves outside the repository/);
  });
});

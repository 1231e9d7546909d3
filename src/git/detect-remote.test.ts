// Detecting a repository's settings before its first build: real repositories (read by git on the host, as local
// ones are), the build's own detector, the URL rules, and every failure as a problem on a field, never a throw.
// The sandboxed path (a remote host, read from the build sandbox's network) is in detect-remote.e2e.test.ts.

import { expect, test } from "bun:test";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../testing/deps.ts";
import { fixtureRepo, VITE_APP } from "../testing/repos.ts";
import { type DetectOptions, detectRemote, inside } from "./detect-remote.ts";

const local: DetectOptions = { allowLocal: true, allowPrivate: false, sandbox: { mode: "bwrap" } };

test("a Vite app: framework, package manager, commands and output, from the branch's files", async () => {
  const repo = fixtureRepo({ ...VITE_APP, "package-lock.json": "{}", "assets/big.bin": "x".repeat(200_000) });
  const found = await detectRemote(repo.url, "main", "", local);
  if (!found.ok) throw new Error(found.problem);
  expect(found.settings).toMatchObject({
    framework: "vite",
    frameworkName: "Vite",
    packageManager: "npm",
    installCommand: "npm ci",
    buildCommand: "npm run build",
    outputDirectory: "dist",
    startCommand: null,
  });
  expect(found.settings.commitSha).toMatch(/^[0-9a-f]{40}$/);
  expect(found.settings.notes).toContain('Detected Vite ("vite" in devDependencies)');
});

test("the chosen branch and root directory are the ones read; a vite.config's outDir is read too", async () => {
  const repo = fixtureRepo({ "index.html": "<h1>plain</h1>" });
  repo.commit(
    {
      "web/package.json": JSON.stringify({
        scripts: { build: "vite build" },
        devDependencies: { vite: "5" },
      }),
      "web/pnpm-lock.yaml": "lockfileVersion: '9.0'\n",
      "web/vite.config.ts": "export default { build: { outDir: 'site' } }\n",
    },
    "next",
  );
  const plain = await detectRemote(repo.url, "main", "", local);
  expect(plain.ok && plain.settings).toMatchObject({
    framework: "static",
    buildCommand: null,
    outputDirectory: "",
  });
  const web = await detectRemote(repo.url, "next", "web", local);
  expect(web.ok && web.settings).toMatchObject({
    framework: "vite",
    installCommand: "corepack pnpm install --frozen-lockfile",
    outputDirectory: "site",
  });
});

test("a server the project starts: a Procfile without index.html runs after every build", async () => {
  const repo = fixtureRepo({ Procfile: "web: node server.js\n", "server.js": "require('http')" });
  const found = await detectRemote(repo.url, "main", "", local);
  expect(found.ok && found.settings).toMatchObject({ startCommand: "node server.js", startAlways: true });
});

test("failures name their field and say why in one line", async () => {
  const repo = fixtureRepo({ "package.json": "{ not json" });
  const problem = async (url: string, branch = "main", root = "", options = local) => {
    const found = await detectRemote(url, branch, root, options);
    return found.ok ? "detected" : { field: found.field, problem: found.problem };
  };
  expect(await problem(repo.url, "nope")).toEqual({
    field: "branch",
    problem: "Git repository could not be read: it has no branch nope",
  });
  expect(await problem(repo.url, "main", "missing")).toEqual({
    field: "rootDirectory",
    problem: "Root directory is not a folder of the repository on that branch",
  });
  expect(await problem(repo.url, "main", "../x")).toMatchObject({ field: "rootDirectory" });
  expect(await problem(repo.url, "--upload-pack=touch")).toMatchObject({ field: "branch" });
  expect(await problem(repo.url)).toEqual({
    field: "gitUrl",
    problem: expect.stringMatching(/^The repository's files: package\.json is not valid JSON/),
  });
  // The rules of every git URL: no local paths unless allowed, no host of the platform's own network.
  expect(await problem(repo.url, "main", "", { ...local, allowLocal: false })).toMatchObject({
    field: "gitUrl",
  });
  expect(await problem("http://127.0.0.1:9000/x.git")).toEqual({
    field: "gitUrl",
    problem: expect.stringContaining("does not clone from its own network"),
  });
  const missing = await problem("file:///nonexistent/repo.git");
  expect(missing).toMatchObject({
    field: "gitUrl",
    problem: expect.stringMatching(/^Git repository could not be read: /),
  });
  expect(JSON.stringify(missing)).not.toContain("\\n");
});

test("a package.json over the detector's 1 MB limit is refused as a build would refuse it", async () => {
  const big = JSON.stringify({ scripts: { build: "x" }, description: "x".repeat(1_100_000) });
  const repo = fixtureRepo({ "package.json": big });
  const found = await detectRemote(repo.url, "main", "", local);
  expect(found.ok ? "detected" : found.problem).toBe(
    "The repository's files: package.json is larger than 1 MB",
  );
});

test("the host reads only files really inside the sandbox's workspace: a symlinked directory leads nowhere", async () => {
  const host = tempDir();
  writeFileSync(join(host, "0"), '{"scripts":{"build":"a host secret"}}');
  const workspace = tempDir();
  writeFileSync(join(workspace, "commit"), "abc");
  symlinkSync(host, join(workspace, "files"));
  symlinkSync(join(host, "0"), join(workspace, "listing"));
  expect(await inside(workspace, "commit")).toBe(join(workspace, "commit"));
  expect(await inside(workspace, join("files", "0"))).toBeNull();
  expect(await inside(workspace, "listing")).toBeNull();
  expect(await inside(workspace, "missing")).toBeNull();
  mkdirSync(join(workspace, "real"));
  writeFileSync(join(workspace, "real", "0"), "x");
  expect(await inside(workspace, join("real", "0"))).toBe(join(workspace, "real", "0"));
});

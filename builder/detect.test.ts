// Build detection against fixture checkouts in temp dirs: frameworks, package managers, static sites, overrides.

import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { AppError } from "../src/errors.ts";
import { tempDir } from "../src/testing/deps.ts";
import { type BuildOverrides, type BuildPlan, detectBuild, type Framework } from "./detect.ts";

const root = tempDir("minivercel-detect-");
afterAll(() => rmSync(root, { recursive: true, force: true }));

const none: BuildOverrides = { installCommand: null, buildCommand: null, outputDirectory: null };

/** A fixture project: file path -> contents; objects are written as JSON. */
function project(files: Record<string, string | object>): string {
  const dir = join(root, crypto.randomUUID());
  mkdirSync(dir);
  for (const [path, contents] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), typeof contents === "string" ? contents : JSON.stringify(contents));
  }
  return dir;
}

const withBuild = (extra: object = {}) => ({ name: "site", scripts: { build: "x" }, ...extra });
const detect = (files: Record<string, string | object>, overrides = none) =>
  detectBuild(project(files), overrides);
const noted = (plan: BuildPlan, pattern: RegExp) => plan.notes.some((note) => pattern.test(note));

describe("frameworks", () => {
  test.each([
    ["next", "nextjs", "out"],
    ["astro", "astro", "dist"],
    ["@sveltejs/kit", "sveltekit", "build"],
    ["@docusaurus/core", "docusaurus", "build"],
    ["react-scripts", "create-react-app", "build"],
    ["vite", "vite", "dist"],
  ])("%s -> %s, output %s", async (pkg, framework, output) => {
    const plan = await detect({
      "package.json": withBuild({ devDependencies: { [pkg]: "1.0.0" } }),
      "package-lock.json": "{}",
    });
    expect(plan).toMatchObject({
      framework,
      packageManager: "npm",
      installCommand: "npm ci",
      buildCommand: "npm run build",
      outputDirectory: output,
    });
    expect(plan.notes).toContain(`Using npm (package-lock.json)`);
    expect(noted(plan, new RegExp(`^Detected .+ \\("${pkg}" in devDependencies\\)$`))).toBe(true);
  });

  test("meta-frameworks win over the vite and react they bring along", async () => {
    const deps = { vite: "5", "react-scripts": "5", react: "18" };
    const cases: [string, Framework][] = [
      ["next", "nextjs"],
      ["astro", "astro"],
      ["@sveltejs/kit", "sveltekit"],
      ["@docusaurus/core", "docusaurus"],
    ];
    for (const [pkg, framework] of cases) {
      const plan = await detect({
        "package.json": withBuild({ dependencies: { ...deps, [pkg]: "1" } }),
        "vite.config.ts": "export default {}",
      });
      expect({ pkg, framework: plan.framework }).toEqual({ pkg, framework });
    }
  });

  test("a vite.config alone means Vite, and beats a leftover react-scripts", async () => {
    const plan = await detect({
      "package.json": withBuild({ dependencies: { "react-scripts": "5" } }),
      "vite.config.mjs": "export default {}",
    });
    expect(plan.framework).toBe("vite");
    expect(plan.notes).toContain("Detected Vite (vite.config.mjs)");
  });

  test("vite build.outDir is read when it is a plain string literal", async () => {
    const config = `import { defineConfig } from "vite";
// build: { outDir: "commented" },
export default defineConfig({ plugins: [], build: { sourcemap: true, outDir: './site/' } });`;
    const plan = await detect({ "package.json": withBuild(), "vite.config.ts": config });
    expect(plan.outputDirectory).toBe("site");
    expect(noted(plan, /vite\.config\.ts sets build\.outDir: serving site\//)).toBe(true);
  });

  test("vite outDir that is not trivially readable or leaves the project falls back to dist", async () => {
    for (const build of [
      "build: { outDir: resolve(__dirname, 'x') }",
      `build: { outDir: \`\${base}/x\` }`,
      "build: { outDir: '../elsewhere' }",
      "build: { outDir: '/abs' }",
      "build: { rollupOptions: { input: 'a' }, outDir: 'late' }",
    ]) {
      const plan = await detect({
        "package.json": withBuild(),
        "vite.config.js": `export default { ${build} }`,
      });
      expect({ build, output: plan.outputDirectory }).toEqual({ build, output: "dist" });
      expect(noted(plan, /does not read: assuming dist/)).toBe(true);
    }
  });

  test("vite without a config writes to dist silently", async () => {
    const plan = await detect({ "package.json": withBuild({ devDependencies: { vite: "5" } }) });
    expect(plan.outputDirectory).toBe("dist");
    expect(noted(plan, /outDir/)).toBe(false);
  });

  test("Next.js: notes whether next.config asks for a static export", async () => {
    const pkg = withBuild({ dependencies: { next: "14" } });
    const configs: [string, string][] = [
      ["next.config.mjs", 'export default { output: "export" };'],
      ["next.config.js", "module.exports = { output: 'export', images: { unoptimized: true } };"],
      ["next.config.ts", "const config = { output: `export` };\nexport default config;"],
    ];
    for (const [file, source] of configs) {
      const plan = await detect({ "package.json": pkg, [file]: source });
      expect(plan.outputDirectory).toBe("out");
      expect(plan.notes).toContain(`${file} sets output: 'export': serving the static export in out/`);
    }
    const server = await detect({ "package.json": pkg, "next.config.js": "module.exports = {};" });
    expect(
      noted(server, /^Warning: Next\.js is served as a static export .* next\.config\.js sets neither/),
    ).toBe(true);
    const commented = await detect({ "package.json": pkg, "next.config.js": "// output: 'export'\n" });
    expect(noted(commented, /sets neither/)).toBe(true);
    const standalone = await detect({
      "package.json": pkg,
      "next.config.mjs": "export default { output: 'standalone' };",
    });
    expect(standalone.notes).toContain(
      "next.config.mjs sets output: 'standalone': .next/standalone runs as an app server",
    );
    const bare = await detect({ "package.json": pkg });
    expect(noted(bare, /there is no next\.config/)).toBe(true);
  });

  test("SvelteKit warns when adapter-static is missing", async () => {
    const without = await detect({
      "package.json": withBuild({ devDependencies: { "@sveltejs/kit": "2" } }),
    });
    expect(noted(without, /adapter-static is not a dependency/)).toBe(true);
    const withAdapter = await detect({
      "package.json": withBuild({
        devDependencies: { "@sveltejs/kit": "2", "@sveltejs/adapter-static": "3" },
      }),
    });
    expect(noted(withAdapter, /adapter-static/)).toBe(false);
  });

  test("a framework without a build script runs its own CLI through the package manager", async () => {
    const cases: [object, Record<string, string>, string][] = [
      [{ vite: "5" }, { "package-lock.json": "{}" }, "npm exec -- vite build"],
      [{ astro: "4" }, { "pnpm-lock.yaml": "" }, "corepack pnpm exec astro build"],
      [
        { "react-scripts": "5" },
        { "yarn.lock": "# yarn lockfile v1\n" },
        "corepack yarn run react-scripts build",
      ],
      [{ "@docusaurus/core": "3" }, { "bun.lock": "{}" }, "bun x docusaurus build"],
    ];
    for (const [dependencies, lock, command] of cases) {
      const plan = await detect({ "package.json": { dependencies }, ...lock });
      expect(plan.buildCommand).toBe(command);
      expect(noted(plan, /^No "build" script in package\.json/)).toBe(true);
    }
  });

  test('a build script without a known framework is "node" serving dist', async () => {
    const plan = await detect({ "package.json": withBuild({ devDependencies: { typescript: "5" } }) });
    expect(plan).toMatchObject({
      framework: "node",
      packageManager: "npm",
      installCommand: "npm install",
      buildCommand: "npm run build",
      outputDirectory: "dist",
    });
    expect(noted(plan, /No known framework/)).toBe(true);
  });
});

describe("package managers", () => {
  const cases: [string, Record<string, string | object>, string, string, string][] = [
    ["bun.lock", { "bun.lock": "{}" }, "bun", "bun install --frozen-lockfile", "bun run build"],
    ["bun.lockb", { "bun.lockb": "\0" }, "bun", "bun install --frozen-lockfile", "bun run build"],
    [
      "pnpm-lock.yaml",
      { "pnpm-lock.yaml": "lockfileVersion: '9.0'\n" },
      "pnpm",
      "corepack pnpm install --frozen-lockfile",
      "corepack pnpm run build",
    ],
    [
      "yarn.lock (classic)",
      { "yarn.lock": "# THIS IS AN AUTOGENERATED FILE.\n# yarn lockfile v1\n" },
      "yarn",
      "corepack yarn install --frozen-lockfile",
      "corepack yarn run build",
    ],
    ["package-lock.json", { "package-lock.json": "{}" }, "npm", "npm ci", "npm run build"],
    ["npm-shrinkwrap.json", { "npm-shrinkwrap.json": "{}" }, "npm", "npm ci", "npm run build"],
    ["no lockfile", {}, "npm", "npm install", "npm run build"],
  ];
  test.each(cases)("%s", async (_, lock, packageManager, installCommand, buildCommand) => {
    const plan = await detect({ "package.json": withBuild({ devDependencies: { vite: "5" } }), ...lock });
    expect(plan).toMatchObject({ framework: "vite", packageManager, installCommand, buildCommand });
  });

  test("several lockfiles: the first in priority order wins, the rest are noted", async () => {
    const plan = await detect({
      "package.json": withBuild(),
      "pnpm-lock.yaml": "",
      "package-lock.json": "{}",
    });
    expect(plan.packageManager).toBe("pnpm");
    expect(plan.notes).toContain("Ignoring package-lock.json: the project uses pnpm");
  });

  test('the "packageManager" field wins over lockfiles', async () => {
    const plan = await detect({
      "package.json": withBuild({ packageManager: "pnpm@9.1.0+sha512.abcdef" }),
      "pnpm-lock.yaml": "",
      "package-lock.json": "{}",
    });
    expect(plan).toMatchObject({
      packageManager: "pnpm",
      installCommand: "corepack pnpm install --frozen-lockfile",
      buildCommand: "corepack pnpm run build",
    });
    expect(plan.notes).toContain('Using pnpm ("packageManager": "pnpm@9.1.0+sha512.abcdef")');
  });

  test('"packageManager" without its lockfile installs without freezing', async () => {
    const pnpm = await detect({
      "package.json": withBuild({ packageManager: "pnpm@9.1.0" }),
      "yarn.lock": "",
    });
    expect(pnpm.installCommand).toBe("corepack pnpm install");
    expect(pnpm.notes).toContain("Ignoring yarn.lock: the project uses pnpm");
    expect(noted(pnpm, /^No pnpm lockfile/)).toBe(true);
    const bun = await detect({ "package.json": withBuild({ packageManager: "bun@1.1.0" }) });
    expect(bun).toMatchObject({ installCommand: "bun install", buildCommand: "bun run build" });
  });

  test('an unknown or malformed "packageManager" is ignored with a note', async () => {
    for (const packageManager of ["deno@2.0.0", 42, "pnpmx@1"]) {
      const plan = await detect({ "package.json": withBuild({ packageManager }), "yarn.lock": "" });
      expect(plan.packageManager).toBe("yarn");
      expect(noted(plan, /^Ignoring "packageManager"/)).toBe(true);
    }
  });

  test("yarn berry from packageManager, .yarnrc.yml or a berry lockfile", async () => {
    const berryLock = '__metadata:\n  version: 8\n  cacheKey: 10c0\n\n"a@npm:1":\n';
    const fixtures: Record<string, string | object>[] = [
      { "package.json": withBuild({ packageManager: "yarn@4.5.0" }), "yarn.lock": berryLock },
      {
        "package.json": withBuild(),
        "yarn.lock": berryLock,
        ".yarnrc.yml": "yarnPath: .yarn/releases/y.cjs\n",
      },
      { "package.json": withBuild(), "yarn.lock": berryLock },
    ];
    for (const files of fixtures) {
      const plan = await detect(files);
      expect(plan).toMatchObject({
        packageManager: "yarn",
        installCommand: "corepack yarn install --immutable",
        buildCommand: "corepack yarn run build",
      });
      expect(plan.notes).toContain("Yarn Berry (2+)");
    }
    const unpinned = await detect(fixtures[2] ?? {});
    expect(noted(unpinned, /without a "packageManager" field; corepack may pick Yarn 1/)).toBe(true);
    const pinnedByYarnPath = await detect(fixtures[1] ?? {});
    expect(noted(pinnedByYarnPath, /may pick Yarn 1/)).toBe(false);
  });

  test("yarn@1 in packageManager stays classic even next to a .yarnrc.yml", async () => {
    const plan = await detect({
      "package.json": withBuild({ packageManager: "yarn@1.22.22" }),
      "yarn.lock": "# yarn lockfile v1\n",
      ".yarnrc.yml": "nodeLinker: node-modules\n",
    });
    expect(plan.installCommand).toBe("corepack yarn install --frozen-lockfile");
    expect(plan.notes).toContain("Yarn classic (1.x)");
  });
});

describe("static sites", () => {
  test("no package.json: serve the root", async () => {
    const plan = await detect({ "index.html": "<h1>hi</h1>", "public/index.html": "other" });
    expect(plan).toEqual({
      framework: "static",
      packageManager: null,
      installCommand: null,
      buildCommand: null,
      outputDirectory: "",
      notes: ["No package.json: serving the files as they are", "Serving the project root"],
      startCandidate: null,
    });
  });

  test("no package.json and only public/index.html: serve public", async () => {
    const plan = await detect({ "public/index.html": "<h1>hi</h1>", "README.md": "docs" });
    expect(plan.outputDirectory).toBe("public");
    expect(plan.framework).toBe("static");
  });

  test("no index.html anywhere: serve the root anyway", async () => {
    const plan = await detect({ "about.html": "x", "public/logo.png": "x" });
    expect(plan.outputDirectory).toBe("");
  });

  test("package.json without a build script or framework is static, nothing installed", async () => {
    const atRoot = await detect({
      "package.json": { name: "site", scripts: { test: "x" }, dependencies: { lodash: "4" } },
      "pnpm-lock.yaml": "",
      "index.html": "x",
    });
    expect(atRoot).toMatchObject({
      framework: "static",
      packageManager: "pnpm",
      installCommand: null,
      buildCommand: null,
      outputDirectory: "",
    });
    expect(noted(atRoot, /No "build" script and no known framework/)).toBe(true);
    const inPublic = await detect({ "package.json": { name: "site" }, "public/index.html": "x" });
    expect(inPublic).toMatchObject({ framework: "static", packageManager: "npm", outputDirectory: "public" });
  });

  test("package.json without a build script but with api/: dependencies installed for the functions", async () => {
    const plan = await detect({
      "package.json": { name: "site", dependencies: { ms: "2" } },
      "package-lock.json": "{}",
      "api/hello.ts": "export const GET = () => new Response('hi');",
      "index.html": "x",
    });
    expect(plan).toMatchObject({
      framework: "static",
      installCommand: "npm ci",
      buildCommand: null,
      outputDirectory: "",
    });
    expect(noted(plan, /api\/ may hold functions/)).toBe(true);
  });
});

describe("overrides", () => {
  test("each non-null override replaces its detected value and is noted", async () => {
    const files = { "package.json": withBuild({ dependencies: { vite: "5" } }), "package-lock.json": "{}" };
    const plan = await detect(files, {
      installCommand: null,
      buildCommand: "npm run build:prod",
      outputDirectory: null,
    });
    expect(plan).toMatchObject({
      framework: "vite",
      installCommand: "npm ci",
      buildCommand: "npm run build:prod",
      outputDirectory: "dist",
    });
    expect(plan.notes).toContain("Using the project's build command: npm run build:prod");

    const all = await detect(files, {
      installCommand: "npm i",
      buildCommand: "make",
      outputDirectory: "www",
    });
    expect(all).toMatchObject({ installCommand: "npm i", buildCommand: "make", outputDirectory: "www" });
    expect(all.notes).toContain("Using the project's install command: npm i");
    expect(all.notes).toContain("Using the project's output directory: www");
  });

  test("overrides can turn a plain static site into a built one", async () => {
    const plan = await detect(
      { "index.html": "x" },
      { installCommand: null, buildCommand: "./build.sh", outputDirectory: "_site" },
    );
    expect(plan).toMatchObject({
      framework: "static",
      packageManager: null,
      installCommand: null,
      buildCommand: "./build.sh",
      outputDirectory: "_site",
    });
  });
});

describe("refusals", () => {
  async function refusal(dir: string): Promise<AppError> {
    const error = await detectBuild(dir, none).then(
      () => null,
      (e: unknown) => e,
    );
    if (!(error instanceof AppError)) throw new Error(`expected an AppError, got ${String(error)}`);
    return error;
  }

  test("unparseable package.json is a bad request naming the file", async () => {
    for (const contents of ["{ name: 'x' }", "", '{"scripts": {"build": "x"},}']) {
      const error = await refusal(project({ "package.json": contents }));
      expect(error.code).toBe("bad_request");
      expect(error.status).toBe(400);
      expect(error.message).toStartWith("package.json is not valid JSON: ");
    }
  });

  test("package.json that is not an object is a bad request", async () => {
    const error = await refusal(project({ "package.json": "[1, 2]" }));
    expect(error.message).toBe("package.json must contain a JSON object");
  });

  test("a byte-order mark is tolerated", async () => {
    const plan = await detect({ "package.json": `\uFEFF${JSON.stringify(withBuild())}` });
    expect(plan.framework).toBe("node");
  });

  test("a symlinked package.json is not followed", async () => {
    const dir = project({ "real.json": withBuild() });
    symlinkSync(join(dir, "real.json"), join(dir, "package.json"));
    expect((await refusal(dir)).message).toMatch(/not a regular file/);
  });

  test("symlinked lockfiles and configs are never read (they could name any file of the host)", async () => {
    const outside = project({
      "vite.config.js": "export default { build: { outDir: 'leaked' } }",
      "yarn.lock": "__metadata:\n  version: 6\n",
      "next.config.js": "module.exports = { output: 'export' }",
    });
    const dir = project({
      "package.json": JSON.stringify({ scripts: { build: "vite build" }, devDependencies: { vite: "5" } }),
    });
    for (const name of ["vite.config.js", "yarn.lock"]) symlinkSync(join(outside, name), join(dir, name));
    const plan = await detectBuild(dir, none);
    expect(plan.outputDirectory).toBe("dist");
    expect(plan.notes.join("\n")).not.toContain("leaked");
  });

  test("a missing project directory is a bad request", async () => {
    const error = await refusal(join(root, "does-not-exist"));
    expect(error.code).toBe("bad_request");
  });
});

describe("app servers", () => {
  test("a start script without a build or index.html: installed, not built, run as an app server", async () => {
    const plan = await detect({
      "package.json": { name: "api", scripts: { start: "node server.js" }, dependencies: { express: "5" } },
      "package-lock.json": "{}",
      "server.js": "",
    });
    expect(plan).toMatchObject({
      installCommand: "npm ci",
      buildCommand: null,
      startCandidate: {
        command: "npm start",
        reason: 'package.json\'s "start" script',
        withoutOutput: false,
      },
    });
    expect(noted(plan, /runs as an app server \(npm start\)/)).toBe(true);
  });

  test("a start script beside an index.html stays a static site", async () => {
    const plan = await detect({
      "package.json": { scripts: { start: "serve ." } },
      "index.html": "<h1>hi</h1>",
    });
    expect(plan.framework).toBe("static");
    expect(plan.startCandidate).toBeNull();
  });

  test("with a build script, the start script is the server only if the build leaves no output", async () => {
    const plan = await detect({
      "package.json": { scripts: { build: "tsc", start: "node dist/server.js" } },
      "pnpm-lock.yaml": "",
    });
    expect(plan.buildCommand).toBe("corepack pnpm run build");
    expect(plan.startCandidate).toEqual({
      command: "corepack pnpm start",
      reason: 'package.json\'s "start" script',
      withoutOutput: true,
    });
  });

  test("a Procfile's web process wins over the start script, with or without package.json", async () => {
    const procfile = "worker: node jobs.js\nweb: node app.js --port $PORT\n";
    const node = await detect({
      "package.json": { scripts: { start: "node other.js" } },
      Procfile: procfile,
    });
    expect(node.startCandidate?.command).toBe("node app.js --port $PORT");
    const bare = await detect({ Procfile: procfile, "app.js": "" });
    expect(bare.startCandidate).toEqual({
      command: "node app.js --port $PORT",
      reason: "the Procfile's web process",
      withoutOutput: false,
    });
    expect(noted(bare, /^No index\.html: the Procfile's web process runs as an app server/)).toBe(true);
    expect(
      (await detect({ Procfile: "worker: node jobs.js\n", "index.html": "" })).startCandidate,
    ).toBeNull();
  });
});

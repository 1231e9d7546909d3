// Functions through the real pipeline (git, bubblewrap sandbox, upload on the host) on the embedded defaults: a
// committed .vercel/output, its refusals, zero-config api/ functions bundled in the sandbox (and run here), and a
// real builder process in http mode (the ECS task's code path) sending only the blobs the platform lacks.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { queueDeployment } from "../src/deploy/deploy.ts";
import { createProject } from "../src/deploy/projects.ts";
import type { Deps } from "../src/deps.ts";
import { type Running, startRoles } from "../src/roles.ts";
import { createRuntime } from "../src/runtime/runtime.ts";
import type { Manifest, ManifestFunction } from "../src/store/artifacts.ts";
import { tempDir, testDeps, testUser } from "../src/testing/deps.ts";
import { remoteBuild as runRemoteBuild } from "../src/testing/remote-builder.ts";
import { fixtureRepo } from "../src/testing/repos.ts";
import { endedDeployment } from "../src/testing/store-deployment.ts";

let deps: Deps;
let roles: Running;
let userId: string;
let apiUrl: string;

beforeAll(async () => {
  deps = await testDeps({
    PORT: "0",
    PROXY_PORT: "0",
    MINIVERCEL_ROLE: "api,worker",
    LISTEN_HOST: "127.0.0.1",
  });
  roles = await startRoles(deps);
  apiUrl = roles.urls.api ?? "";
  userId = (await testUser(deps)).user.id;
});
afterAll(async () => {
  await roles.stop();
  await deps.close();
}, 60_000);

async function deployed(gitUrl: string, settings: { buildCommand?: string; outputDirectory?: string } = {}) {
  const name = `fn-${crypto.randomUUID().slice(0, 6)}`;
  const project = await createProject(deps.store, deps.config, userId, { name, gitUrl, ...settings });
  return endedDeployment(deps.store, (await queueDeployment(deps, userId, { projectId: project.id })).id);
}

const logOf = async (id: string) => (await deps.logs.read(id, 0, 5000)).map((l) => l.text).join("\n");
const text = async (hash: string | undefined) => (await deps.artifacts.getBlob(hash ?? ""))?.text();

/** A repository of `files`, plus `links` (path -> target) and executable files, committed. */
function repo(
  files: Record<string, string | object>,
  links: Record<string, string> = {},
  executable: string[] = [],
) {
  const r = fixtureRepo(
    Object.fromEntries(
      Object.entries(files).map(([p, c]) => [p, typeof c === "string" ? c : JSON.stringify(c)]),
    ),
  );
  for (const [path, target] of Object.entries(links)) {
    mkdirSync(dirname(join(r.dir, path)), { recursive: true });
    symlinkSync(target, join(r.dir, path));
  }
  for (const path of executable) chmodSync(join(r.dir, path), 0o755);
  r.commit({});
  return r;
}

/** Writes a stored function's files to a fresh directory, so that its bundle can be imported. */
async function materialize(fn: ManifestFunction | undefined): Promise<string> {
  const dir = tempDir("minivercel-fn-");
  for (const [name, file] of Object.entries(fn?.files ?? {})) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), (await (await deps.artifacts.getBlob(file.hash))?.bytes()) ?? "");
  }
  return dir;
}

const NODE = { runtime: "nodejs20.x", handler: "index.mjs", launcherType: "Nodejs", shouldAddHelpers: true };
const CONFIG = { version: 3, routes: [{ handle: "filesystem" }] };

describe("a committed .vercel/output", () => {
  test("static files, a function shared through a symlinked .func, a prerender with its fallback: READY", async () => {
    const handler = "export default (req, res) => res.end('shared');\n";
    const r = repo(
      {
        "package.json": { name: "prebuilt", private: true },
        ".vercel/output/config.json": CONFIG,
        ".vercel/output/static/index.html": "<h1>prebuilt</h1>",
        ".vercel/output/static/about/index.html": "<h1>about</h1>",
        ".vercel/output/functions/api/a.func/.vc-config.json": { ...NODE, maxDuration: 10 },
        ".vercel/output/functions/api/a.func/index.mjs": handler,
        ".vercel/output/functions/api/a.func/bin/run": "#!/bin/sh\n",
        ".vercel/output/functions/api/a.prerender-config.json": {
          expiration: 60,
          fallback: "a.prerender-fallback.html",
        },
        ".vercel/output/functions/api/a.prerender-fallback.html": "<p>cached</p>",
      },
      { ".vercel/output/functions/api/b.func": "a.func" },
      [".vercel/output/functions/api/a.func/bin/run"],
    );
    const d = await deployed(r.url);
    expect({ status: d.status, reason: d.statusReason }).toEqual({ status: "READY", reason: null });
    const log = await logOf(d.id);
    expect(log).toContain("Build Output API: 2 static files, 2 functions (nodejs20.x), 1 prerendered");
    const manifest = (await deps.artifacts.getManifest(d.id)) as Manifest;
    expect(manifest.version).toBe(2);
    expect(Object.keys(manifest.files)).toEqual(["/about/index.html", "/index.html"]);
    expect(JSON.parse((await text(manifest.buildOutput?.config.hash)) ?? "null")).toEqual(CONFIG);
    const [a, b] = [manifest.functions?.["/api/a"], manifest.functions?.["/api/b"]];
    expect(Object.keys(manifest.functions ?? {})).toEqual(["/api/a", "/api/b"]);
    expect(Object.keys(a?.files ?? {})).toEqual(["bin/run", "index.mjs"]);
    expect(a?.files["bin/run"]?.executable).toBe(true);
    expect(await text(a?.files["index.mjs"]?.hash)).toBe(handler);
    expect(b?.files).toEqual(a?.files ?? {});
    expect(JSON.parse((await text(a?.config.hash)) ?? "null")).toEqual({ ...NODE, maxDuration: 10 });
    expect(JSON.parse((await text(a?.prerender?.hash)) ?? "null")).toMatchObject({ expiration: 60 });
    expect(await text(a?.fallback?.hash)).toBe("<p>cached</p>");
    expect(b?.prerender).toBeUndefined();
  }, 120_000);

  test.each([
    [
      "an unsupported runtime",
      { ...NODE, runtime: "python3.12" },
      'function "/api/x": runtime "python3.12" is not supported',
    ],
    [
      "a .vc-config without handler",
      { runtime: "nodejs20.x", launcherType: "Nodejs" },
      'function "/api/x": handler: expected required property',
    ],
  ])(
    "%s: FAIL naming it, nothing stored",
    async (_, vc, reason) => {
      const handler = `export default () => ${JSON.stringify(crypto.randomUUID())};\n`;
      const r = repo({
        ".vercel/output/config.json": CONFIG,
        ".vercel/output/static/index.html": "x",
        ".vercel/output/functions/api/x.func/.vc-config.json": vc,
        ".vercel/output/functions/api/x.func/index.mjs": handler,
      });
      const d = await deployed(r.url);
      expect(d.status).toBe("FAIL");
      expect(d.statusReason).toStartWith(reason);
      expect(await deps.artifacts.getManifest(d.id)).toBeNull();
      expect(
        await deps.artifacts.missing([new Bun.CryptoHasher("sha256").update(handler).digest("hex")]),
      ).toHaveLength(1);
    },
    120_000,
  );

  test("a config.json the router refuses: FAIL naming the file", async () => {
    const r = repo({ ".vercel/output/config.json": { version: 2 }, ".vercel/output/static/index.html": "x" });
    const d = await deployed(r.url);
    expect(d.status).toBe("FAIL");
    expect(d.statusReason).toBe('.vercel/output/config.json: config.json must have "version": 3');
    expect(await deps.artifacts.getManifest(d.id)).toBeNull();
  }, 120_000);

  test("a .func symlinked out of the checkout: FAIL naming it, nothing of the host stored", async () => {
    // The checkout is <data>/builds/<id>/src: from functions/api/, seven levels up is the data dir.
    const r = repo(
      { ".vercel/output/config.json": CONFIG, ".vercel/output/static/index.html": "x" },
      { ".vercel/output/functions/api/x.func": "../../../../../../.." },
    );
    const d = await deployed(r.url);
    expect(d.status).toBe("FAIL");
    expect(d.statusReason).toBe(
      'function "/api/x": functions/api/x.func resolves outside .vercel/output through a symbolic link; refusing to read it',
    );
    expect(await deps.artifacts.getManifest(d.id)).toBeNull();
    const key = await Bun.file(join(deps.config.dataDir, "secret.key"))
      .bytes()
      .catch(() => null);
    if (key)
      expect(
        await deps.artifacts.missing([new Bun.CryptoHasher("sha256").update(key).digest("hex")]),
      ).toHaveLength(1);
  }, 120_000);
});

const ZERO_CONFIG = {
  "index.html": "<h1>home</h1>",
  ".well-known/security.txt": "Contact: mailto:security@example.com\n",
  ".env": "SECRET=never-served\n",
  "README.md": "# not served\n",
  "api/hello.ts":
    'import { greet } from "./_util.ts";\n\nexport function GET(request: Request): Response {\n  return new Response(greet(new URL(request.url).searchParams.get("name") ?? "world"));\n}\n',
  "api/_util.ts": 'export const greet = (name: string): string => "hello " + name;\n',
  "api/users/[id].js":
    "export default function handler(req, res) {\n  res.status(200).json({ id: req.query.id });\n}\n",
};

/** A Node-style call the way Vercel's helpers shape it (the runtime provides the real ones). */
async function callNode(handler: (req: unknown, res: unknown) => unknown, query: Record<string, string>) {
  let sent: { status: number; body: unknown } = { status: 0, body: null };
  const res = {
    status: (status: number) => ({ json: (body: unknown) => (sent = { status, body }) }),
  };
  await handler({ query, method: "GET", url: "/" }, res);
  return sent;
}

describe("zero-config api/ functions", () => {
  test("Web and Node handlers bundle in the sandbox, _util is no function, routes follow Vercel's", async () => {
    const d = await deployed(repo(ZERO_CONFIG).url);
    expect({ status: d.status, reason: d.statusReason }).toEqual({ status: "READY", reason: null });
    const log = await logOf(d.id);
    expect(log).toContain("Found 2 functions in api/: writing .vercel/output");
    expect(log).toContain("Build Output API: 2 static files, 2 functions (nodejs20.x)");
    const manifest = (await deps.artifacts.getManifest(d.id)) as Manifest;
    // The root minus what is never served: api/ sources, .env and other dot files (but .well-known), README.md.
    expect(Object.keys(manifest.files)).toEqual(["/.well-known/security.txt", "/index.html"]);
    expect(Object.keys(manifest.functions ?? {})).toEqual(["/api/hello", "/api/users/[id]"]);
    const config = JSON.parse((await text(manifest.buildOutput?.config.hash)) ?? "null");
    expect(config.routes.slice(0, 2)).toEqual([
      { handle: "filesystem" },
      { src: "^/api/users/([^/]+)$", dest: "/api/users/[id]?id=$1", check: true },
    ]);
    const hello = manifest.functions?.["/api/hello"];
    expect(JSON.parse((await text(hello?.config.hash)) ?? "null")).toMatchObject(NODE);
    expect(Object.keys(hello?.files ?? {})).toEqual(["index.mjs", "index.mjs.map"]);

    // The bundles run: each is one module with its imports inside.
    const web = await import(join(await materialize(hello), "index.mjs"));
    expect(await (web.GET(new Request("http://x/api/hello?name=ada")) as Response).text()).toBe("hello ada");
    const node = await import(join(await materialize(manifest.functions?.["/api/users/[id]"]), "index.mjs"));
    expect(await callNode(node.default, { id: "42" })).toEqual({ status: 200, body: { id: "42" } });

    // And on the function runtime, in its sandbox, as the router's rewrite would call them.
    const runtime = createRuntime(deps);
    try {
      const invoke = async (path: string, dest: string, search: string) => {
        const fn = manifest.functions?.[dest];
        if (!fn) throw new Error(`no function ${dest}`);
        const target = {
          deploymentId: d.id,
          projectId: d.projectId,
          environment: "preview" as const,
          deploymentUrl: "http://x",
          path: dest,
          fn,
        };
        const outcome = await runtime.invoke(target, {
          request: new Request(`http://site.localhost${path}${search}`),
          path: dest,
          search,
          host: "site.localhost",
          proto: "http",
          clientIp: null,
          requestId: "req-1",
        });
        return outcome.kind === "response" ? outcome.response.text() : `${outcome.status} ${outcome.reason}`;
      };
      expect(await invoke("/api/hello", "/api/hello", "?name=grace")).toBe("hello grace");
      expect(JSON.parse(await invoke("/api/users/7", "/api/users/[id]", "?id=7"))).toEqual({ id: "7" });
    } finally {
      await runtime.stop();
    }
  }, 120_000);
});

describe("zero-config with a build, and what is refused", () => {
  test("a built output directory becomes static/ (a link, never copied); the functions join it", async () => {
    const r = repo({
      "api/hello.ts": ZERO_CONFIG["api/hello.ts"],
      "api/_util.ts": ZERO_CONFIG["api/_util.ts"],
    });
    const d = await deployed(r.url, {
      buildCommand: "mkdir -p dist && echo '<h1>built</h1>' >dist/index.html",
      outputDirectory: "dist",
    });
    expect({ status: d.status, reason: d.statusReason }).toEqual({ status: "READY", reason: null });
    const manifest = await deps.artifacts.getManifest(d.id);
    expect(Object.keys(manifest?.files ?? {})).toEqual(["/index.html"]);
    expect(await text(manifest?.files["/index.html"]?.hash)).toBe("<h1>built</h1>\n");
    expect(Object.keys(manifest?.functions ?? {})).toEqual(["/api/hello"]);
  }, 120_000);

  test("api/ or .vercel linked out of the checkout: FAIL naming it", async () => {
    const api = await deployed(repo({ "index.html": "x" }, { api: "/etc" }).url);
    expect(api.status).toBe("FAIL");
    expect(api.statusReason).toBe(
      'the functions directory "api" resolves outside the repository through a symbolic link; refusing to read it',
    );
    // A Build Output somewhere on the host: never read through a link.
    const elsewhere = tempDir("minivercel-elsewhere-");
    mkdirSync(join(elsewhere, "output/static"), { recursive: true });
    writeFileSync(join(elsewhere, "output/config.json"), JSON.stringify(CONFIG));
    writeFileSync(join(elsewhere, "output/static/host.txt"), "host file");
    const vercel = await deployed(repo({ "index.html": "x" }, { ".vercel": elsewhere }).url);
    expect(vercel.status).toBe("FAIL");
    expect(vercel.statusReason).toBe(
      'the Build Output directory ".vercel/output" resolves outside the repository through a symbolic link; refusing to read it',
    );
  }, 120_000);

  test("a function that does not compile: FAIL, the bundler's error in the log", async () => {
    const d = await deployed(
      repo({ "index.html": "x", "api/broken.ts": "export const GET = () => {\n" }).url,
    );
    expect(d.status).toBe("FAIL");
    expect(d.statusReason).toBe("bundling a function failed (see the build log)");
    expect(await logOf(d.id)).toContain("Bundling api/broken.ts -> api/broken");
  }, 120_000);
});

describe("a real builder process in http mode (the ECS task's code path, sandbox none)", () => {
  const remoteBuild = (gitUrl: string) => runRemoteBuild(deps, { userId, apiUrl, gitUrl });
  /** The blobs a manifest names besides precompressed variants: what the uploader sends when they are missing. */
  const originals = (m: Manifest | null) =>
    new Set([
      ...Object.values(m?.files ?? {}).map((f) => f.hash),
      ...(m?.buildOutput ? [m.buildOutput.config.hash] : []),
      ...Object.values(m?.functions ?? {}).flatMap((fn) => [
        fn.config.hash,
        ...(fn.prerender ? [fn.prerender.hash] : []),
        ...(fn.fallback ? [fn.fallback.hash] : []),
        ...Object.values(fn.files).map((f) => f.hash),
      ]),
    ]);

  test("a function bundle goes up through the build API, and only the blobs the platform lacks", async () => {
    const r = repo(ZERO_CONFIG);
    const first = await remoteBuild(r.url);
    expect({ status: first.status, reason: first.statusReason }).toEqual({ status: "READY", reason: null });
    const before = await deps.artifacts.getManifest(first.id);
    expect(Object.keys(before?.functions ?? {})).toEqual(["/api/hello", "/api/users/[id]"]);

    // The same commit again: every blob is there already.
    const same = await remoteBuild(r.url);
    expect(same.status).toBe("READY");
    expect(await logOf(same.id)).toMatch(/uploading 0 new blobs \(0 B\), \d+ already stored/);

    // One function changed: only its new bundle (and source map) travel.
    r.commit({ "api/hello.ts": ZERO_CONFIG["api/hello.ts"].replace("greet(", "greet(`again ` + ") });
    const changed = await remoteBuild(r.url);
    expect(changed.status).toBe("READY");
    const after = await deps.artifacts.getManifest(changed.id);
    const fresh = [...originals(after)].filter((h) => !originals(before).has(h));
    expect(fresh.length).toBeGreaterThan(0);
    expect(await logOf(changed.id)).toContain(`uploading ${fresh.length} new blobs`);
    expect(after?.functions?.["/api/users/[id]"]).toEqual(
      before?.functions?.["/api/users/[id]"] ?? { config: { hash: "", size: 0 }, files: {} },
    );
  }, 120_000);
});

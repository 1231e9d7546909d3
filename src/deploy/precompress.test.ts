// Uploaded file sets are precompressed like built sites: through the API's upload routes, served by the proxy
// with Content-Encoding and Vary, each content compressed once across deploys.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import type { Deps } from "../deps.ts";
import { productionUrl } from "../model/urls.ts";
import { createProxy, type SiteProxy } from "../proxy/proxy.ts";
import { apiClient, type Client, obj, testDeps, testUser } from "../testing/deps.ts";
import { request } from "../testing/sites.ts";

let deps: Deps;
let proxy: SiteProxy;
let api: Client;

beforeAll(async () => {
  deps = await testDeps();
  proxy = await createProxy(deps, { reconcileMs: 60_000 });
  api = apiClient(deps, (await testUser(deps)).token);
});
afterAll(async () => {
  await proxy.stop();
  await deps.close();
});

const sha256 = (data: string) => new Bun.CryptoHasher("sha256").update(data).digest("hex");

/** Uploads what the project lacks and deploys it to production, as the CLI does; returns the deployment. */
async function deploy(projectId: string, files: Record<string, string>) {
  const hashes = Object.values(files).map(sha256);
  const { missing } = obj((await api("POST", "/api/files/missing", { hashes })).body) as {
    missing: string[];
  };
  for (const content of Object.values(files))
    if (missing.includes(sha256(content)))
      expect((await api("PUT", `/api/files/${sha256(content)}`, content)).status).toBe(204);
  const res = await api("POST", `/api/projects/${projectId}/deployments`, {
    files: Object.fromEntries(
      Object.entries(files).map(([path, content]) => [
        path,
        { hash: sha256(content), size: Buffer.byteLength(content) },
      ]),
    ),
    target: "production",
  });
  expect(res.status).toBe(201);
  await proxy.reconcile();
  return obj(obj(res.body).deployment);
}

const logOf = async (id: unknown) => (await deps.logs.read(String(id), 0, 100)).map((l) => l.text);

test("compressible files go live with gzip and brotli variants; images and tiny files as they are", async () => {
  const project = obj((await api("POST", "/api/projects", { name: "Packed" })).body);
  const bundle = `export const words = ${JSON.stringify(Array.from({ length: 800 }, (_, i) => `word-${i % 50}`))};\n`;
  const styles = `body { margin: 0; }\n${".card { padding: 1rem; color: #333; }\n".repeat(100)}`;
  const d = await deploy(String(project.id), {
    "/index.html": "<h1>tiny</h1>",
    "/app.js": bundle,
    "/app.css": styles,
    "/logo.png": "\x89PNG not really, but typed as an image".repeat(60),
  });
  const manifest = await deps.artifacts.getManifest(String(d.id));
  const files = manifest?.files ?? {};
  expect([files["/app.js"]?.gzip, files["/app.js"]?.br].every(Boolean)).toBe(true);
  expect([files["/app.css"]?.gzip, files["/app.css"]?.br].every(Boolean)).toBe(true);
  expect([files["/index.html"]?.gzip, files["/logo.png"]?.br]).toEqual([undefined, undefined]);
  expect((await logOf(d.id)).some((l) => l.startsWith("precompressed 2 of 2 text files"))).toBe(true);

  const site = productionUrl({ subDomain: String(project.subDomain) }, deps.config);
  const br = await request(proxy, `${site}/app.js`, { headers: { "accept-encoding": "gzip, br" } });
  expect(br.headers.get("content-encoding")).toBe("br");
  expect(br.headers.get("vary")?.toLowerCase()).toContain("accept-encoding");
  expect(brotliDecompressSync(Buffer.from(await br.arrayBuffer())).toString()).toBe(bundle);
  const gz = await request(proxy, `${site}/app.css`, { headers: { "accept-encoding": "gzip" } });
  expect(gz.headers.get("content-encoding")).toBe("gzip");
  expect(gunzipSync(Buffer.from(await gz.arrayBuffer())).toString()).toBe(styles);
  const plain = await request(proxy, `${site}/app.js`, { headers: { "accept-encoding": "identity" } });
  expect([plain.headers.get("content-encoding"), await plain.text()]).toEqual([null, bundle]);
});

test("a deploy that changes one file compresses that one; the rest reuse production's variants", async () => {
  const project = obj((await api("POST", "/api/projects", { name: "Again" })).body);
  const lib = `/* lib */\n${"export function f(x) { return x * 2; }\n".repeat(80)}`;
  const page = (n: number) => `<main>${"<p>the same paragraph, again</p>".repeat(60)} version ${n}</main>`;
  const first = await deploy(String(project.id), { "/lib.js": lib, "/index.html": page(1) });
  expect((await logOf(first.id)).find((l) => l.startsWith("precompressed"))).toContain("2 of 2");
  const second = await deploy(String(project.id), { "/lib.js": lib, "/index.html": page(2) });
  const line = (await logOf(second.id)).find((l) => l.startsWith("precompressed")) ?? "";
  expect(line).toContain("1 reused from the production deployment, 1 compressed now");
  const [a, b] = [
    await deps.artifacts.getManifest(String(first.id)),
    await deps.artifacts.getManifest(String(second.id)),
  ];
  expect(b?.files["/lib.js"]?.br).toEqual(a?.files["/lib.js"]?.br);
  expect(b?.files["/index.html"]?.br?.hash).not.toBe(a?.files["/index.html"]?.br?.hash);
});

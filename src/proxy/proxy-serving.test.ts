// Proxy conformance through the handler, part 2: serving from the manifest (lookup rules, _redirects, _headers,
// 404 and SPA fallback) and HTTP semantics (types, ETag/304, HEAD, ranges, precompressed variants, caching).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { brotliDecompressSync } from "node:zlib";
import type { Deps } from "../deps.ts";
import type { Deployment, Project } from "../model/entities.ts";
import { productionUrl } from "../model/urls.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { deploySite, request } from "../testing/sites.ts";
import { createProxy, type SiteProxy } from "./proxy.ts";
import { IMMUTABLE, REVALIDATE } from "./respond.ts";

const BUNDLE = `export const items = ${JSON.stringify(Array.from({ length: 300 }, (_, i) => ({ id: i, label: `item number ${i}` })))};\n`;
const PNG = new Uint8Array([
  0x89,
  0x50,
  0x4e,
  0x47,
  0x0d,
  0x0a,
  0x1a,
  0x0a,
  ...Array.from({ length: 600 }, (_, i) => i % 251),
]);

const FILES = {
  "index.html": "<h1>home</h1>",
  "about.html": "<h1>about</h1>",
  "docs/index.html": "<h1>docs</h1>",
  "guide.html": "<h1>guide</h1>",
  "forced.html": "<h1>forced</h1>",
  "users/ada.html": "<h1>ada</h1>",
  "gone-page.html": "<h1>gone</h1>",
  "assets/app.3f9a1c2b.js": BUNDLE,
  "assets/plain.js": BUNDLE,
  "img/logo.png": PNG,
  "data.json": '{"ok":true}',
  _redirects: `
/old          /about         301
/temp         /about         302
/seven        /about         307
/perm         /about         308
/news/*       /blog/:splat   301
/u/:name      /users/:name.html  200
/about        /elsewhere     302
/forced.html  /about         302!
/app/*        /index.html    200
/gone         /gone-page.html  410
/external     https://example.com/landing  302
`,
  _headers: `
/*
  X-Site: demo
/about
  X-Frame-Options: DENY
  Cache-Control: public, max-age=60
`,
};

let deps: Deps;
let proxy: SiteProxy;
let site: Project;
let deployment: Deployment;
let spa: Project;
let noSpa: Project;
let with404: Project;
let url: (project: Project, path: string) => string;

beforeAll(async () => {
  deps = await testDeps();
  const { user } = await testUser(deps);
  const { siteProject } = await import("../testing/sites.ts");
  site = await siteProject(deps, user.id);
  deployment = await deploySite(deps, site, FILES);
  spa = await siteProject(deps, user.id);
  await deploySite(deps, spa, { "index.html": "<div id=app></div>", "main.js": "x" });
  noSpa = await siteProject(deps, user.id, { spaFallback: false });
  await deploySite(deps, noSpa, { "index.html": "<div id=app></div>" });
  with404 = await siteProject(deps, user.id);
  await deploySite(deps, with404, { "index.html": "home", "404.html": "<h1>custom 404</h1>" });
  proxy = await createProxy(deps, { reconcileMs: 60_000 });
  url = (project, path) => `${productionUrl(project, deps.config)}${path}`;
});

afterAll(async () => {
  await proxy.stop();
  await deps.close();
});

const get = (project: Project, path: string, headers: Record<string, string> = {}, method = "GET") =>
  request(proxy, url(project, path), { method, headers, redirect: "manual" });

async function text(project: Project, path: string, headers: Record<string, string> = {}) {
  const res = await get(project, path, headers);
  return { status: res.status, body: await res.text(), headers: res.headers };
}

describe("lookup rules", () => {
  test("/ and directories serve index.html; clean URLs serve name.html", async () => {
    expect(await text(site, "/")).toMatchObject({ status: 200, body: "<h1>home</h1>" });
    expect(await text(site, "/index.html")).toMatchObject({ status: 200, body: "<h1>home</h1>" });
    expect(await text(site, "/docs/")).toMatchObject({ status: 200, body: "<h1>docs</h1>" });
    expect(await text(site, "/docs/index.html")).toMatchObject({ status: 200, body: "<h1>docs</h1>" });
    expect(await text(site, "/guide")).toMatchObject({ status: 200, body: "<h1>guide</h1>" });
    expect(await text(site, "/guide.html")).toMatchObject({ status: 200, body: "<h1>guide</h1>" });
  });

  test("trailing slash: /dir redirects to /dir/ (query kept); /name/ serves name.html", async () => {
    const res = await get(site, "/docs?x=1&y=%20");
    expect(res.status).toBe(308);
    expect(res.headers.get("location")).toBe("/docs/?x=1&y=%20");
    expect(await text(site, "/guide/")).toMatchObject({ status: 200, body: "<h1>guide</h1>" });
    // A file is not a directory ("site" has the SPA fallback on, so this is its index.html, not guide.html).
    expect(await text(site, "/guide.html/")).toMatchObject({ body: "<h1>home</h1>" });
    expect(await text(site, "//docs//")).toMatchObject({ status: 200, body: "<h1>docs</h1>" });
  });

  test("redirects: statuses, splats, placeholders, query passing, external targets", async () => {
    for (const [path, status] of [
      ["/old", 301],
      ["/temp", 302],
      ["/seven", 307],
      ["/perm", 308],
    ] as const) {
      const res = await get(site, path);
      expect({ path, status: res.status, location: res.headers.get("location") }).toEqual({
        path,
        status,
        location: "/about",
      });
    }
    const news = await get(site, "/news/2024/hello%20world?ref=x");
    expect(news.status).toBe(301);
    expect(news.headers.get("location")).toBe("/blog/2024/hello%20world?ref=x");
    expect((await get(site, "/external")).headers.get("location")).toBe("https://example.com/landing");
  });

  test("200 rewrites keep the URL; 410 serves its page with the status", async () => {
    expect(await text(site, "/u/ada")).toMatchObject({ status: 200, body: "<h1>ada</h1>" });
    expect(await text(site, "/app/any/route")).toMatchObject({ status: 200, body: "<h1>home</h1>" });
    expect(await text(site, "/gone")).toMatchObject({ status: 410, body: "<h1>gone</h1>" });
    // A rewrite to a missing file is a miss like any other (here: the SPA fallback).
    expect(await text(site, "/u/nobody")).toMatchObject({ body: "<h1>home</h1>" });
  });

  test("an existing file shadows a rule unless the rule is forced", async () => {
    expect(await text(site, "/about")).toMatchObject({ status: 200, body: "<h1>about</h1>" });
    const forced = await get(site, "/forced.html");
    expect(forced.status).toBe(302);
    expect(forced.headers.get("location")).toBe("/about");
  });

  test("_headers apply per path and override the defaults; the files themselves are never served", async () => {
    const about = await get(site, "/about");
    expect(about.headers.get("x-site")).toBe("demo");
    expect(about.headers.get("x-frame-options")).toBe("DENY");
    expect(about.headers.get("cache-control")).toBe("public, max-age=60");
    const home = await get(site, "/");
    expect(home.headers.get("x-site")).toBe("demo");
    expect(home.headers.get("x-frame-options")).toBe("SAMEORIGIN");
    for (const path of ["/_redirects", "/_headers"]) {
      const res = await text(site, path);
      expect(res.body).not.toContain("/news/*");
      expect(res.body).not.toContain("X-Site");
    }
  });

  test("404.html is served with 404 when the site has one", async () => {
    for (const path of ["/nope", "/nope.js", "/deep/er/page/"]) {
      expect(await text(with404, path)).toMatchObject({ status: 404, body: "<h1>custom 404</h1>" });
    }
    expect((await get(with404, "/nope", {}, "HEAD")).status).toBe(404);
  });

  test("SPA fallback: page-like paths get index.html; assets 404; switchable per project", async () => {
    expect(await text(spa, "/dashboard/settings")).toMatchObject({ status: 200, body: "<div id=app></div>" });
    expect(await text(spa, "/report.pdf", { accept: "text/html,*/*" })).toMatchObject({ status: 200 });
    const asset = await text(spa, "/missing.js");
    expect(asset.status).toBe(404);
    expect(asset.body).toContain("Page not found");
    expect((await text(noSpa, "/dashboard")).status).toBe(404);
    expect(await text(noSpa, "/")).toMatchObject({ status: 200, body: "<div id=app></div>" });
  });

  test("only GET and HEAD", async () => {
    const res = await get(site, "/", {}, "POST");
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD");
  });
});

describe("HTTP semantics", () => {
  const hashOf = async (path: string) => (await deps.artifacts.getManifest(deployment.id))?.files[path]?.hash;

  test("content type, strong ETag from the content hash, security headers, caching policy", async () => {
    const html = await get(site, "/about");
    expect(html.headers.get("content-type")).toBe("text/html;charset=utf-8");
    expect(html.headers.get("etag")).toBe(`"${await hashOf("/about.html")}"`);
    expect(html.headers.get("x-content-type-options")).toBe("nosniff");
    expect(html.headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
    const page = await get(site, "/guide");
    expect(page.headers.get("cache-control")).toBe(REVALIDATE);
    expect(page.headers.get("x-frame-options")).toBe("SAMEORIGIN");
    const hashed = await get(site, "/assets/app.3f9a1c2b.js");
    expect(hashed.headers.get("cache-control")).toBe(IMMUTABLE);
    expect(hashed.headers.get("content-type")).toBe("text/javascript;charset=utf-8");
    expect((await get(site, "/assets/plain.js")).headers.get("cache-control")).toBe(REVALIDATE);
    expect((await get(site, "/img/logo.png")).headers.get("content-type")).toBe("image/png");
    expect((await get(site, "/data.json")).headers.get("content-type")).toBe(
      "application/json;charset=utf-8",
    );
  });

  test("If-None-Match -> 304 without a body (any listed tag, weak or strong, or *)", async () => {
    const etag = `"${await hashOf("/index.html")}"`;
    for (const inm of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
      const res = await get(site, "/", { "if-none-match": inm });
      expect(res.status).toBe(304);
      expect(await res.text()).toBe("");
      expect(res.headers.get("etag")).toBe(etag);
    }
    expect((await get(site, "/", { "if-none-match": '"stale"' })).status).toBe(200);
  });

  test("HEAD: headers and length, no body", async () => {
    const res = await get(site, "/img/logo.png", {}, "HEAD");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe(String(PNG.length));
    expect(await res.text()).toBe("");
  });

  test("Range: 206 with Content-Range, suffix and open ranges, 416, If-Range", async () => {
    const first = await get(site, "/img/logo.png", { range: "bytes=0-9" });
    expect(first.status).toBe(206);
    expect(first.headers.get("content-range")).toBe(`bytes 0-9/${PNG.length}`);
    expect(new Uint8Array(await first.arrayBuffer())).toEqual(PNG.subarray(0, 10));
    const suffix = await get(site, "/img/logo.png", { range: "bytes=-5" });
    expect(new Uint8Array(await suffix.arrayBuffer())).toEqual(PNG.subarray(PNG.length - 5));
    const open = await get(site, "/img/logo.png", { range: "bytes=600-" });
    expect(open.headers.get("content-range")).toBe(`bytes 600-${PNG.length - 1}/${PNG.length}`);
    const beyond = await get(site, "/img/logo.png", { range: `bytes=${PNG.length}-` });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("content-range")).toBe(`bytes */${PNG.length}`);
    expect((await get(site, "/img/logo.png", { range: "bytes=0-1", "if-range": '"old"' })).status).toBe(200);
    expect((await get(site, "/img/logo.png", { range: "bytes=0-1,4-5" })).status).toBe(200);
    const head = await get(site, "/img/logo.png", { range: "bytes=2-3" }, "HEAD");
    expect(head.status).toBe(206);
    expect(head.headers.get("content-length")).toBe("2");
  });

  test("Last-Modified is the deployment's time; If-Modified-Since and a dated If-Range use it", async () => {
    const manifest = await deps.artifacts.getManifest(deployment.id);
    const made = new Date(manifest?.createdAt ?? "");
    const lastModified = made.toUTCString();
    const res = await get(site, "/img/logo.png");
    expect(res.headers.get("last-modified")).toBe(lastModified);
    const ims = async (date: string, extra: Record<string, string> = {}) =>
      (await get(site, "/img/logo.png", { "if-modified-since": date, ...extra })).status;
    expect(await ims(lastModified)).toBe(304);
    expect(await ims(new Date(made.getTime() + 3_600_000).toUTCString())).toBe(304);
    expect(await ims(new Date(made.getTime() - 3_600_000).toUTCString())).toBe(200);
    expect(await ims("yesterday-ish")).toBe(200);
    // If-None-Match decides when both are sent (RFC 9110 13.2.2): a stale tag is a 200 whatever the date.
    expect(await ims(lastModified, { "if-none-match": '"stale"' })).toBe(200);
    // On a compressed variant too, with its own ETag and Vary.
    const gz = await get(site, "/assets/plain.js", {
      "accept-encoding": "gzip",
      "if-modified-since": lastModified,
    });
    expect([gz.status, gz.headers.get("content-encoding"), gz.headers.get("vary")]).toEqual([
      304,
      "gzip",
      "Accept-Encoding",
    ]);
    // If-Range with the exact date keeps the range; another date sends the whole file.
    const range = { range: "bytes=0-1" };
    expect((await get(site, "/img/logo.png", { ...range, "if-range": lastModified })).status).toBe(206);
    const older = new Date(made.getTime() - 1000).toUTCString();
    expect((await get(site, "/img/logo.png", { ...range, "if-range": older })).status).toBe(200);
    // A 404 page has no validator to revalidate against.
    expect((await get(with404, "/nope")).headers.get("last-modified")).toBeNull();
  });

  test("precompressed variants by Accept-Encoding, with Vary and variant ETags", async () => {
    const path = "/assets/app.3f9a1c2b.js";
    const hash = await hashOf(path);
    const br = await get(site, path, { "accept-encoding": "gzip, deflate, br" });
    expect(br.headers.get("content-encoding")).toBe("br");
    expect(br.headers.get("vary")).toBe("Accept-Encoding");
    expect(br.headers.get("etag")).toBe(`"${hash}-br"`);
    const brBytes = new Uint8Array(await br.arrayBuffer());
    expect(brBytes.length).toBeLessThan(BUNDLE.length / 3);
    expect(brotliDecompressSync(brBytes).toString()).toBe(BUNDLE);

    const gz = await get(site, path, { "accept-encoding": "br;q=0, gzip" });
    expect(gz.headers.get("content-encoding")).toBe("gzip");
    expect(new TextDecoder().decode(Bun.gunzipSync(new Uint8Array(await gz.arrayBuffer())))).toBe(BUNDLE);
    expect(
      (await get(site, path, { "accept-encoding": "gzip", "if-none-match": `"${hash}-gz"` })).status,
    ).toBe(304);

    const identity = await get(site, path);
    expect(identity.headers.get("content-encoding")).toBeNull();
    expect(identity.headers.get("vary")).toBe("Accept-Encoding");
    expect(await identity.text()).toBe(BUNDLE);
    // A range is always of the identity bytes.
    const ranged = await get(site, path, { "accept-encoding": "br", range: "bytes=0-5" });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get("content-encoding")).toBeNull();
    expect(await ranged.text()).toBe(BUNDLE.slice(0, 6));
    // Small or incompressible files have no variants and no Vary.
    expect((await get(site, "/img/logo.png", { "accept-encoding": "br" })).headers.get("vary")).toBeNull();
  });
});

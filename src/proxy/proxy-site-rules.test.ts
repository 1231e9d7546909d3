// Proxy conformance through the handler, part 3: the limits of a site's own `_redirects` and `_headers`
// (only the root files are read, wildcards stop at a path segment, no script schemes, no reserved headers).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Deps } from "../deps.ts";
import type { Project } from "../model/entities.ts";
import { productionUrl } from "../model/urls.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { deploySite, deployUnchecked, request, siteProject } from "../testing/sites.ts";
import { createProxy, type SiteProxy } from "./proxy.ts";

/** Every header name headers-file.ts reserves for the server: a site's `_headers` must not change them. */
const RESERVED = [
  "accept-ranges",
  "connection",
  "content-encoding",
  "content-length",
  "content-range",
  "date",
  "etag",
  "keep-alive",
  "location",
  "proxy-authenticate",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "vary",
];
const PLANTED = "planted-by-the-site";
/** Big enough to be stored with gzip and brotli variants (which carry Vary and Content-Encoding). */
const BIG_SCRIPT = `export const rows = ${JSON.stringify(Array.from({ length: 200 }, (_, i) => `row ${i}`))};\n`;

const SCHEMES = {
  "/js": "javascript:alert(document.domain)",
  "/js-mixed-case": "JaVaScRiPt:alert(1)",
  "/vbscript": "vbscript:msgbox(1)",
  "/data": "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
  "/ftp": "ftp://example.com/file",
  "/mail": "mailto:someone@example.com",
  "/file": "file:///etc/passwd",
};

const FILES = {
  "index.html": "<h1>home</h1>",
  "news.html": "<h1>news</h1>",
  "news/today.html": "<h1>today</h1>",
  "newsletter.html": "<h1>newsletter</h1>",
  "docs/index.html": "<h1>docs</h1>",
  "docs/guide.html": "<h1>guide</h1>",
  "reserved/page.html": "<h1>reserved</h1>",
  "reserved/app.js": BIG_SCRIPT,
  // Only the root files are configuration; these are neither read as rules nor served as files.
  "docs/_redirects": "/docs/*  /hijacked  302!\n/missing  /hijacked  302\n/  /hijacked  302!\n",
  "docs/_headers": "/*\n  X-From-Docs: applied\n  Content-Security-Policy: none\n",
  _redirects: ["/press/*  /blog/:splat  301", ""].join("\n"),
  _headers: [
    "/news/*",
    "  X-News: yes",
    "/reserved/*",
    ...RESERVED.map((name) => `  ${name}: ${PLANTED}`),
    "  X-Allowed: yes",
    "",
  ].join("\n"),
};

/** Refused at deploy time today (site-config.ts); a deployment stored before the check still has them. */
const SCHEME_REDIRECTS = [
  ...Object.entries(SCHEMES).map(([from, to]) => `${from}  ${to}  302`),
  "/rewrite-js  javascript:alert(1)  200",
  "/to/*  :splat  302",
  "",
].join("\n");

let deps: Deps;
let proxy: SiteProxy;
let site: Project;
let legacy: Project;

beforeAll(async () => {
  deps = await testDeps();
  const { user } = await testUser(deps);
  // No SPA fallback: a miss is a plain 404, so nothing else can answer in a rule's place.
  site = await siteProject(deps, user.id, { spaFallback: false });
  await deploySite(deps, site, FILES);
  legacy = await siteProject(deps, user.id, { spaFallback: false });
  await deployUnchecked(deps, legacy, { "/index.html": "<h1>legacy</h1>", "/_redirects": SCHEME_REDIRECTS });
  proxy = await createProxy(deps, { reconcileMs: 60_000 });
});

afterAll(async () => {
  await proxy.stop();
  await deps.close();
});

async function get(path: string, headers: Record<string, string> = {}, method = "GET", of = site) {
  const res = await request(proxy, `${productionUrl(of, deps.config)}${path}`, {
    method,
    headers,
    redirect: "manual",
  });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

describe("_redirects and _headers in a subfolder", () => {
  test("are never served as files", async () => {
    for (const path of ["/docs/_redirects", "/docs/_headers", "/docs/_redirects/", "/docs//_headers"]) {
      const res = await get(path);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect(res.body).not.toContain("/hijacked");
      expect(res.body).not.toContain("X-From-Docs");
    }
  });

  test("are never applied as rules: only the root files are read", async () => {
    for (const path of ["/", "/docs/", "/docs/guide"]) {
      const res = await get(path);
      expect({ path, status: res.status, location: res.headers.get("location") }).toEqual({
        path,
        status: 200,
        location: null,
      });
      expect(res.headers.get("x-from-docs")).toBeNull();
      expect(res.headers.get("content-security-policy")).toBeNull();
    }
    expect(await get("/missing")).toMatchObject({ status: 404 });
    // The root files are read (the same deployment, so the subfolder ones were not merely ignored with them).
    expect((await get("/press/x")).headers.get("location")).toBe("/blog/x");
    expect((await get("/news")).headers.get("x-news")).toBe("yes");
  });
});

describe("wildcards", () => {
  test("a _headers rule /news/* applies to /news and below it, never to /newsletter", async () => {
    for (const path of ["/news", "/news/today", "/news/today.html"]) {
      const res = await get(path);
      expect({ path, status: res.status, header: res.headers.get("x-news") }).toEqual({
        path,
        status: 200,
        header: "yes",
      });
    }
    const letter = await get("/newsletter");
    expect(letter).toMatchObject({ status: 200, body: "<h1>newsletter</h1>" });
    expect(letter.headers.get("x-news")).toBeNull();
  });

  test("a _redirects rule /press/* redirects /press and below it, never /pressroom", async () => {
    for (const [path, location] of [
      ["/press", "/blog/"],
      ["/press/", "/blog/"],
      ["/press/2024/launch", "/blog/2024/launch"],
    ] as const) {
      const res = await get(path);
      expect({ path, status: res.status, location: res.headers.get("location") }).toEqual({
        path,
        status: 301,
        location,
      });
    }
    for (const path of ["/pressroom", "/pressroom/x", "/presses"]) {
      const res = await get(path);
      expect({ path, status: res.status, location: res.headers.get("location") }).toEqual({
        path,
        status: 404,
        location: null,
      });
    }
  });
});

describe("_redirects targets", () => {
  test("a target of any scheme but http(s) is refused at deploy time, naming each line", async () => {
    const { user } = await testUser(deps);
    const refused = await deploySite(deps, await siteProject(deps, user.id), {
      "index.html": "x",
      _redirects: SCHEME_REDIRECTS,
    }).then(
      () => "deployed",
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    for (const [i, to] of Object.values(SCHEMES).entries())
      expect(refused).toContain(
        `_redirects line ${i + 1}: the target ${to} has a scheme other than http or https`,
      );
    expect(refused).toContain("the target :splat must be a path starting with / or an http(s) URL");
  });

  test("stored before that check, such a target is not followed: no Location with that scheme", async () => {
    const paths = [...Object.keys(SCHEMES), "/rewrite-js", "/to/javascript:alert(1)", "/to/data:,x"];
    for (const path of paths) {
      const res = await get(path, {}, "GET", legacy);
      const location = res.headers.get("location");
      expect({ path, status: res.status, location }).toEqual({ path, status: 404, location: null });
      expect(res.body).not.toContain("alert(");
    }
  });
});

describe("_headers", () => {
  test("overriding a reserved header has no effect on any answer", async () => {
    const answers = {
      "small file": await get("/reserved/page.html"),
      "brotli variant": await get("/reserved/app.js", { "accept-encoding": "br" }),
      "gzip variant": await get("/reserved/app.js", { "accept-encoding": "gzip" }),
      "identity of a compressed file": await get("/reserved/app.js"),
      HEAD: await get("/reserved/page.html", {}, "HEAD"),
      range: await get("/reserved/page.html", { range: "bytes=0-3" }),
      "not modified": await get("/reserved/page.html", { "if-none-match": "*" }),
    };
    for (const [answer, res] of Object.entries(answers)) {
      // The rule applied (a header it may set is there), and none of the reserved ones took.
      expect({ answer, allowed: res.headers.get("x-allowed") }).toEqual({ answer, allowed: "yes" });
      const planted = RESERVED.filter((name) => (res.headers.get(name) ?? "").includes(PLANTED));
      expect({ answer, planted }).toEqual({ answer, planted: [] });
    }
    expect(answers["small file"]).toMatchObject({ status: 200, body: "<h1>reserved</h1>" });
    expect(answers["brotli variant"].headers.get("content-encoding")).toBe("br");
    expect(answers["identity of a compressed file"].headers.get("vary")).toBe("Accept-Encoding");
    expect(answers.range).toMatchObject({ status: 206, body: "<h1>" });
    expect(answers["small file"].headers.get("location")).toBeNull();
  });
});

// Real adapter output (fixtures/, captured from SvelteKit, Astro and Nuxt builds) and the hand-written config
// that uses every supported field: each framework's pages, assets, API routes and 404s land where it expects.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { apiFunctions, apiRoutes } from "../../../builder/api-routes.ts";
import { brief, everyFieldAnswers, go, type TestRequest, testSite } from "../../testing/build-output.ts";
import { parseBuildOutputConfig } from "./config.ts";
import { createBuildOutputSite } from "./site.ts";

function fixture(name: string) {
  const dir = join(import.meta.dir, "fixtures");
  const { config, problems } = parseBuildOutputConfig(readFileSync(join(dir, `${name}.config.json`), "utf8"));
  if (!config) throw new Error(`${name} refused: ${JSON.stringify(problems)}`);
  const files = JSON.parse(readFileSync(join(dir, `${name}.files.json`), "utf8")) as {
    static: string[];
    functions: string[];
    prerendered: string[];
  };
  const site = createBuildOutputSite(name, config, {
    files: files.static,
    functions: files.functions,
    prerendered: files.prerendered,
  });
  return { site, problems: problems.map((p) => `${p.severity}: ${p.message.split(":")[0]}`) };
}

type Case = [string, string] | [string, string, TestRequest];
function table(name: string, cases: Case[]) {
  const { site } = fixture(name);
  // Always three values: a callback taking more arguments than a row has would be given bun's `done`.
  const rows = cases.map(([url, expected, request]): [string, string, TestRequest] => [
    url,
    expected,
    request ?? {},
  ]);
  test.each(rows)("%s -> %s %j", (url, expected, request) =>
    expect(brief(go(site, url, request))).toBe(expected),
  );
  return site;
}

describe("SvelteKit (@sveltejs/adapter-vercel 6.3.4)", () => {
  test("accepted as is", () => expect(fixture("sveltekit").problems).toEqual([]));
  const site = table("sveltekit", [
    ["/", "function /index /"],
    ["/__data.json", "function /index /__data.json"],
    ["/about", "static /about.html 200"], // prerendered, moved by overrides
    ["/about/", "redirect 308 /about"],
    ["/about/?ref=x", "redirect 308 /about?ref=x"],
    ["/api/hello", "function /api/hello /api/hello"],
    ["/api/hello", "function /api/hello /api/hello", { method: "POST" }],
    ["/api/hello/", "function /api/hello /api/hello/"],
    ["/blog/hello", "function /blog/[slug] /blog/hello"],
    ["/blog/hello/__data.json", "function /blog/[slug] /blog/hello/__data.json"],
    // Functions are part of the filesystem check: /isr is the ISR function's own path, found before the routes
    // that add __pathname; a visitor's __pathname is deleted by the adapter's first route either way.
    ["/isr", "function /isr /isr"],
    ["/isr?__pathname=/admin&x=1", "function /isr /isr?x=1"],
    ["/isr/__data.json", "function /isr/__data.json /isr/__data.json"],
    ["/isr/", "function /isr /isr/?__pathname=/isr"],
    ["/_app/immutable/entry/app.DLAZ80dO.js", "static /_app/immutable/entry/app.DLAZ80dO.js 200"],
    ["/_app/immutable/chunks/gone.js", "status 404"], // never the catch-all (it would be cached for a year)
    ["/_app/version.json", "static /_app/version.json 200"],
    ["/favicon.png", "static /favicon.png 200"],
    ["/no/such/page", "function /![-]/catchall /no/such/page"], // SvelteKit renders its own 404
  ]);

  test("immutable assets are cached for a year; a missing one never", () => {
    expect(go(site, "/_app/immutable/nodes/0.DYPn8dlB.js").response.headers).toEqual({
      "cache-control": "public, immutable, max-age=31536000",
    });
    expect(go(site, "/_app/immutable/chunks/gone.js").response.headers).toEqual({
      "cache-control": "no-store",
    });
  });

  test("ISR functions are marked prerendered", () => {
    expect(go(site, "/isr")).toMatchObject({ kind: "function", prerendered: true });
    expect(go(site, "/")).toMatchObject({ kind: "function", prerendered: false });
  });
});

describe("Astro (@astrojs/vercel 11.0.11, server output)", () => {
  test("accepted, with a warning about images", () =>
    expect(fixture("astro").problems).toEqual(["warning: images"]));
  const site = table("astro", [
    ["/", "function /_render /"],
    ["/about", "static /about/index.html 200"],
    ["/about/", "static /about/index.html 200"],
    ["/old?x=1", "redirect 301 /about?x=1"],
    ["/_astro/index.DqgYuwbn.css", "static /_astro/index.DqgYuwbn.css 200"],
    ["/api/hello", "function /_render /api/hello"],
    ["/blog/post", "function /_render /blog/post"],
    ["/blog/post/", "function /_render /blog/post/"],
    ["/_server-islands/Island", "function /_render /_server-islands/Island"],
    ["/no/such/page", "static /404.html 404"],
    ["/favicon.svg", "static /favicon.svg 200"],
    ["/_vercel/image?url=%2Ffavicon.svg&w=640&q=75", "static /favicon.svg 200"],
    ["/_vercel/image?url=%2Ffavicon.svg&w=641", 'status 400 ("w" parameter (width) of 641 is not allowed)'],
    [
      "/_vercel/image?url=https%3A%2F%2Fexample.com%2Fa.png&w=640",
      "status 400 (remote images are not fetched (no image optimizer): use a local image)",
    ],
    ["/_vercel/image?url=%2Fnope.png&w=640", "status 404 (no such image)"],
  ]);

  test("hashed assets get Astro's immutable cache header", () => {
    expect(go(site, "/_astro/index.DqgYuwbn.css").response.headers).toEqual({
      "cache-control": "public, max-age=31536000, immutable",
    });
  });
});

describe("Astro with ISR", () => {
  table("astro-isr", [
    ["/", "function /_isr /?x_astro_path=%2F&x_astro_path_token=cb941fff-ec3a-4601-8145-479bd1fa3502"],
    // The adapter's path and token win over a visitor's (else the token check would be pointless).
    [
      "/blog/a?x_astro_path=/secret",
      "function /_isr /blog/a?x_astro_path=%2Fblog%2Fa&x_astro_path_token=cb941fff-ec3a-4601-8145-479bd1fa3502",
    ],
    ["/api/hello", "function /_render /api/hello"],
    ["/no/such/page", "static /404.html 404"],
  ]);
});

describe("Nuxt (nitropack 2.13.6, preset vercel)", () => {
  test("accepted as is", () => expect(fixture("nuxt").problems).toEqual([]));
  const site = table("nuxt", [
    ["/", "function /__fallback /"],
    ["/about", "static /about/index.html 200"],
    ["/about/_payload.json", "static /about/_payload.json 200"],
    ["/old", "redirect 301 /about"],
    ["/isr", "function /isr-isr /isr?__isr_route=%2Fisr"],
    ["/_nuxt/98fv9ws6.js", "static /_nuxt/98fv9ws6.js 200"],
    ["/_nuxt/builds/latest.json", "static /_nuxt/builds/latest.json 200"],
    ["/api/hello", "function /__fallback /api/hello"],
    ["/cached/page", "function /__fallback /cached/page"],
    ["/no/such/page", "function /__fallback /no/such/page"], // Nitro renders its own 404
  ]);

  test("route rules' headers, the last matching rule winning", () => {
    expect(go(site, "/_nuxt/98fv9ws6.js").response.headers).toEqual({
      "cache-control": "public,max-age=31536000,immutable",
    });
    expect(go(site, "/cached/page").response.headers).toEqual({ "x-cached": "yes" });
  });
});

describe("vercel build's cleanUrls and trailingSlash routes (routing-utils), with @vercel/static's overrides", () => {
  const cleanUrls = [
    { src: "^/(?:(.+)/)?index(?:\\.html)?/?$", headers: { Location: "/$1" }, status: 308 },
    { src: "^/(.*)\\.html/?$", headers: { Location: "/$1" }, status: 308 },
  ];
  const files = ["/index.html", "/about.html", "/docs/index.html", "/style.css", "/.well-known/security.txt"];
  const overrides = {
    "about.html": { path: "about" },
    "index.html": { path: "" },
    "docs/index.html": { path: "docs" },
  };
  const site = (routes: unknown[]) =>
    createBuildOutputSite(
      "clean",
      parseBuildOutputConfig(JSON.stringify({ version: 3, routes, overrides })).config ?? {
        version: 3,
        routes: [],
      },
      { files, functions: [], prerendered: [] },
    );

  describe("cleanUrls with trailingSlash: false", () => {
    const clean = site([
      ...cleanUrls,
      { src: "^/(.*)\\/$", headers: { Location: "/$1" }, status: 308 },
      { handle: "filesystem" },
    ]);
    test.each([
      ["/", "static /index.html 200"],
      ["/about", "static /about.html 200"],
      ["/about.html", "redirect 308 /about"],
      ["/about/", "redirect 308 /about"],
      ["/index.html", "redirect 308 /"],
      ["/docs/index.html", "redirect 308 /docs"],
      ["/docs", "static /docs/index.html 200"],
      ["/style.css", "static /style.css 200"],
    ])("%s -> %s", (url, expected) => expect(brief(go(clean, url))).toBe(expected));
  });

  describe("cleanUrls with trailingSlash: true", () => {
    const slash = site([
      ...cleanUrls.map((r) => ({ ...r, headers: { Location: "/$1/" } })),
      { src: "^/\\.well-known(?:/.*)?$" },
      { src: "^/((?:[^/]+/)*[^/\\.]+)$", headers: { Location: "/$1/" }, status: 308 },
      { src: "^/((?:[^/]+/)*[^/]+\\.\\w+)/$", headers: { Location: "/$1" }, status: 308 },
      { handle: "filesystem" },
    ]);
    test.each([
      ["/about", "redirect 308 /about/"],
      ["/about/", "static /about.html 200"],
      ["/style.css/", "redirect 308 /style.css"],
      ["/style.css", "static /style.css 200"],
      // The bare .well-known route only ends its phase, so the redirects after it never apply there.
      ["/.well-known/security.txt", "static /.well-known/security.txt 200"],
    ])("%s -> %s", (url, expected) => expect(brief(go(slash, url))).toBe(expected));
  });
});

describe("zero-config api/ functions: the routes builder/api-routes.ts writes", () => {
  const functions = apiFunctions([
    "api/hello.ts",
    "api/index.ts",
    "api/users/[id].ts",
    "api/files/[...path].ts",
    "api/docs/[[...slug]].ts",
  ]);
  const site = testSite({
    routes: apiRoutes(functions, true),
    files: ["/index.html", "/404.html"],
    functions: functions.map((fn) => fn.path),
  });
  test.each([
    ["/", "static /index.html 200"],
    ["/api/hello", "function /api/hello /api/hello"],
    ["/api", "function /api/index /api"],
    ["/api/index", "function /api/index /api/index"],
    ["/api/users/42", "function /api/users/[id] /api/users/42?id=42"],
    ["/api/files/a/b.txt", "function /api/files/[...path] /api/files/a/b.txt?path=a%2Fb.txt"],
    ["/api/docs", "function /api/docs/[[...slug]] /api/docs?slug="],
    ["/api/docs/intro/setup", "function /api/docs/[[...slug]] /api/docs/intro/setup?slug=intro%2Fsetup"],
    ["/api/hello.ts", "function /api/hello /api/hello.ts"],
    ["/nope", "static /404.html 404"],
    // The error route is `^(?!/api).*$`: retrying it on "api/nope" as vercel dev does would wrongly match.
    ["/api/nope/deeper", "status 404"],
  ])("%s -> %s", (url, expected) => expect(brief(go(site, url))).toBe(expected));
});

describe("every-field: the hand-written config (fixtures/README.md says what each route proves)", () => {
  test("accepted as is; crons exposed", () => {
    expect(fixture("every-field").problems).toEqual([]);
    expect(fixture("every-field").site.crons).toEqual([{ path: "/api/cron", schedule: "0 5 * * *" }]);
  });
  const site = table("every-field", everyFieldAnswers());

  test("headers: route 1's capture, 5's no-store, the override and important ones, hit's x-hit", () => {
    expect(go(site, "/assets/app.js").response.headers).toEqual({
      "x-route": "/assets/app.js",
      "x-hit": "1",
    });
    expect(go(site, "/private/x").response.headers).toEqual({
      "x-route": "/private/x",
      "cache-control": "no-store",
    });
    expect(go(site, "/fresh").response).toMatchObject({
      headers: { "cache-control": "no-cache", "x-frame-options": "DENY", "x-hit": "1" },
      important: { "x-frame-options": "DENY" },
    });
  });

  test("transforms for the function's request and response", () => {
    const answer = go(site, "/api/echo");
    if (answer.kind !== "function") throw new Error(answer.kind);
    expect(answer.requestHeaders).toEqual([
      { type: "request.headers", op: "set", key: "x-echo-route", args: ["yes"] },
    ]);
    expect(answer.response.transforms).toEqual([
      { type: "response.headers", op: "set", key: "x-powered-by", args: ["minivercel"] },
    ]);
    expect(go(site, "/shop/hat")).toMatchObject({ prerendered: true });
  });
});

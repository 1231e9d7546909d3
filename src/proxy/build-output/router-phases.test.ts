// The order of Build Output routing phases, with cases from the spec and from the fixtures Vercel's own dev
// server is tested with (vercel/vercel packages/cli/test/dev/fixtures/*, named below).

import { describe, expect, test } from "bun:test";
import { brief, go, testSite } from "../../testing/build-output.ts";

describe("phases: before the filesystem, the filesystem check, after it", () => {
  const site = testSite({
    routes: [
      { src: "/old.html", dest: "/new.html" },
      { handle: "filesystem" },
      { src: "/(.*)", dest: "/fn" },
    ],
    files: ["/old.html", "/new.html", "/a.html"],
    functions: ["/fn"],
  });

  test.each([
    ["/a.html", "static /a.html 200"], // a file answers before the routes after handle: filesystem
    ["/old.html", "static /new.html 200"], // routes before the filesystem apply first, even over a file
    ["/anything", "function /fn /anything"], // no file: the routes after the filesystem check
  ])("%s -> %s", (url, expected) => expect(brief(go(site, url))).toBe(expected));
});

describe("phases: processing order is fixed, whatever the order of the handles in the file", () => {
  // Written as Next.js writes them: filesystem, resource, miss, rewrite, hit, error.
  const site = testSite({
    routes: [
      { handle: "filesystem" },
      { src: "/legacy/(.*)", dest: "/blog/$1", check: true },
      { handle: "resource" },
      { src: "/(.*)", dest: "/fallback" },
      { handle: "miss" },
      { src: "/(.*)", headers: { "x-missed": "1" }, continue: true },
      { handle: "rewrite" },
      { src: "/blog/(?<slug>[^/]+)", dest: "/blog/[slug]?slug=$slug" },
      { handle: "hit" },
      { src: "/.*", headers: { "x-hit": "1" }, continue: true },
      { handle: "error" },
      { src: "/.*", dest: "/404.html", status: 404 },
    ],
    files: ["/404.html"],
    functions: ["/blog/[slug]", "/fallback"],
  });

  test.each([
    ["/blog/hello", "function /blog/[slug] /blog/hello?slug=hello"], // "rewrite" runs before "resource"
    ["/legacy/hello", "function /blog/[slug] /legacy/hello?slug=hello"], // check: tries the "rewrite" routes
    ["/about", "function /fallback /about"], // "resource" is the last ordinary phase
  ])("%s -> %s", (url, expected) => expect(brief(go(site, url))).toBe(expected));

  test("hit routes add their headers to whatever was found", () => {
    expect(go(site, "/about").response.headers).toEqual({ "x-hit": "1" });
  });
});

describe("phases: a route without continue ends its phase, and what it set carries on", () => {
  // @sveltejs/adapter-vercel 6: "if a request to /_app/immutable/* doesn't match a static file, return 404 instead
  // of falling through to dynamic routes... no-store stops the earlier immutable header from sticking to this 404".
  const site = testSite({
    routes: [
      { src: "/_app/immutable/.+", headers: { "cache-control": "public, immutable, max-age=31536000" } },
      { src: "/never", headers: { "x-never": "1" } },
      { handle: "filesystem" },
      { src: "/_app/immutable/.+", status: 404, headers: { "cache-control": "no-store" }, continue: false },
      { src: "/.*", dest: "/catchall", headers: { "x-kept": "$0" } },
    ],
    files: ["/_app/immutable/a.js"],
    functions: ["/catchall"],
  });

  test("a file found after the phase gets the header", () => {
    const answer = go(site, "/_app/immutable/a.js");
    expect(brief(answer)).toBe("static /_app/immutable/a.js 200");
    expect(answer.response.headers).toEqual({ "cache-control": "public, immutable, max-age=31536000" });
  });

  test("no file: the next phase's routes run, and replace the header", () => {
    const answer = go(site, "/_app/immutable/gone.js");
    expect(brief(answer)).toBe("status 404");
    expect(answer.response.headers).toEqual({ "cache-control": "no-store" });
  });

  test("other paths go to the catch-all", () => {
    const answer = go(site, "/page");
    expect(brief(answer)).toBe("function /catchall /page");
    expect(answer.response.headers).toEqual({ "x-kept": "/page" });
  });
});

describe("phases: miss", () => {
  // handle-miss-after-rewrite: the miss routes run on the rewritten path and keep the headers already set.
  const site = testSite({
    routes: [
      { handle: "filesystem" },
      { src: "/([^/]+)", headers: { override: "one" }, dest: "/blog/$1", check: true },
      { handle: "miss" },
      { src: "/(.*)", dest: "/src/$1", check: true },
      {
        src: "/src/blog/([^/]+)",
        headers: { test: "1", override: "two" },
        dest: "/src/blog/$1.html",
        check: true,
      },
    ],
    files: ["/about.html", "/index.html", "/src/blog/post.html"],
  });

  test.each([
    ["/post", "static /src/blog/post.html 200", { override: "one", test: "1" }],
    ["/blog/post", "static /src/blog/post.html 200", { override: "two", test: "1" }],
    ["/blog/about.html", "status 404", { override: "two", test: "1" }],
  ])("%s -> %s", (url, expected, headers) => {
    const answer = go(site, url);
    expect(brief(answer)).toBe(expected);
    expect(answer.response.headers).toEqual(headers);
  });

  test("handle-miss-after-route: a rewrite before the filesystem is what miss sees", () => {
    const after = testSite({
      routes: [
        { src: "/([^/]+)", headers: { override: "one" }, dest: "/blog/$1" },
        { handle: "miss" },
        { src: "/(.*)", dest: "/src/$1", check: true },
        {
          src: "/src/blog/([^/]+)",
          headers: { test: "1", override: "two" },
          dest: "/src/blog/$1.html",
          check: true,
        },
      ],
      files: ["/src/blog/post.html"],
    });
    const answer = go(after, "/post");
    expect(brief(answer)).toBe("static /src/blog/post.html 200");
    expect(answer.response.headers).toEqual({ override: "one", test: "1" });
  });

  test("handle-miss-querystring: queries written in dest survive the miss phase", () => {
    const site = testSite({
      routes: [
        { src: "^/echo/([^/]+)/([^/]+)$", dest: "/functions/echo.js?a=$1&b=$2" },
        { handle: "filesystem" },
        { src: "^/functions(/.*)?$", status: 404, continue: true },
        { handle: "miss" },
        { src: "^/functions/(.+)(?:\\.(?:js))$", dest: "/functions/$1", check: true },
      ],
      files: ["/index.html"],
      functions: ["/functions/echo"],
    });
    expect(brief(go(site, "/"))).toBe("static /index.html 200");
    expect(brief(go(site, "/echo/first/second"))).toBe(
      "function /functions/echo /echo/first/second?a=first&b=second",
    );
    // A 404 set earlier is dropped when the miss phase finds the destination.
    expect(brief(go(site, "/functions/echo.js?a=one&b=two"))).toBe(
      "function /functions/echo /functions/echo.js?a=one&b=two",
    );
  });

  test("handle-miss-hide-dir-list: a status set after the filesystem stands when nothing is found", () => {
    const site = testSite({
      routes: [
        { handle: "filesystem" },
        { src: "/(.*)", headers: { override: "one" }, dest: "/blog/$1", check: true },
        { src: "/.*", status: 404, continue: true },
        { handle: "miss" },
        { src: "/(.*)", dest: "/src/$1", check: true },
      ],
      files: ["/post/one.html"],
    });
    expect(brief(go(site, "/post"))).toBe("status 404");
    expect(brief(go(site, "/post/one.html"))).toBe("static /post/one.html 200");
  });
});

describe("phases: hit", () => {
  // handle-hit-after-fs, handle-hit-after-dest, handle-hit-after-rewrite
  const hitRoutes = [
    { handle: "hit" },
    { src: "^/.*", headers: { test: "1", override: "two" }, continue: true },
  ];
  test.each([
    ["after the filesystem check", [], "/blog.html", "static /blog.html 200", { test: "1", override: "two" }],
    [
      "after a dest",
      [{ src: "/([^/]+)", headers: { override: "one" }, dest: "/blog/$1.html", check: true }],
      "/post",
      "static /blog/post.html 200",
      { override: "one", test: "1" },
    ],
    [
      "after a rewrite in the filesystem phase",
      [
        { handle: "filesystem" },
        { src: "/([^/]+)", headers: { override: "one" }, dest: "/blog/$1.html", check: true },
      ],
      "/post",
      "static /blog/post.html 200",
      { override: "one", test: "1" },
    ],
  ])("%s", (_, before, url, expected, headers) => {
    const site = testSite({ routes: [...before, ...hitRoutes], files: ["/blog.html", "/blog/post.html"] });
    const answer = go(site, url);
    expect(brief(answer)).toBe(expected);
    expect(answer.response.headers).toEqual(headers);
  });
});

describe("phases: error", () => {
  const site = testSite({
    routes: [
      { src: "/gone", status: 410 },
      { src: "/broken", status: 500, headers: { "x-broken": "1" } },
      { handle: "filesystem" },
      { handle: "error" },
      { src: "/.*", dest: "/500.html", status: 500 },
      { src: "/.*", dest: "/404.html", status: 404 },
    ],
    files: ["/404.html", "/500.html", "/a.html"],
  });

  test.each([
    ["/nothing", "static /404.html 404"], // not found: the error route for 404 (the 500 one does not apply)
    ["/broken", "static /500.html 500"], // a route's status picks the error route with that status
    ["/gone", "status 410"], // no error route for 410: the bare status
    ["/a.html", "static /a.html 200"],
  ])("%s -> %s", (url, expected) => expect(brief(go(site, url))).toBe(expected));

  test("the route's headers reach the error page", () => {
    expect(go(site, "/broken").response.headers).toEqual({ "x-broken": "1" });
  });

  test("without error routes, a miss is a bare 404; an error route without status applies to any", () => {
    expect(brief(go(testSite({}), "/x"))).toBe("status 404");
    const any = testSite({
      routes: [{ handle: "error" }, { src: "/.*", dest: "/oops.html" }],
      files: ["/oops.html"],
    });
    expect(brief(go(any, "/x"))).toBe("static /oops.html 404");
  });
});

describe("phases: check (vercel dev's routes-check-true and routes-check-true-status)", () => {
  test("a check that finds nothing goes on with the next route, on the rewritten path", () => {
    const site = testSite({
      routes: [
        { src: "/blog/(.*)", check: true, dest: "/blog?post=$1" },
        { src: "/(.*)", check: true, dest: "/src/$1" },
        { src: "/(.*)", check: true, dest: "/fake/$1" },
      ],
      files: ["/src/blog"],
    });
    expect(brief(go(site, "/blog/post"))).toBe("static /src/blog 200");
  });

  test("the rewrite routes a check tries are undone when they find nothing", () => {
    const site = testSite({
      routes: [
        { src: "/a/(.*)", dest: "/b/$1", check: true, headers: { "x-check": "1" } },
        { src: "/b/(.*)", dest: "/d/$1" },
        { handle: "rewrite" },
        { src: "/b/(.*)", dest: "/c/$1", headers: { "x-probe": "1" } },
      ],
      files: ["/c/real", "/d/other"],
    });
    const found = go(site, "/a/real");
    expect(brief(found)).toBe("static /c/real 200");
    expect(found.response.headers).toEqual({ "x-check": "1", "x-probe": "1" });
    // /c/other is not there: the probe (and its header) is undone, and the next route sends /b/other to /d/.
    const undone = go(site, "/a/other");
    expect(brief(undone)).toBe("static /d/other 200");
    expect(undone.response.headers).toEqual({ "x-check": "1" });
  });

  test("with a status, a check that finds nothing answers that status", () => {
    const site = testSite({
      routes: [
        { src: "/secret", status: 403, dest: "/post", check: true },
        { src: "/post", dest: "/post.html" },
      ],
      files: ["/post.html"],
    });
    expect(brief(go(site, "/secret"))).toBe("status 403");
    expect(brief(go(site, "/post"))).toBe("static /post.html 200");
    expect(brief(go(site, "/post.html"))).toBe("static /post.html 200");
  });
});

// Each field of a Source route, one table per field, from the Build Output API spec and Vercel's dev server.

import { describe, expect, test } from "bun:test";
import { brief, go, testSite } from "../../testing/build-output.ts";

const files = ["/index.html", "/a.html", "/b.html", "/docs/index.html", "/about"];
const functions = ["/fn", "/index", "/api/[id]"];

describe("src: anchored, case-insensitive unless caseSensitive, captures into dest", () => {
  const site = testSite({
    routes: [
      { src: "/exact", dest: "/a.html" },
      { src: "/Upper", dest: "/b.html", caseSensitive: true },
      {
        src: "/users/(?<id>[^/]+)/posts/([0-9]+)",
        dest: "/fn?user=$id&post=$2&all=$0&none=$9&unknown=$nope",
      },
      { src: "/legacy-(.*)", dest: "/$1" },
    ],
    files,
    functions,
  });
  test.each([
    ["/exact", "static /a.html 200"],
    ["/EXACT", "static /a.html 200"],
    ["/exact/more", "status 404"], // anchored at both ends
    ["/Upper", "static /b.html 200"],
    ["/upper", "status 404"],
    [
      "/users/ann/posts/7",
      "function /fn /users/ann/posts/7?user=ann&post=7&all=%2Fusers%2Fann%2Fposts%2F7&none=&unknown=",
    ],
    ["/legacy-a.html", "static /a.html 200"],
  ])("%s -> %s", (url, expected) => expect(brief(go(site, url))).toBe(expected));

  test("a capture cannot add query parameters: it is encoded in the query", () => {
    const tricky = testSite({ routes: [{ src: "/q/(.*)", dest: "/fn?p=$1" }], functions });
    expect(brief(go(tricky, "/q/a&admin=1"))).toBe("function /fn /q/a&admin=1?p=a%26admin%3D1");
  });
});

describe("dest: rewrites, the query merge, the filesystem lookup", () => {
  const site = testSite({
    routes: [
      { src: "/to-fn", dest: "/fn?from=dest&x=1" },
      { src: "/relative", dest: "fn" },
      { src: "/dir", dest: "/docs/" },
    ],
    files,
    functions,
  });
  test.each([
    ["/to-fn", "function /fn /to-fn?from=dest&x=1"],
    // The destination's parameters win over the visitor's of the same name; the visitor's others stay.
    ["/to-fn?x=2&y=3", "function /fn /to-fn?y=3&from=dest&x=1"],
    ["/relative", "function /fn /relative"], // Astro writes "dest": "_render"
    ["/dir", "static /docs/index.html 200"],
    ["/", "static /index.html 200"], // a directory's index.html
    ["/docs", "static /docs/index.html 200"],
    ["/about/", "static /about 200"], // a trailing slash finds the file without it
    ["/api/[id]", "function /api/[id] /api/[id]"],
  ])("%s -> %s", (url, expected) => expect(brief(go(site, url))).toBe(expected));

  test("the root function is /index when there is no index.html", () => {
    expect(brief(go(testSite({ functions }), "/"))).toBe("function /index /");
  });

  test("the visitor's query reaches the function as sent when no route changes it", () => {
    expect(brief(go(testSite({ routes: [{ src: "/(.*)", dest: "/fn" }], functions }), "/x?a+b=%2F&c"))).toBe(
      "function /fn /x?a+b=%2F&c",
    );
  });
});

describe("headers", () => {
  test("placeholders are filled (encoded), later routes replace earlier values, names are lowercase", () => {
    const site = testSite({
      routes: [
        { src: "/(.*)", headers: { "X-Path": "/$1", "X-Seen": "first" }, continue: true },
        { src: "/p/(.*)", headers: { "x-seen": "second" }, continue: true },
      ],
      files: ["/p/caf\u00e9 1.html"],
    });
    const answer = go(site, "/p/caf\u00e9 1.html");
    expect(brief(answer)).toBe("static /p/caf\u00e9 1.html 200");
    expect(answer.response.headers).toEqual({ "x-path": "/p/caf%C3%A9%201.html", "x-seen": "second" });
  });

  test("important headers are listed apart (a function's own headers do not replace them)", () => {
    const site = testSite({
      routes: [{ src: "/.*", headers: { "x-frame-options": "DENY" }, important: true, continue: true }],
      files,
    });
    expect(go(site, "/a.html").response).toMatchObject({
      headers: { "x-frame-options": "DENY" },
      important: { "x-frame-options": "DENY" },
    });
  });

  test("override forgets the status and headers set before", () => {
    const site = testSite({
      routes: [
        { src: "/.*", headers: { "x-a": "1" }, status: 404, continue: true },
        { src: "/a.html", headers: { "x-b": "2" }, override: true, continue: true },
      ],
      files,
    });
    const answer = go(site, "/a.html");
    expect(brief(answer)).toBe("static /a.html 200");
    expect(answer.response.headers).toEqual({ "x-b": "2" });
  });
});

describe("status and redirects", () => {
  const site = testSite({
    routes: [
      { src: "/old/(.*)", status: 308, headers: { Location: "/new/$1" } },
      { src: "/moved", status: 301, dest: "/a.html?from=moved" },
      { src: "/ext/(.*)", status: 302, headers: { Location: "https://example.com/$1#top" } },
      { src: "/soft", status: 307, headers: { Location: "/a.html" }, continue: true },
      { src: "/soft", headers: { "x-after": "1" }, continue: true },
      { src: "/teapot", status: 418, dest: "/b.html" },
      { src: "/keep", headers: { location: "/elsewhere" }, dest: "/a.html" },
    ],
    files,
  });
  test.each([
    ["/old/a b?x=1", "redirect 308 /new/a%20b?x=1"], // captures encoded, the visitor's query kept
    ["/old/%3F", "redirect 308 /new/%253F"], // a decoded path's "%" is encoded again
    ["/moved?x=1", "redirect 301 /a.html?from=moved&x=1"], // 3xx with dest and no Location: dest is the Location
    ["/ext/caf\u00e9", "redirect 302 https://example.com/caf%C3%A9#top"],
    ["/soft", "redirect 307 /a.html"], // continue: later routes still add headers, then the redirect
    ["/teapot", "static /b.html 418"],
    ["/keep", "static /a.html 200"], // a Location without a 3xx status is only a header
  ])("%s -> %s", (url, expected) => expect(brief(go(site, url))).toBe(expected));

  test("a continued redirect keeps the later routes' headers; a Location without 3xx stays a header", () => {
    expect(go(site, "/soft").response.headers).toEqual({ "x-after": "1" });
    expect(go(site, "/keep").response.headers).toEqual({ location: "/elsewhere" });
  });
});

describe("continue", () => {
  test("every matching continue route applies, then the first without continue", () => {
    const site = testSite({
      routes: [
        { src: "/(.*)", headers: { "x-1": "1" }, continue: true },
        { src: "/x", dest: "/y", continue: true },
        { src: "/y", dest: "/a.html" },
        { src: "/a.html", headers: { "x-never": "1" } },
      ],
      files,
    });
    const answer = go(site, "/x");
    expect(brief(answer)).toBe("static /a.html 200");
    expect(answer.response.headers).toEqual({ "x-1": "1" });
  });
});

describe("methods", () => {
  const site = testSite({
    routes: [
      { src: "/form", methods: ["POST"], dest: "/fn" },
      { src: "/form", dest: "/a.html" },
    ],
    files,
    functions,
  });
  test.each([
    ["POST", "function /fn /form"],
    ["post", "function /fn /form"],
    ["GET", "static /a.html 200"],
  ])("%s", (method, expected) => expect(brief(go(site, "/form", { method }))).toBe(expected));
});

describe("overrides: a file served at another path and with another type", () => {
  const site = testSite({
    config: {
      overrides: { "about.html": { path: "about" }, "feed.xml": { contentType: "application/rss+xml" } },
    },
    files: ["/about.html", "/feed.xml"],
  });
  test.each([
    ["/about", "static /about.html 200"],
    ["/about.html", "status 404"], // moved: no longer at its own path
    ["/feed.xml", "static /feed.xml 200 application/rss+xml"],
  ])("%s -> %s", (url, expected) => expect(brief(go(site, url))).toBe(expected));
});

describe("functions", () => {
  test("the path a function is invoked with is percent-encoded (a decoded ? must not start a query)", () => {
    const site = testSite({ routes: [{ src: "/(.*)", dest: "/fn" }], functions: ["/fn"] });
    const at = (path: string) =>
      site.route({ method: "GET", path, query: "q=1", headers: new Headers(), host: "h" });
    expect(brief(at("/caf\u00e9 menu?/x#y%"))).toBe("function /fn /caf%C3%A9%20menu%3F/x%23y%25?q=1");
    expect(brief(at("/[id]/a|b/\u{1F600}"))).toBe("function /fn /[id]/a|b/%F0%9F%98%80?q=1");
  });

  test("a function sees the visitor's path and the merged query; prerendered ones are marked", () => {
    const site = testSite({
      routes: [{ src: "/p/(.*)", dest: "/isr?__pathname=/p/$1" }],
      functions: ["/isr"],
      prerendered: ["/isr"],
    });
    expect(go(site, "/p/x")).toMatchObject({
      kind: "function",
      name: "/isr",
      prerendered: true,
      path: "/p/x",
      query: "__pathname=/p/x",
    });
  });
});

describe("loop protection and what cannot be served", () => {
  test("more than 32 rewrites is a 500", () => {
    const routes = Array.from({ length: 40 }, () => ({ src: "/(.*)", dest: "/x$1", continue: true }));
    expect(brief(go(testSite({ routes }), "/a"))).toBe(
      "status 500 (routing rewrote the path too many times)",
    );
  });

  test("a capture cannot turn a rewrite into a fetch from another origin: dest is always a path", () => {
    const site = testSite({
      routes: [{ src: "/go", has: [{ type: "query", key: "to", value: "(?<to>.*)" }], dest: "$to" }],
    });
    expect(brief(go(site, "/go?to=https://evil.example"))).toBe("status 404");
  });
});

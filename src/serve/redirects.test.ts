// `_redirects` and `_headers` parsing and matching (the proxy-level behaviour is in proxy-*.test.ts).

import { describe, expect, test } from "bun:test";
import { matchHeaders, parseHeaders } from "./headers-file.ts";
import { matchRedirect, parseRedirects, substitute } from "./redirects.ts";

describe("_redirects", () => {
  const rules = parseRedirects(`
# comment
/old            /new
/temp           /elsewhere      302
/news/*         /blog/:splat    301!
/posts/:year/:slug  /p/:slug?y=:year  308
/app/*          /index.html     200
/gone           /gone.html      410
/external       https://example.com/x  307   # trailing comment
/bad-status     /x              999
/conditional    /x              302  Country=us
/proxy          https://example.com/api  200
not-a-path      /x
/only-from
`);

  test("supported lines parse; unsupported ones are skipped", () => {
    expect(rules.map((r) => [r.from, r.to, r.status, r.force])).toEqual([
      ["/old", "/new", 301, false],
      ["/temp", "/elsewhere", 302, false],
      ["/news/*", "/blog/:splat", 301, true],
      ["/posts/:year/:slug", "/p/:slug?y=:year", 308, false],
      ["/app/*", "/index.html", 200, false],
      ["/gone", "/gone.html", 410, false],
      ["/external", "https://example.com/x", 307, false],
    ]);
  });

  test("exact, trailing slash, splat and placeholders", () => {
    expect(matchRedirect(rules, "/old", false)?.rule.to).toBe("/new");
    expect(matchRedirect(rules, "/old/", false)?.rule.to).toBe("/new");
    expect(matchRedirect(rules, "/older", false)).toBeNull();
    const news = matchRedirect(rules, "/news/2024/a b", false);
    expect(news && substitute(news, true)).toBe("/blog/2024/a%20b");
    expect(news && substitute(news, false)).toBe("/blog/2024/a b");
    const bare = matchRedirect(rules, "/news", false);
    expect(bare && substitute(bare, true)).toBe("/blog/");
    const post = matchRedirect(rules, "/posts/2023/hello", false);
    expect(post && substitute(post, true)).toBe("/p/hello?y=2023");
    expect(matchRedirect(rules, "/posts/2023", false)).toBeNull();
  });

  test("a splat matches its directory and below, never a longer name: /news/* is not /newsletter", () => {
    for (const path of ["/news", "/news/", "/news/x", "/news/x/y"]) {
      expect({ path, from: matchRedirect(rules, path, false)?.rule.from }).toEqual({ path, from: "/news/*" });
    }
    for (const path of ["/newsletter", "/newsletter/x", "/newsx/y", "/new", "/old/news/x"]) {
      expect({ path, match: matchRedirect(rules, path, false) }).toEqual({ path, match: null });
    }
  });

  test("a target is a path or an http(s) URL: other schemes are skipped, whatever their case", () => {
    const lines = [
      "/js      javascript:alert(document.domain)  302",
      "/js2     JavaScript:alert(1)  301",
      "/vb      vbscript:msgbox(1)  302",
      "/data    data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==  302",
      "/ftp     ftp://example.com/file  302",
      "/mail    mailto:someone@example.com  302",
      "/file    file:///etc/passwd  302",
      "/blob    blob:https://example.com/1  307",
      "/rw      javascript:alert(1)  200",
      "/splat/* :splat  302",
    ];
    expect(parseRedirects(lines.join("\n"))).toEqual([]);
    expect(parseRedirects("/ok  HTTPS://example.com/x  302").map((r) => r.to)).toEqual([
      "HTTPS://example.com/x",
    ]);
  });

  test("forcedOnly finds only forced rules", () => {
    expect(matchRedirect(rules, "/old", true)).toBeNull();
    expect(matchRedirect(rules, "/news/x", true)?.rule.from).toBe("/news/*");
  });

  test("placeholder values cannot inject a scheme or a header", () => {
    const [rule] = parseRedirects("/go/*  /:splat  302");
    const m = rule && matchRedirect([rule], "/go/%0d%0aSet-Cookie:x", false);
    expect(m && substitute(m, true)).toBe("/%250d%250aSet-Cookie%3Ax");
  });
});

describe("_headers", () => {
  const rules = parseHeaders(`
/*
  X-Robots-Tag: noindex
  Content-Length: 1
  Bad Name: x
/assets/*
  Cache-Control: public, max-age=60
  X-Robots-Tag: nofollow
/blog/:slug
  X-Blog: yes
# comment
https://example.com/*
  X-Never: 1
/secure
  X-Frame-Options: DENY
  Content-Security-Policy: default-src 'self'
/empty
`);

  test("blocks with their headers; reserved names and absolute URLs ignored", () => {
    expect(rules.map((r) => r.path)).toEqual(["/*", "/assets/*", "/blog/:slug", "/secure"]);
    expect(rules[0]?.headers).toEqual([["x-robots-tag", "noindex"]]);
  });

  test("a final /* matches its directory and below, never a longer name: /news/* is not /newsletter", () => {
    const news = parseHeaders("/news/*\n  X-News: yes\n/*\n  X-All: yes\n");
    for (const path of ["/news", "/news/", "/news/x", "/news/x/y.html"]) {
      expect({ path, headers: matchHeaders(news, path) }).toEqual({
        path,
        headers: { "x-news": "yes", "x-all": "yes" },
      });
    }
    for (const path of ["/newsletter", "/newsletter/x", "/newsx/y", "/new", "/", "/old/news/x"]) {
      expect({ path, headers: matchHeaders(news, path) }).toEqual({ path, headers: { "x-all": "yes" } });
    }
  });

  test("every matching block applies; repeated names are combined", () => {
    expect(matchHeaders(rules, "/assets/app.js")).toEqual({
      "x-robots-tag": "noindex, nofollow",
      "cache-control": "public, max-age=60",
    });
    expect(matchHeaders(rules, "/blog/post")).toEqual({ "x-robots-tag": "noindex", "x-blog": "yes" });
    expect(matchHeaders(rules, "/blog/post/deeper")).toEqual({ "x-robots-tag": "noindex" });
    expect(matchHeaders(rules, "/secure")["x-frame-options"]).toBe("DENY");
  });
});

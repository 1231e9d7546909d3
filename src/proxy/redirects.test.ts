// `_redirects` and `_headers` parsing and matching (the proxy-level behaviour is in proxy-*.test.ts).

import { describe, expect, test } from "bun:test";
import { matchHeaders, parseHeaders } from "./headers-file.ts";
import { matchRedirect, parseRedirects, substitute } from "./redirects.ts";
import { prepare } from "./respond.ts";

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

describe("deploy-time reports", () => {
  const reported = (parse: typeof parseHeaders | typeof parseRedirects, text: string) => {
    const out: [number, string, string][] = [];
    parse(text, (line, message, severity) => out.push([line, severity, message]));
    return out;
  };

  test("a header value outside Latin-1 is an error and never reaches a response", () => {
    const text = "/*\n  X-Euro: €\n  X-Ok: café\n";
    expect(reported(parseHeaders, text)).toEqual([
      [
        2,
        "error",
        "the value of x-euro has a character outside Latin-1, which HTTP headers cannot carry (percent-encode it)",
      ],
    ]);
    // Latin-1 (é) is fine; the skipped line leaves the rest of the block working.
    expect(matchHeaders(parseHeaders(text), "/x")).toEqual({ "x-ok": "café" });
  });

  test("a cookie for other hosts (Domain attribute) is an error; host-only cookies pass, one header each", () => {
    const text =
      "/*\n  Set-Cookie: a=1; Path=/\n  Set-Cookie: b=2; Domain=example.test\n/x\n  Set-Cookie: c=3\n";
    expect(reported(parseHeaders, text).map(([line, severity]) => [line, severity])).toEqual([[3, "error"]]);
    const rules = parseHeaders(text);
    const headers = prepare(
      "/x",
      { hash: "0".repeat(64), size: 1, type: "text/plain" },
      200,
      matchHeaders(rules, "/x"),
    ).identity.headers;
    expect(headers.getSetCookie()).toEqual(["a=1; Path=/", "c=3"]);
  });

  test("other skipped header lines are warnings", () => {
    expect(
      reported(
        parseHeaders,
        "  X-Orphan: 1\n/*\n  Content-Length: 1\n  Bad Name: x\nhttps://a.test/*\n  X-No: 1\n",
      ),
    ).toEqual([
      [1, "warning", "a header line must follow a path line"],
      [3, "warning", "content-length is set by the server and cannot be changed"],
      [4, "warning", '"bad name" is not a valid header name'],
      [5, "warning", "only path rules (starting with /) are supported, not this block"],
    ]);
  });

  test("protocol-relative targets and other schemes are errors and never become rules", () => {
    const text = [
      "/a  //evil.example/  301",
      "/b  /\\evil.example  302",
      "/c  javascript:alert(1)  302",
      "/d  data:text/html,x  302",
      "/e  ftp://files.example/  302",
      "/f  mailto:x@example.test  302",
      "/g  https://fine.example/  302",
    ].join("\n");
    const out = reported(parseRedirects, text);
    expect(out.map(([line, severity]) => [line, severity])).toEqual([
      [1, "error"],
      [2, "error"],
      [3, "error"],
      [4, "error"],
      [5, "error"],
      [6, "error"],
    ]);
    expect(out[0]?.[2]).toBe(
      "the target //evil.example/ is protocol-relative (another host); write it as an https:// URL",
    );
    expect(parseRedirects(text).map((r) => r.from)).toEqual(["/g"]);
  });

  test("unsupported features are warnings", () => {
    const out = reported(
      parseRedirects,
      "/x /y 302 Country=us\n/y /z 999\nnot-a-path /z\n/only\n/p https://a.test/ 200\n",
    );
    expect(out.map(([line, severity]) => [line, severity])).toEqual([
      [1, "warning"],
      [2, "warning"],
      [3, "warning"],
      [4, "warning"],
      [5, "warning"],
    ]);
  });

  test("a filled-in path target never becomes another host", () => {
    const [rule] = parseRedirects("/go/*  /:splat  302");
    const match = rule && { rule, params: new Map([["splat", "/evil.example"]]) };
    expect(match && substitute(match, true)).toBe("/evil.example");
  });
});

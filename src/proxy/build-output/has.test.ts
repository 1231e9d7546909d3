import { describe, expect, test } from "bun:test";
import { brief, go, testSite } from "../../testing/build-output.ts";
import type { HasCondition } from "./config-schema.ts";
import { checkConditions, compileCondition, parseCookies } from "./has.ts";
import { parseQuery } from "./query.ts";

const facts = {
  headers: new Headers({ "x-country": "FR", "x-version": "12", authorization: "Bearer abc.def" }),
  host: "shop.example.com",
  cookies: () => parseCookies("session=s1; theme=dark; empty="),
};
const query = parseQuery("page=3&tag=a&tag=b&flag");
const holds = (has: HasCondition[], missing: HasCondition[] = []) =>
  checkConditions(has.map(compileCondition), missing.map(compileCondition), facts, query);

describe("has: one table per type and value form", () => {
  const cases: [string, HasCondition, boolean][] = [
    ["header present", { type: "header", key: "x-country" }, true],
    ["header absent", { type: "header", key: "x-missing" }, false],
    ["header regex, whole value", { type: "header", key: "x-country", value: "FR|DE" }, true],
    ["header regex is not a search", { type: "header", key: "x-country", value: "R" }, false],
    ["header regex is case-sensitive", { type: "header", key: "x-country", value: "fr" }, false],
    ["cookie present", { type: "cookie", key: "session" }, true],
    ["cookie present but empty", { type: "cookie", key: "empty" }, true],
    ["cookie value", { type: "cookie", key: "theme", value: "dark" }, true],
    ["cookie absent", { type: "cookie", key: "nope" }, false],
    ["query present", { type: "query", key: "page" }, true],
    ["query bare key", { type: "query", key: "flag" }, true],
    ["query first value", { type: "query", key: "tag", value: "a" }, true],
    ["host string", { type: "host", value: "shop.example.com" }, true],
    ["host regex", { type: "host", value: "(?<sub>[^.]+)\\.example\\.com" }, true],
    ["host other", { type: "host", value: "example.com" }, false],
    ["eq", { type: "header", key: "x-version", value: { eq: "12" } }, true],
    ["eq number", { type: "header", key: "x-version", value: { eq: 12 } }, true],
    ["neq", { type: "header", key: "x-version", value: { neq: "12" } }, false],
    ["inc", { type: "header", key: "x-country", value: { inc: ["DE", "FR"] } }, true],
    ["ninc", { type: "header", key: "x-country", value: { ninc: ["DE", "FR"] } }, false],
    ["pre", { type: "header", key: "authorization", value: { pre: "Bearer " } }, true],
    ["suf", { type: "header", key: "authorization", value: { suf: ".def" } }, true],
    ["gt", { type: "header", key: "x-version", value: { gt: 11 } }, true],
    ["gte", { type: "header", key: "x-version", value: { gte: 12 } }, true],
    ["lt", { type: "header", key: "x-version", value: { lt: 12 } }, false],
    ["lte", { type: "header", key: "x-version", value: { lte: 12 } }, true],
    ["gt on a non-number", { type: "header", key: "x-country", value: { gt: 0 } }, false],
    ["re", { type: "header", key: "authorization", value: { re: "Bearer (?<token>.+)" } }, true],
    [
      "several operators: all must hold",
      { type: "header", key: "x-version", value: { gte: 10, lt: 12 } },
      false,
    ],
    ["re and pre together", { type: "cookie", key: "session", value: { re: "s\\d", pre: "s" } }, true],
  ];
  test.each(cases)("%s", (_, condition, expected) => expect(holds([condition]) !== null).toBe(expected));

  test("missing: the route applies only when none of its conditions hold", () => {
    expect(holds([], [{ type: "cookie", key: "session" }])).toBeNull();
    expect(
      holds(
        [],
        [
          { type: "cookie", key: "other" },
          { type: "header", key: "x-country", value: "DE" },
        ],
      ),
    ).toEqual({});
  });

  test("every has condition must hold", () => {
    expect(
      holds([
        { type: "header", key: "x-country" },
        { type: "cookie", key: "nope" },
      ]),
    ).toBeNull();
  });

  test("captures: named groups, the host, and a key's value under its name (and its letters)", () => {
    expect(
      holds([
        { type: "host", value: "(?<sub>[^.]+)\\.example\\.com" },
        { type: "header", key: "authorization", value: { re: "Bearer (?<token>.+)" } },
        { type: "header", key: "x-country" },
      ]),
    ).toEqual({
      sub: "shop",
      host: "shop.example.com",
      token: "abc.def",
      authorization: "Bearer abc.def",
      "x-country": "FR",
      xcountry: "FR",
    });
  });

  test("cookies: quoted values, the first of a repeated name", () => {
    expect([...parseCookies('a="x y"; b=1; a=2; junk; =v')]).toEqual([
      ["a", "x y"],
      ["b", "1"],
    ]);
  });
});

describe("has and missing in routes", () => {
  const site = testSite({
    routes: [
      {
        src: "/(.*)",
        has: [{ type: "cookie", key: "locale", value: "(?<lang>fr|de)" }],
        dest: "/$lang/$1",
        check: true,
      },
      {
        src: "/admin",
        missing: [{ type: "header", key: "Authorization" }],
        status: 307,
        headers: { Location: "/login" },
      },
      {
        src: "/who",
        has: [{ type: "header", key: "X-User" }],
        headers: { "x-hello": "$xuser" },
        dest: "/fn",
      },
      {
        src: "/shop",
        has: [{ type: "host", value: "(?<store>[a-z]+)\\.example\\.com" }],
        dest: "/fn?store=$store",
      },
      { src: "/page", has: [{ type: "query", key: "v", value: { gte: 2 } }], dest: "/v2.html" },
    ],
    files: ["/fr/about.html", "/about.html", "/admin", "/v2.html", "/page"],
    functions: ["/fn"],
  });

  test.each([
    ["/about.html", {}, "static /about.html 200"],
    ["/about.html", { headers: { cookie: "locale=fr" } }, "static /fr/about.html 200"],
    ["/about.html", { headers: { cookie: "locale=it" } }, "static /about.html 200"],
    ["/admin", {}, "redirect 307 /login"],
    ["/admin", { headers: { authorization: "Basic x" } }, "static /admin 200"],
    ["/who", { headers: { "x-user": "ann" } }, "function /fn /who"],
    ["/shop", { host: "berlin.example.com" }, "function /fn /shop?store=berlin"],
    ["/shop", { host: "example.org" }, "status 404"],
    ["/page?v=3", {}, "static /v2.html 200"],
    ["/page?v=1", {}, "static /page 200"],
  ])("%s %j -> %s", (url, request, expected) => expect(brief(go(site, url, request))).toBe(expected));

  test("a has capture fills headers", () => {
    expect(go(site, "/who", { headers: { "x-user": "ann" } }).response.headers).toEqual({ "x-hello": "ann" });
  });
});

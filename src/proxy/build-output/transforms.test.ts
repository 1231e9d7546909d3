import { describe, expect, test } from "bun:test";
import { go, testSite } from "../../testing/build-output.ts";
import { applyResponseHeaders, emptyPlan, requestHeaders, responseHeaders } from "./answer.ts";
import type { TransformKey } from "./config-schema.ts";
import { formatQuery, mergeQuery, parseQuery } from "./query.ts";
import { substitute, substituteTarget } from "./substitute.ts";
import { keyMatches, type ResolvedTransform, transformHeaders, transformQuery } from "./transforms.ts";

const captures = { groups: ["/a b", "a b"], named: { slug: "x/y" }, has: { token: "t&1" } };

describe("substitute: placeholders, encoded for where they land", () => {
  test.each([
    ["/p/$1", "path", "/p/a b"],
    ["$1", "query", "a%20b"],
    ["/p/$1", "url", "/p/a%20b"],
    ["$slug-$token", "header", "x/y-t&1"],
    ["$slug$token", "query", "x%2Fyt%261"],
    ["$9$none", "path", ""],
    ["cost: $", "path", "cost: $"],
  ] as const)("%s in a %s", (template, context, expected) =>
    expect(substitute(template, captures, context)).toBe(expected),
  );

  test("a destination is split at its first ? and loses its fragment", () => {
    expect(substituteTarget("/x/$1?q=$1&r=?#frag", captures, "path")).toEqual({
      path: "/x/a b",
      query: "q=a%20b&r=?",
    });
  });
});

describe("query: parse, merge, format", () => {
  test("raw entries come back as sent; ?a and ?a= differ", () => {
    const entries = parseQuery("a&b=&c=%2F+x&d=%ZZ");
    expect(entries.map((e) => [e.key, e.value])).toEqual([
      ["a", null],
      ["b", ""],
      ["c", "/+x"],
      ["d", "%ZZ"],
    ]);
    expect(formatQuery(entries)).toBe("a&b=&c=%2F+x&d=%ZZ");
  });

  test("the destination's parameters replace the request's of the same name", () => {
    expect(formatQuery(mergeQuery(parseQuery("x=1&y=2&x=3"), parseQuery("x=dest")))).toBe("y=2&x=dest");
  });
});

describe("transforms: keys and ops", () => {
  test.each([
    ["X-Key", "x-key", true],
    ["x-key", { pre: "X-" }, true],
    ["x-key", { suf: "key", neq: "x-key" }, false],
    ["a", { inc: ["A", "b"] }, true],
    ["a", { ninc: ["A"] }, false],
    ["5", { gt: 4, lte: 5 }, true],
    ["v", { eq: "V" }, true],
  ] as [string, TransformKey, boolean][])("%s against %j", (candidate, rule, expected) =>
    expect(keyMatches(candidate, rule)).toBe(expected),
  );

  const q = (raw: string, t: ResolvedTransform) => formatQuery(transformQuery(parseQuery(raw), t));
  test.each([
    [
      "delete a key",
      "a=1&__pathname=/x&b=2",
      { type: "request.query", op: "delete", key: "__pathname" },
      "a=1&b=2",
    ],
    [
      "delete some values",
      "t=a&t=b&t=c",
      { type: "request.query", op: "delete", key: "t", args: ["b"] },
      "t=a&t=c",
    ],
    ["set replaces", "a=1&a=2", { type: "request.query", op: "set", key: "A", args: ["9"] }, "a=9"],
    ["set adds", "a=1", { type: "request.query", op: "set", key: "b", args: ["2"] }, "a=1&b=2"],
    ["append", "a=1", { type: "request.query", op: "append", key: "a", args: ["2", "3"] }, "a=1&a=2&a=3"],
    [
      "rule keys never add",
      "a=1",
      { type: "request.query", op: "set", key: { pre: "z" }, args: ["2"] },
      "a=1",
    ],
  ] as [string, string, ResolvedTransform, string][])("%s", (_, raw, t, expected) =>
    expect(q(raw, t)).toBe(expected),
  );

  test("headers: set, append, delete (whole or some values), malformed edits skipped", () => {
    const headers = new Headers({ "x-a": "1", vary: "Accept, Cookie", "x-old-1": "a", "x-old-2": "b" });
    transformHeaders(headers, { type: "response.headers", op: "set", key: "x-a", args: ["2"] });
    transformHeaders(headers, { type: "response.headers", op: "append", key: "x-new", args: ["n"] });
    transformHeaders(headers, { type: "response.headers", op: "delete", key: "vary", args: ["cookie"] });
    transformHeaders(headers, { type: "response.headers", op: "delete", key: { pre: "x-old" } });
    transformHeaders(headers, { type: "response.headers", op: "set", key: "bad name", args: ["x"] });
    transformHeaders(headers, { type: "response.headers", op: "set", key: "x-ctl", args: ["a\u0001"] });
    expect(Object.fromEntries(headers)).toEqual({ "x-a": "2", "x-new": "n", vary: "Accept" });
  });
});

describe("transforms in routes", () => {
  // What @sveltejs/adapter-vercel writes first: a visitor's __pathname must never reach the functions.
  const site = testSite({
    routes: [
      {
        src: ".*",
        continue: true,
        transforms: [{ type: "request.query", op: "delete", target: { key: "__pathname" } }],
      },
      {
        src: "/api/(.*)",
        continue: true,
        transforms: [
          { type: "request.headers", op: "set", target: { key: "x-api-path" }, args: "$1" },
          { type: "response.headers", op: "set", target: { key: "x-served-by" }, args: "first" },
        ],
      },
      {
        src: "/api/(.*)",
        dest: "/fn",
        transforms: [
          { type: "response.headers", op: "append", target: { key: "x-served-by" }, args: "second" },
          { type: "request.path", op: "set", args: "/internal/$1" },
        ],
      },
      { src: "/isr", dest: "/fn?__pathname=/isr" },
    ],
    functions: ["/fn"],
  });

  test("a visitor's __pathname is deleted before the adapter's own is added", () => {
    expect(go(site, "/isr?__pathname=/admin&x=1")).toMatchObject({
      kind: "function",
      query: "x=1&__pathname=/isr",
    });
  });

  test("request headers and path for the function; the last route's response transforms", () => {
    const answer = go(site, "/api/users?__pathname=/x");
    if (answer.kind !== "function") throw new Error(answer.kind);
    expect(answer.path).toBe("/internal/users");
    expect(answer.query).toBe("");
    expect(Object.fromEntries(requestHeaders(answer.requestHeaders, new Headers({ host: "h" })))).toEqual({
      host: "h",
      "x-api-path": "users",
    });
    const sent = responseHeaders(answer.response, new Headers({ "x-served-by": "fn" }), "function");
    expect(sent.get("x-served-by")).toBe("fn, second");
  });

  test("responseHeaders: route headers replace a file's defaults, not a function's own; important ones win", () => {
    const plan = {
      headers: { "cache-control": "route", "x-r": "1" },
      important: { "x-i": "route" },
      transforms: [],
    };
    const own = new Headers({ "cache-control": "own", "x-i": "own" });
    expect(Object.fromEntries(responseHeaders(plan, own, "static"))).toEqual({
      "cache-control": "route",
      "x-r": "1",
      "x-i": "route",
    });
    expect(Object.fromEntries(responseHeaders(plan, own, "function"))).toEqual({
      "cache-control": "own",
      "x-r": "1",
      "x-i": "route",
    });
  });

  test("applyResponseHeaders: the same headers, in place; cookies stay apart; an empty plan changes nothing", () => {
    const plan = {
      headers: { "cache-control": "route", "x-r": "1" },
      important: { "x-i": "route" },
      transforms: [{ type: "response.headers", op: "delete", key: { eq: "x-gone" } } as ResolvedTransform],
    };
    const own = () => {
      const headers = new Headers({ "cache-control": "own", "x-i": "own", "x-gone": "1" });
      headers.append("set-cookie", "a=1");
      headers.append("set-cookie", "b=2");
      return headers;
    };
    const inPlace = own();
    applyResponseHeaders(plan, inPlace, "function");
    expect([...inPlace]).toEqual([...responseHeaders(plan, own(), "function")]);
    expect(inPlace.getSetCookie()).toEqual(["a=1", "b=2"]);
    expect(inPlace.has("x-gone")).toBe(false);
    expect(inPlace.get("x-i")).toBe("route");
    const untouched = own();
    applyResponseHeaders(emptyPlan(), untouched, "function");
    expect([...untouched]).toEqual([...own()]);
  });
});

// Zero-config naming: which api/ files are functions, their paths, conflicts, and the routes of dynamic segments.

import { describe, expect, test } from "bun:test";
import { AppError } from "../src/errors.ts";
import { apiFunctions, apiRoutes, isFunctionFile, type Route } from "./api-routes.ts";

describe("which files are functions", () => {
  test.each([
    ["api/hello.ts", true],
    ["api/hello.js", true],
    ["api/hello.mjs", true],
    ["api/page.tsx", true],
    ["api/users/[id].js", true],
    ["api/_util.ts", false],
    ["api/_lib/db.ts", false],
    ["api/.hidden.ts", false],
    ["api/types.d.ts", false],
    ["api/hello.test.ts", false],
    ["api/hello.spec.js", false],
    ["api/node_modules/x/index.js", false],
    ["api/data.json", false],
    ["api/hello.cjs", false],
    ["lib/hello.ts", false],
  ])("%s: %p", (file, expected) => {
    expect(isFunctionFile(file)).toBe(expected);
  });
});

describe("function paths", () => {
  test("each file answers at its path without the extension; helpers are left out", () => {
    const fns = apiFunctions(["api/users/[id].js", "api/hello.ts", "api/_util.ts", "api/index.ts"]);
    expect(fns.map((f) => [f.file, f.path])).toEqual([
      ["api/hello.ts", "/api/hello"],
      ["api/index.ts", "/api/index"],
      ["api/users/[id].js", "/api/users/[id]"],
    ]);
  });

  test("two files for the same paths, a repeated parameter, or a catch-all in the middle are refused", () => {
    const refused = (files: string[]) => {
      try {
        apiFunctions(files);
      } catch (error) {
        expect(error).toBeInstanceOf(AppError);
        return (error as AppError).message;
      }
      throw new Error("accepted");
    };
    expect(refused(["api/hello.js", "api/hello.ts"])).toBe(
      "api/hello.js and api/hello.ts answer the same paths; rename one of them",
    );
    expect(refused(["api/[id].ts", "api/[slug].ts"])).toContain("answer the same paths");
    expect(refused(["api/[id]/x/[id].ts"])).toContain('the parameter "id" appears twice');
    expect(refused(["api/[...all]/x.ts"])).toContain("a catch-all segment must be the last one");
  });
});

/** Where a request goes: the first rewrite after the filesystem whose src matches, with $n filled in. */
function destOf(routes: Route[], path: string): string | null {
  for (const route of routes.slice(routes.findIndex((r) => "handle" in r && r.handle === "filesystem") + 1)) {
    if ("handle" in route) break;
    const match = new RegExp(route.src).exec(path);
    if (match) return route.dest.replace(/\$(\d+)/g, (_, n: string) => match[Number(n)] ?? "");
  }
  return null;
}

describe("routes", () => {
  const fns = apiFunctions([
    "api/hello.ts",
    "api/index.ts",
    "api/users/[id].js",
    "api/users/[id]/posts.ts",
    "api/users/me.ts",
    "api/[team]/settings.ts",
    "api/files/[...path].ts",
    "api/docs/[[...slug]].ts",
    "api/[...rest].ts",
  ]);
  const routes = apiRoutes(fns, false);

  test("the filesystem first, then the dynamic functions, then the miss phase", () => {
    expect(routes[0]).toEqual({ handle: "filesystem" });
    expect(routes).toContainEqual({
      src: "^/api/users/([^/]+)$",
      dest: "/api/users/[id]?id=$1",
      check: true,
    });
    expect(routes.slice(-2)).toEqual([
      { handle: "miss" },
      { src: "^/api/(.+)(?:\\.(?:js|mjs|ts|tsx))$", dest: "/api/$1", check: true },
    ]);
    // Static functions need no route: the filesystem phase finds them by their path.
    expect(routes.some((r) => "dest" in r && r.dest === "/api/hello")).toBe(false);
  });

  test("static segments before dynamic ones, dynamic before catch-alls", () => {
    const dests = routes.flatMap((r) => ("dest" in r ? [r.dest.split("?")[0]] : []));
    expect(dests.indexOf("/api/users/[id]")).toBeLessThan(dests.indexOf("/api/[team]/settings"));
    // Position by position: "files" (static) beats "[team]", which beats the catch-all "[...rest]".
    expect(dests.indexOf("/api/files/[...path]")).toBeLessThan(dests.indexOf("/api/[team]/settings"));
    expect(dests.indexOf("/api/[team]/settings")).toBeLessThan(dests.indexOf("/api/[...rest]"));
    expect(destOf(routes, "/api/files/settings")).toBe("/api/files/[...path]?path=settings");
    expect(destOf(routes, "/api/other/thing/x")).toBe("/api/[...rest]?rest=other/thing/x");
    expect(destOf(routes, "/api/users/42")).toBe("/api/users/[id]?id=42");
    expect(destOf(routes, "/api/users/42/posts")).toBe("/api/users/[id]/posts?id=42");
    expect(destOf(routes, "/api/acme/settings")).toBe("/api/[team]/settings?team=acme");
    expect(destOf(routes, "/api/files/a/b.txt")).toBe("/api/files/[...path]?path=a/b.txt");
    expect(destOf(routes, "/api/files")).toBe("/api/[...rest]?rest=files");
    expect(destOf(routes, "/api/docs")).toBe("/api/docs/[[...slug]]?slug=");
    expect(destOf(routes, "/api/docs/intro/setup")).toBe("/api/docs/[[...slug]]?slug=intro/setup");
    expect(destOf(routes, "/api")).toBe("/api/index");
  });

  test("a site with 404.html gets the error phase", () => {
    expect(apiRoutes(fns, true).slice(-2)).toEqual([
      { handle: "error" },
      { status: 404, src: "^(?!/api).*$", dest: "/404.html" },
    ]);
  });
});

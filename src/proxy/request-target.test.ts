// Host and path normalization: the traversal corpus, malformed hosts, fingerprint detection.

import { describe, expect, test } from "bun:test";
import {
  isFingerprinted,
  MAX_PATH_CHARS,
  normalizeHost,
  normalizePath,
  rawPathOf,
  splitUrl,
} from "./request-target.ts";

describe("normalizeHost", () => {
  test("lowercases, strips the port and a final dot", () => {
    expect(normalizeHost("Blog.LocalHost:8001")).toBe("blog.localhost");
    expect(normalizeHost("blog.example.com.")).toBe("blog.example.com");
    expect(normalizeHost("a--git-feature-x.localhost")).toBe("a--git-feature-x.localhost");
    expect(normalizeHost("[::1]:8001")).toBe("[::1]");
  });

  test("refuses missing and malformed hosts", () => {
    for (const bad of [
      null,
      "",
      ":8001",
      "a b.localhost",
      "a_b.localhost",
      "-a.localhost",
      "a-.localhost",
      "a..b",
      "a.localhost:99999",
      "a.localhost:",
      "a.localhost:80:80",
      `${"a".repeat(64)}.localhost`,
      `${"a.".repeat(127)}ab`,
      "a.localhost/evil",
      "<script>.localhost",
      "a\u0000.localhost",
      "[zz]",
      "ex\u00e4mple.com",
    ]) {
      expect(normalizeHost(bad)).toBeNull();
    }
  });
});

describe("splitUrl", () => {
  test("absolute and origin-form URLs, query and fragment", () => {
    expect(splitUrl("http://a.localhost:8001/x/y?q=1#f")).toEqual({ rawPath: "/x/y", search: "?q=1" });
    expect(splitUrl("http://a.localhost")).toEqual({ rawPath: "/", search: "" });
    expect(splitUrl("/p#frag?not")).toEqual({ rawPath: "/p", search: "" });
    expect(splitUrl("http://h/?")).toEqual({ rawPath: "/", search: "?" });
    for (const url of [
      "http://a.localhost:8001/x/y?q=1#f",
      "http://a.localhost",
      "/p#frag?not",
      "/plain",
      "http://h/a#b",
    ]) {
      expect(rawPathOf(url)).toBe(splitUrl(url).rawPath);
    }
  });
});

describe("normalizePath", () => {
  const ok = (raw: string) => {
    const result = normalizePath(raw);
    if (typeof result === "number") throw new Error(`refused ${raw}`);
    return result;
  };

  test("plain, encoded and unicode paths", () => {
    expect(ok("/")).toBe("/");
    expect(ok("/about")).toBe("/about");
    expect(ok("/docs/")).toBe("/docs/");
    expect(ok("/a%20b.html")).toBe("/a b.html");
    expect(ok("/caf%C3%A9/")).toBe("/café/");
    expect(ok("//a///b//")).toBe("/a/b/");
    expect(ok("/.well-known/x")).toBe("/.well-known/x");
    expect(ok("/a/.hidden")).toBe("/a/.hidden");
    expect(ok("/a..b/c...")).toBe("/a..b/c...");
  });

  test("the traversal corpus is refused", () => {
    for (const raw of [
      "/../etc/passwd",
      "/a/../../etc/passwd",
      "/./a",
      "/a/.",
      "/%2e%2e/etc/passwd",
      "/%2E%2E/%2e%2e/etc/passwd",
      "/.%2e/x",
      "/%2e/x",
      "/%252e%252e/etc/passwd",
      "/%25252e%25252e/x",
      "/..%2fetc%2fpasswd",
      "/..%2Fetc",
      "/a%5c..%5cb",
      "/a\\..\\b",
      "/a\\b",
      "/x%00.html",
      "/x%0a.html",
      "/x%7f",
      "/%c0%ae%c0%ae/x",
      "/%e0%80%ae/x",
      "/%",
      "/%zz",
      "/%2",
      "relative",
      "",
    ]) {
      expect({ raw, result: normalizePath(raw) }).toEqual({ raw, result: 400 });
    }
  });

  test("overlong paths get 414", () => {
    expect(normalizePath(`/${"a".repeat(MAX_PATH_CHARS)}`)).toBe(414);
    expect(normalizePath(`/${"a".repeat(MAX_PATH_CHARS - 1)}`)).toBe(`/${"a".repeat(MAX_PATH_CHARS - 1)}`);
  });
});

describe("isFingerprinted", () => {
  test("hashed names and build tools' immutable directories", () => {
    for (const path of [
      "/assets/app.3f9a1c2b.js",
      "/assets/index-BQ8Xk2a1.js",
      "/static/js/main.8e3d9c7a.chunk.js",
      "/static/css/main.0123abcd.css",
      "/_next/static/chunks/pages/index.js",
      "/_astro/hoisted.js",
      "/img/logo.a1b2c3d4e5f6.png",
    ]) {
      expect({ path, hashed: isFingerprinted(path) }).toEqual({ path, hashed: true });
    }
  });

  test("ordinary names are not", () => {
    for (const path of [
      "/index.html",
      "/app.js",
      "/assets/my-long-component.js",
      "/jquery-3.6.0.min.js",
      "/report-20240101.pdf",
      "/deadbeef.js",
      "/assets/style.abcdefgh.css",
      "/Makefile",
      "/.hidden",
      "/a.3f9a1c2b",
    ]) {
      expect({ path, hashed: isFingerprinted(path) }).toEqual({ path, hashed: false });
    }
  });
});

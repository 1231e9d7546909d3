import { describe, expect, test } from "bun:test";
import type { Manifest } from "../../store/artifacts.ts";
import { brief, go, testSite } from "../../testing/build-output.ts";
import { viewOfManifest } from "./site.ts";

const blob = { hash: "a".repeat(64), size: 1 };

describe("createBuildOutputSite", () => {
  test("the view of a manifest: files, functions, and which are prerendered", () => {
    const manifest: Manifest = {
      version: 2,
      deploymentId: "d",
      createdAt: "2026-01-01T00:00:00Z",
      files: { "/index.html": { ...blob, type: "text/html" } },
      buildOutput: { config: blob },
      functions: {
        "/api/a": { config: blob, files: {} },
        "/isr": { config: blob, prerender: blob, files: {} },
      },
    };
    const view = viewOfManifest(manifest);
    expect([...view.files]).toEqual(["/index.html"]);
    expect([...view.functions]).toEqual(["/api/a", "/isr"]);
    expect([...view.prerendered]).toEqual(["/isr"]);
    expect(viewOfManifest({ ...manifest, functions: undefined }).functions).toEqual([]);
  });

  test("answers are memoized by method, path and query when no route reads headers, cookies or the host", () => {
    const site = testSite({ routes: [{ src: "/(.*)", dest: "/fn?p=$1" }], functions: ["/fn"] });
    expect(go(site, "/x?a=1")).toBe(go(site, "/x?a=1"));
    expect(go(site, "/x?a=1")).not.toBe(go(site, "/x?a=2"));
    expect(go(site, "/x", { method: "POST" })).not.toBe(go(site, "/x"));
  });

  test("routes that read the request's headers are never memoized", () => {
    const site = testSite({
      routes: [{ src: "/", has: [{ type: "header", key: "x-beta" }], dest: "/beta.html" }],
      files: ["/index.html", "/beta.html"],
    });
    expect(brief(go(site, "/", { headers: { "x-beta": "1" } }))).toBe("static /beta.html 200");
    expect(brief(go(site, "/"))).toBe("static /index.html 200");
  });
});

describe("/_vercel/image without an optimizer", () => {
  const site = testSite({
    config: {
      images: {
        sizes: [640, 1080],
        domains: ["cdn.example.com"],
        qualities: [50, 75],
        contentSecurityPolicy: "default-src 'none'",
      },
      overrides: { photo: { contentType: "image/jpeg" } },
    },
    files: ["/photo", "/a.png"],
    functions: ["/fn"],
  });
  test.each([
    ["/_vercel/image?url=%2Fphoto&w=1080&q=75", "static /photo 200 image/jpeg"],
    ["/_vercel/image?url=%2Fa.png%3Fv%3D2&w=640", "static /a.png 200"],
    ["/_vercel/image?w=640", 'status 400 ("url" parameter is required)'],
    ["/_vercel/image?url=%2Fa.png", 'status 400 ("w" parameter (width) is required)'],
    ["/_vercel/image?url=%2Fa.png&w=640&q=80", 'status 400 ("q" parameter (quality) of 80 is not allowed)'],
    [
      "/_vercel/image?url=%2F%2Fcdn.example.com%2Fa.png&w=640",
      "status 400 (remote images are not fetched (no image optimizer): use a local image)",
    ],
    ["/_vercel/image?url=%2Ffn&w=640", "status 404 (no such image)"],
  ])("%s -> %s", (url, expected) => expect(brief(go(site, url))).toBe(expected));

  test("the configured Content-Security-Policy comes along", () => {
    expect(go(site, "/_vercel/image?url=%2Fa.png&w=640").response.headers).toEqual({
      "content-security-policy": "default-src 'none'",
    });
  });

  test("without an images block the path is routed like any other", () => {
    expect(brief(go(testSite({}), "/_vercel/image?url=%2Fa.png&w=640"))).toBe("status 404");
  });
});

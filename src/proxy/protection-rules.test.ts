// Deployment protection's small rules: which hosts a mode protects, who may view, where a visitor may be sent
// back to, what a protected answer carries, and what the deployment's own code never sees.

import { describe, expect, test } from "bun:test";
import { isProtected, mayView } from "../model/protection.ts";
import { ACCESS_COOKIE, BYPASS_HEADER, markProtected, safeNext, withoutCredentials } from "./protection.ts";

describe("the rules", () => {
  test("previews protects deployment and branch hosts, all protects production too, none nothing", () => {
    const table = (["none", "previews", "all"] as const).map((mode) =>
      (["production", "deployment", "branch"] as const).map((kind) => isProtected(mode, kind)),
    );
    expect(table).toEqual([
      [false, false, false],
      [false, true, true],
      [true, true, true],
    ]);
  });

  test("the owner may view; anyone else may not", () => {
    expect(mayView({ id: "u1" }, { viewers: ["u1"] })).toBe(true);
    expect(mayView({ id: "u2" }, { viewers: ["u1"] })).toBe(false);
    expect(mayView({ id: "u2" }, { viewers: ["u1", "u2"] })).toBe(true);
  });

  test("safeNext keeps same-host paths and turns anything else into /", () => {
    expect(safeNext("/docs/?q=1&x=%20")).toBe("/docs/?q=1&x=%20");
    for (const bad of [null, "", "//evil.example/", "/\\evil", "https://evil.example/", "/\t/evil", "docs"])
      expect(safeNext(bad)).toBe("/");
  });
});

describe("answers", () => {
  test("a protected answer is noindex and private, keeps its body and status, and may carry the cookie", async () => {
    const shared = new Headers({ "cache-control": "public, max-age=0, must-revalidate", etag: '"x"' });
    const marked = markProtected(new Response("body", { status: 404, headers: shared }), "c=1");
    expect(marked.status).toBe(404);
    expect(await marked.text()).toBe("body");
    expect(marked.headers.get("x-robots-tag")).toBe("noindex");
    expect(marked.headers.get("cache-control")).toBe("private, max-age=0, must-revalidate");
    expect(marked.headers.getSetCookie()).toEqual(["c=1"]);
    // The prebuilt headers the proxy shares between responses are left as they were.
    expect(shared.get("cache-control")).toBe("public, max-age=0, must-revalidate");
    expect(markProtected(new Response(null), null).headers.get("cache-control")).toBe("private");
  });

  test("the deployment's code never sees the bypass header or the access cookie", () => {
    const request = new Request("http://x.localhost/", {
      headers: {
        [BYPASS_HEADER]: "mvb_secret",
        "x-vercel-set-bypass-cookie": "true",
        cookie: `a=1; ${ACCESS_COOKIE}=signed; b=2`,
      },
    });
    withoutCredentials(request);
    expect(request.headers.get(BYPASS_HEADER)).toBeNull();
    expect(request.headers.get("x-vercel-set-bypass-cookie")).toBeNull();
    expect(request.headers.get("cookie")).toBe("a=1; b=2");
    const only = new Request("http://x.localhost/", { headers: { cookie: `${ACCESS_COOKIE}=signed` } });
    withoutCredentials(only);
    expect(only.headers.get("cookie")).toBeNull();
  });
});

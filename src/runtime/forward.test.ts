import { expect, test } from "bun:test";
import { forwardedHeaders } from "./forward.ts";
import type { Invocation } from "./runtime.ts";

function invocation(headers: Record<string, string>, clientIp: string | null): Invocation {
  return {
    request: new Request("http://inside.invalid/x", { headers }),
    path: "/x",
    search: "",
    host: "shop.example.com",
    proto: "https",
    clientIp,
    requestId: "req-1",
  };
}

test("forwardedHeaders: the platform's forwarding headers replace the visitor's; hop-by-hop ones go", () => {
  const headers = forwardedHeaders(
    invocation(
      {
        host: "evil.example",
        "x-forwarded-for": "6.6.6.6",
        forwarded: "for=6.6.6.6",
        "x-real-ip": "6.6.6.6",
        connection: "keep-alive",
        te: "trailers",
        "proxy-authorization": "Basic eA==",
        cookie: "a=1",
      },
      "203.0.113.7",
    ),
    "https://shop-abc123.sites.example:8443",
  );
  expect(Object.fromEntries(headers)).toEqual({
    host: "shop.example.com",
    cookie: "a=1",
    "x-forwarded-host": "shop.example.com",
    "x-forwarded-proto": "https",
    "x-vercel-id": "req-1",
    "x-vercel-deployment-url": "shop-abc123.sites.example:8443",
    "x-forwarded-for": "203.0.113.7",
    "x-real-ip": "203.0.113.7",
    "x-vercel-forwarded-for": "203.0.113.7",
  });
});

test("forwardedHeaders: no client address, no address headers; each deployment URL gives its own host", () => {
  const first = forwardedHeaders(invocation({ "x-forwarded-for": "6.6.6.6" }, null), "http://a-1.sites.test");
  const second = forwardedHeaders(invocation({}, null), "http://b-2.sites.test");
  expect(first.has("x-forwarded-for")).toBe(false);
  expect(first.has("x-real-ip")).toBe(false);
  expect(first.get("x-vercel-deployment-url")).toBe("a-1.sites.test");
  expect(second.get("x-vercel-deployment-url")).toBe("b-2.sites.test");
  expect(forwardedHeaders(invocation({}, null), "http://a-1.sites.test").get("x-vercel-deployment-url")).toBe(
    "a-1.sites.test",
  );
});

// Limits, step 1: API budgets per address and per user, through the API's handler with a movable clock.

import { afterEach, describe, expect, test } from "bun:test";
import type { Env } from "../config/config.ts";
import type { Deps } from "../deps.ts";
import { normalizeAddress } from "../identity/client-address.ts";
import { obj, testDeps, testUser } from "../testing/deps.ts";
import { createApi } from "./app.ts";
import { classify, TokenBuckets } from "./rate-limit.ts";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** An API whose clock only moves when the test says so, and whose callers each come from a chosen address. */
async function limitedApi(env: Env) {
  const deps = await testDeps(env);
  cleanup.push(() => deps.close());
  const clock = { now: Date.parse("2030-01-01T00:00:00Z") };
  const addresses = new WeakMap<Request, string>();
  const api = createApi(deps, { peer: (r) => addresses.get(r) ?? null, now: () => clock.now });
  const call = async (
    method: string,
    path: string,
    opts: { token?: string; from?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) => {
    const request = new Request(`http://localhost${path}`, {
      method,
      headers: {
        ...(opts.token && { authorization: `Bearer ${opts.token}` }),
        ...(opts.body !== undefined && { "content-type": "application/json" }),
        ...opts.headers,
      },
      ...(opts.body !== undefined && { body: JSON.stringify(opts.body) }),
    });
    addresses.set(request, opts.from ?? "198.51.100.1");
    const response = await api.handle(request);
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
  };
  return { deps, clock, call };
}

const OFF = {
  RATE_LIMIT_IP_PER_MINUTE: "0",
  RATE_LIMIT_USER_PER_MINUTE: "0",
  RATE_LIMIT_USER_WRITES_PER_MINUTE: "0",
  RATE_LIMIT_UPLOADS_PER_MINUTE: "0",
};

describe("token buckets", () => {
  test("a minute's budget at once, then one more per 60/perMinute seconds", () => {
    let now = 0;
    const buckets = new TokenBuckets(3, () => now);
    expect([1, 2, 3].map(() => buckets.take("k").ok)).toEqual([true, true, true]);
    const refused = buckets.take("k");
    expect(refused).toEqual({ ok: false, remaining: 0, retryAfterSeconds: 20 });
    now += 19_000;
    expect(buckets.take("k").retryAfterSeconds).toBe(1);
    now += 1_000;
    expect(buckets.take("k").ok).toBe(true);
    expect(buckets.take("other").ok).toBe(true);
  });

  test("memory is bounded: past maxKeys the least recently used bucket goes", () => {
    const buckets = new TokenBuckets(1, () => 0, 100);
    for (let i = 0; i < 1000; i++) buckets.take(`k${i}`);
    expect(buckets.size).toBe(100);
    // k999 is kept (recent) and still empty; k0 was evicted and starts full again.
    expect(buckets.take("k999").ok).toBe(false);
    expect(buckets.take("k0").ok).toBe(true);
  });

  test("classify: uploads have their own budget, the build API and health none", () => {
    expect(classify("PUT", `/api/files/${"a".repeat(64)}`)).toBe("upload");
    expect(classify("POST", "/api/files/missing")).toBe("upload");
    expect(classify("GET", "/api/projects")).toBe("read");
    expect(classify("POST", "/api/projects")).toBe("write");
    expect(classify("DELETE", "/api/projects/x")).toBe("write");
    expect(classify("POST", "/api/builds/x/events")).toBeNull();
    expect(classify("GET", "/api/health")).toBeNull();
  });
});

describe("per address", () => {
  test("addresses: IPv4-mapped IPv6 is IPv4; IPv6 is its /64, however it is written", () => {
    expect(normalizeAddress("::ffff:10.1.2.3")).toBe("10.1.2.3");
    expect(normalizeAddress("10.1.2.3")).toBe("10.1.2.3");
    expect(normalizeAddress("[2001:DB8::1]")).toBe("2001:db8:0:0::/64");
    expect(normalizeAddress("2001:0db8:0000:0000:ffff::1")).toBe("2001:db8:0:0::/64");
    expect(normalizeAddress("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(normalizeAddress("::1")).toBe("0:0:0:0::/64");
    expect(normalizeAddress("not:an:address")).toBe("not:an:address");
  });

  test("past the budget: 429 with Retry-After and the API's error shape; other addresses are not affected", async () => {
    const { call, clock } = await limitedApi({ ...OFF, RATE_LIMIT_IP_PER_MINUTE: "5" });
    for (let i = 0; i < 5; i++) expect((await call("GET", "/api/projects")).status).toBe(401);
    const refused = await call("GET", "/api/projects");
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({
      error: { code: "rate_limited", message: expect.stringContaining("5 a minute") },
    });
    expect(refused.headers.get("retry-after")).toBe("12");
    expect(refused.headers.get("ratelimit-limit")).toBe("5");
    expect(refused.headers.get("ratelimit-remaining")).toBe("0");
    expect(refused.headers.get("content-type")).toContain("application/json");
    // Writes spend the same budget before authentication.
    expect((await call("POST", "/api/projects", { body: { name: "x" } })).status).toBe(429);
    expect((await call("GET", "/api/projects", { from: "198.51.100.2" })).status).toBe(401);
    // Health checks and the builders' API are never refused.
    expect((await call("GET", "/api/health")).status).toBe(200);
    clock.now += 12_000;
    expect((await call("GET", "/api/projects")).status).toBe(401);
    expect((await call("GET", "/api/projects")).status).toBe(429);
  });

  test("X-Forwarded-For counts only with TRUST_PROXY, and only the entry the proxy added", async () => {
    const direct = await limitedApi({ ...OFF, RATE_LIMIT_IP_PER_MINUTE: "2" });
    for (const forwarded of ["203.0.113.1", "203.0.113.2", "203.0.113.3"]) {
      await direct.call("GET", "/api/projects", { headers: { "x-forwarded-for": forwarded } });
    }
    // Without TRUST_PROXY the header is ignored: all three came from the one socket address.
    expect(
      (await direct.call("GET", "/api/projects", { headers: { "x-forwarded-for": "203.0.113.4" } })).status,
    ).toBe(429);

    const proxied = await limitedApi({ ...OFF, RATE_LIMIT_IP_PER_MINUTE: "2", TRUST_PROXY: "1" });
    const from = (xff: string) =>
      proxied.call("GET", "/api/projects", { from: "10.0.0.1", headers: { "x-forwarded-for": xff } });
    expect((await from("203.0.113.1")).status).toBe(401);
    // A client's own entries (left of the proxy's) do not make it someone else.
    expect((await from("1.1.1.1, 203.0.113.1")).status).toBe(401);
    expect((await from("2.2.2.2, 203.0.113.1")).status).toBe(429);
    expect((await from("203.0.113.9")).status).toBe(401);
  });

  test("IPv6 clients share the budget of their /64", async () => {
    const { call } = await limitedApi({ ...OFF, RATE_LIMIT_IP_PER_MINUTE: "2" });
    expect((await call("GET", "/api/projects", { from: "2001:db8:1:2::1" })).status).toBe(401);
    expect((await call("GET", "/api/projects", { from: "2001:db8:1:2:ffff::9" })).status).toBe(401);
    expect((await call("GET", "/api/projects", { from: "2001:db8:1:2::abcd" })).status).toBe(429);
    expect((await call("GET", "/api/projects", { from: "2001:db8:1:3::1" })).status).toBe(401);
  });
});

describe("per user", () => {
  async function twoUsers(env: Env) {
    const api = await limitedApi({ ...OFF, ...env });
    const a = await testUser(api.deps);
    const b = await testUser(api.deps);
    return { ...api, a, b };
  }

  test("each user has their own budget, whatever address they call from", async () => {
    const { call, a, b, clock } = await twoUsers({ RATE_LIMIT_USER_PER_MINUTE: "3" });
    for (let i = 0; i < 3; i++) {
      expect((await call("GET", "/api/projects", { token: a.token, from: `198.51.100.${i}` })).status).toBe(
        200,
      );
    }
    const refused = await call("GET", "/api/user", { token: a.token, from: "198.51.100.99" });
    expect(refused.status).toBe(429);
    expect(obj(obj(refused.body).error).code).toBe("rate_limited");
    expect(refused.headers.get("retry-after")).toBe("20");
    // b is not slowed down by a.
    expect((await call("GET", "/api/projects", { token: b.token })).status).toBe(200);
    clock.now += 20_000;
    expect((await call("GET", "/api/projects", { token: a.token })).status).toBe(200);
  });

  test("writes have a budget of their own", async () => {
    const { call, a } = await twoUsers({
      RATE_LIMIT_USER_PER_MINUTE: "100",
      RATE_LIMIT_USER_WRITES_PER_MINUTE: "2",
    });
    expect((await call("POST", "/api/tokens", { token: a.token, body: { name: "one" } })).status).toBe(201);
    expect((await call("POST", "/api/tokens", { token: a.token, body: { name: "two" } })).status).toBe(201);
    const refused = await call("POST", "/api/tokens", { token: a.token, body: { name: "three" } });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("30");
    // Reading is still fine, and the refused write did nothing.
    const tokens = await call("GET", "/api/tokens", { token: a.token });
    expect(tokens.status).toBe(200);
    expect((obj(tokens.body).items as unknown[]).length).toBe(3);
  });

  test("uploads spend their own, larger budget: a big deploy is not stopped by the request budgets", async () => {
    const { call, a } = await twoUsers({
      RATE_LIMIT_IP_PER_MINUTE: "10",
      RATE_LIMIT_USER_PER_MINUTE: "10",
      RATE_LIMIT_USER_WRITES_PER_MINUTE: "10",
      RATE_LIMIT_UPLOADS_PER_MINUTE: "300",
    });
    for (let i = 0; i < 300; i++) {
      const hash = (i.toString(16).padStart(2, "0") + "0".repeat(62)).slice(0, 64);
      expect(
        (await call("POST", "/api/files/missing", { token: a.token, body: { hashes: [hash] } })).status,
      ).toBe(200);
    }
    expect((await call("POST", "/api/files/missing", { token: a.token, body: { hashes: [] } })).status).toBe(
      429,
    );
    // The other budgets are untouched.
    expect((await call("GET", "/api/projects", { token: a.token })).status).toBe(200);
  });

  test("0 disables every budget", async () => {
    const { call, a } = await twoUsers({});
    for (let i = 0; i < 200; i++)
      expect((await call("GET", "/api/user", { token: a.token })).status).toBe(200);
  });
});

test("the defaults allow a busy minute of an ordinary client", async () => {
  const deps: Deps = await testDeps();
  cleanup.push(() => deps.close());
  expect(deps.config.limits).toMatchObject({
    ipPerMinute: 600,
    userReadsPerMinute: 600,
    userWritesPerMinute: 120,
    uploadsPerMinute: 20_000,
  });
});

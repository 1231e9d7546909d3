// The ISR cache: a miss renders and keeps, a hit is served from memory, a stale entry is served while one render
// refreshes it, the fallback counts as rendered at deploy time, bypass tokens, the query key, the memory bound.

import { describe, expect, test } from "bun:test";
import type { PrerenderConfig } from "../model/prerender-config.ts";
import { cacheQuery, createPrerenderCache, type Rendered } from "./prerender.ts";
import type { Outcome } from "./runtime.ts";

const config = (over: Partial<PrerenderConfig> = {}): PrerenderConfig => ({
  expiration: 60,
  bypassToken: "secret-token",
  fallback: null,
  allowQuery: null,
  passQuery: false,
  initialStatus: 200,
  initialHeaders: {},
  ...over,
});

/** A function that counts its renders and answers with the count. */
function counter(status = 200, headers: Record<string, string> = {}) {
  let renders = 0;
  const render = async (): Promise<Outcome> => {
    renders += 1;
    return { kind: "response", response: new Response(`render ${renders}`, { status, headers }) };
  };
  return { render, renders: () => renders };
}

async function body(outcome: Outcome): Promise<[string, string | null]> {
  if (outcome.kind === "failed") return [`failed ${outcome.status}`, null];
  return [await outcome.response.text(), outcome.response.headers.get("x-vercel-cache")];
}

describe("prerender cache", () => {
  test("a miss renders and keeps; later requests are hits with an age", async () => {
    const cache = createPrerenderCache(1024 * 1024);
    const fn = counter();
    const ask = () =>
      cache.answer({
        key: "k",
        config: config(),
        request: new Request("http://x/"),
        fallback: null,
        render: fn.render,
      });
    expect(await body(await ask())).toEqual(["render 1", "MISS"]);
    expect(await body(await ask())).toEqual(["render 1", "HIT"]);
    expect(fn.renders()).toBe(1);
  });

  test("stale: served at once while one background render refreshes it", async () => {
    const cache = createPrerenderCache(1024 * 1024);
    const fn = counter();
    const cfg = config({ expiration: 0 });
    const ask = () =>
      cache.answer({
        key: "k",
        config: cfg,
        request: new Request("http://x/"),
        fallback: null,
        render: fn.render,
      });
    await ask();
    const [stale, state] = await Promise.all([ask(), ask()]).then(([a]) => body(a));
    expect([stale, state]).toEqual(["render 1", "STALE"]);
    await Bun.sleep(20);
    expect(fn.renders()).toBe(2);
    expect((await body(await ask()))[0]).toBe("render 2");
  });

  test("the fallback is served first and counts as rendered at deploy time", async () => {
    const cache = createPrerenderCache(1024 * 1024);
    const fn = counter();
    const deployedLongAgo: Rendered = {
      status: 200,
      headers: [["content-type", "text/html"]],
      body: new TextEncoder().encode("built"),
      at: Date.now() - 120_000,
    };
    const ask = () =>
      cache.answer({
        key: "k",
        config: config({ expiration: 60 }),
        request: new Request("http://x/"),
        fallback: async () => deployedLongAgo,
        render: fn.render,
      });
    expect(await body(await ask())).toEqual(["built", "STALE"]);
    await Bun.sleep(20);
    expect(await body(await ask())).toEqual(["render 1", "HIT"]);
  });

  test("bypass tokens: the revalidate header renders now, the bypass cookie skips the cache, a wrong token does neither", async () => {
    const cache = createPrerenderCache(1024 * 1024);
    const fn = counter();
    const ask = (headers: Record<string, string> = {}) =>
      cache.answer({
        key: "k",
        config: config({ expiration: null }),
        request: new Request("http://x/", { headers }),
        fallback: null,
        render: fn.render,
      });
    await ask();
    expect((await body(await ask({ "x-prerender-revalidate": "wrong" })))[0]).toBe("render 1");
    expect((await body(await ask({ "x-prerender-revalidate": "secret-token" })))[0]).toBe("render 2");
    expect((await body(await ask()))[0]).toBe("render 2");
    expect(await body(await ask({ cookie: "__prerender_bypass=secret-token" }))).toEqual(["render 3", null]);
    expect((await body(await ask()))[0]).toBe("render 2");
  });

  test("errors and private answers are not kept", async () => {
    const cache = createPrerenderCache(1024 * 1024);
    for (const fn of [counter(500), counter(200, { "cache-control": "private, max-age=0" })]) {
      const ask = () =>
        cache.answer({
          key: `k${Math.random()}`,
          config: config(),
          request: new Request("http://x/"),
          fallback: null,
          render: fn.render,
        });
      const key = `fixed-${fn.renders}`;
      const askSame = () =>
        cache.answer({
          key,
          config: config(),
          request: new Request("http://x/"),
          fallback: null,
          render: fn.render,
        });
      await ask();
      await askSame();
      await askSame();
      expect(fn.renders()).toBe(3);
    }
    expect(cache.bytes()).toBe(0);
  });

  test("the cache key's query: only allowed parameters, in a stable order", () => {
    expect(cacheQuery("?b=1&a=2&utm=x", ["a", "b"])).toBe("?a=2&b=1");
    expect(cacheQuery("?b=1&a=2", null)).toBe("?a=2&b=1");
    expect(cacheQuery("?a=1", [])).toBe("");
  });

  test("memory is bounded: the least recently used entries go", async () => {
    const cache = createPrerenderCache(30);
    const fn = counter();
    for (const key of ["a", "b", "c", "d"])
      await cache.answer({
        key,
        config: config(),
        request: new Request("http://x/"),
        fallback: null,
        render: fn.render,
      });
    expect(cache.bytes()).toBeLessThanOrEqual(30);
  });
});

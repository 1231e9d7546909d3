// Incremental Static Regeneration: a prerendered function's responses are cached per path (and allowed query)
// and served to everyone; once older than the config's `expiration` they are still served while one render in
// the background refreshes them (stale-while-revalidate). The build's fallback file counts as rendered at deploy
// time. A request with the bypass token in `x-prerender-revalidate` renders now (on-demand revalidation); one with
// it in the `__prerender_bypass` cookie skips the cache (draft mode). Memory only, per process, bounded by bytes.

import type { PrerenderConfig } from "../model/prerender-config.ts";
import type { Outcome } from "./runtime.ts";

/** Larger responses are served but not kept. */
const MAX_ENTRY_BYTES = 8 * 1024 * 1024;

export interface Rendered {
  status: number;
  headers: [string, string][];
  body: Uint8Array<ArrayBuffer>;
  /** When it was rendered (epoch ms). */
  at: number;
}

export interface PrerenderRequest {
  /** Deployment, function and path (with the allowed query): one cache entry each. */
  key: string;
  config: PrerenderConfig;
  request: Request;
  /** The build's prerendered response, if the function has one, and when it was made (the deployment's time). */
  fallback: (() => Promise<Rendered | null>) | null;
  render: () => Promise<Outcome>;
}

export interface PrerenderCache {
  answer(input: PrerenderRequest): Promise<Outcome>;
  /** Bytes held (tests, metrics). */
  bytes(): number;
}

/** The key's query: only the allowed parameters, sorted, so that `?b=1&a=2` and `?a=2&b=1` share an entry. */
export function cacheQuery(search: string, allowQuery: string[] | null): string {
  const params = new URLSearchParams(search);
  const kept = [...params].filter(([name]) => allowQuery === null || allowQuery.includes(name));
  kept.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return kept.length === 0 ? "" : `?${new URLSearchParams(kept).toString()}`;
}

function cookie(request: Request, name: string): string | null {
  for (const part of (request.headers.get("cookie") ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

function toResponse(entry: Rendered, cache: string, method: string): Outcome {
  const headers = new Headers(entry.headers);
  headers.set("x-vercel-cache", cache);
  headers.set("age", String(Math.max(0, Math.floor((Date.now() - entry.at) / 1000))));
  const body = method === "HEAD" ? null : entry.body;
  return { kind: "response", response: new Response(body, { status: entry.status, headers }) };
}

/** Reads a rendered answer whole, when it may be cached; null when it may not (errors, private, too large). */
async function capture(outcome: Outcome): Promise<{ rendered: Rendered | null; outcome: Outcome }> {
  if (outcome.kind === "failed") return { rendered: null, outcome };
  const { response } = outcome;
  const control = response.headers.get("cache-control") ?? "";
  if (response.status >= 500 || /\b(no-store|private)\b/i.test(control)) return { rendered: null, outcome };
  const body = new Uint8Array(await response.arrayBuffer());
  const headers = [...response.headers].filter(([name]) => name !== "set-cookie");
  const rendered = { status: response.status, headers, body, at: Date.now() };
  const replay: Outcome = {
    kind: "response",
    response: new Response(body, { status: response.status, headers: response.headers }),
  };
  return { rendered: body.byteLength <= MAX_ENTRY_BYTES ? rendered : null, outcome: replay };
}

export function createPrerenderCache(maxBytes: number): PrerenderCache {
  // Insertion order is recency: an entry read or written moves to the end; the oldest go first.
  const entries = new Map<string, Rendered>();
  const refreshing = new Map<string, Promise<void>>();
  let total = 0;

  function remember(key: string, rendered: Rendered): void {
    const before = entries.get(key);
    if (before) total -= before.body.byteLength;
    entries.delete(key);
    entries.set(key, rendered);
    total += rendered.body.byteLength;
    for (const [oldest, entry] of entries) {
      if (total <= maxBytes) break;
      entries.delete(oldest);
      total -= entry.body.byteLength;
    }
  }

  async function renderAndKeep(input: PrerenderRequest): Promise<Outcome> {
    const { rendered, outcome } = await capture(await input.render());
    if (rendered) remember(input.key, rendered);
    return outcome;
  }

  function refreshInBackground(input: PrerenderRequest): void {
    if (refreshing.has(input.key)) return;
    const job = renderAndKeep(input)
      .then(() => undefined)
      // A failed refresh keeps the stale entry: it is tried again by the next request.
      .catch(() => undefined)
      .finally(() => refreshing.delete(input.key));
    refreshing.set(input.key, job);
  }

  return {
    bytes: () => total,
    async answer(input) {
      const { config, request } = input;
      const token = config.bypassToken;
      if (token !== null && cookie(request, "__prerender_bypass") === token) return input.render();
      if (token !== null && request.headers.get("x-prerender-revalidate") === token)
        return renderAndKeep(input);
      let entry = entries.get(input.key);
      if (!entry && input.fallback) {
        const fallback = await input.fallback();
        if (fallback) {
          remember(input.key, fallback);
          entry = fallback;
        }
      }
      if (!entry) {
        const outcome = await renderAndKeep(input);
        if (outcome.kind === "response") outcome.response.headers.set("x-vercel-cache", "MISS");
        return outcome;
      }
      remember(input.key, entry);
      const fresh = config.expiration === null || Date.now() - entry.at < config.expiration * 1000;
      if (!fresh) refreshInBackground(input);
      return toResponse(entry, fresh ? "HIT" : "STALE", request.method);
    },
  };
}

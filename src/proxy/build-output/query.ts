// Build Output routes: a request's query string as routing sees it. Entries keep their raw text so that a query
// no route touched reaches the function byte for byte; `?a` and `?a=` stay different (as in Vercel's dev server).

export interface QueryEntry {
  key: string;
  /** null for a bare key (`?a`), "" for `?a=`. */
  value: string | null;
  /** The entry as the client wrote it, reused when serializing an unchanged entry. */
  raw?: string;
}

/** decodeURIComponent that keeps malformed escapes as they are instead of throwing. */
function decode(text: string): string {
  if (!text.includes("%")) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Parses a raw query string (without the leading "?"). `+` is left as is, as Vercel's dev server does. */
export function parseQuery(raw: string): QueryEntry[] {
  const entries: QueryEntry[] = [];
  if (raw === "") return entries;
  for (const part of raw.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    entries.push(
      eq < 0
        ? { key: decode(part), value: null, raw: part }
        : { key: decode(part.slice(0, eq)), value: decode(part.slice(eq + 1)), raw: part },
    );
  }
  return entries;
}

export function formatQuery(entries: QueryEntry[]): string {
  return entries
    .map((entry) => {
      if (entry.raw !== undefined) return entry.raw;
      const key = encodeURIComponent(entry.key);
      return entry.value === null ? key : `${key}=${encodeURIComponent(entry.value)}`;
    })
    .join("&");
}

/**
 * The query after a rewrite to a destination with its own query: the destination's parameters replace the
 * request's of the same name, the others are kept. (Vercel's dev server lets the request win instead; that would
 * let any visitor override what an adapter puts there, e.g. Astro's x_astro_path or SvelteKit's __pathname.)
 */
export function mergeQuery(current: QueryEntry[], dest: QueryEntry[]): QueryEntry[] {
  if (dest.length === 0) return current;
  const replaced = new Set(dest.map((entry) => entry.key));
  return [...current.filter((entry) => !replaced.has(entry.key)), ...dest];
}

/** The first value of `key` (a bare key counts as ""), or undefined. */
export function queryValue(entries: QueryEntry[], key: string): string | undefined {
  const entry = entries.find((e) => e.key === key);
  return entry === undefined ? undefined : (entry.value ?? "");
}

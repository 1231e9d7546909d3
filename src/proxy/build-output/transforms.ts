// Build Output routes: `transforms`, a route's edits to the request's query and headers, the response's headers,
// and the path a function sees. Query edits apply as the route matches (SvelteKit's adapter deletes a visitor's
// `__pathname` before its own routes add the trusted one); header edits are handed to whoever sends the request
// or the response. Keys compare case-insensitively and malformed header edits are skipped, as in Vercel's dev
// server (packages/cli/src/util/dev/transforms.ts).

import type { Transform, TransformKey } from "./config-schema.ts";
import type { QueryEntry } from "./query.ts";
import { type Captures, substitute } from "./substitute.ts";

/** A transform with its placeholders filled (so it no longer depends on the route's match). */
export interface ResolvedTransform {
  type: Transform["type"];
  op: Transform["op"];
  key: TransformKey;
  args?: string[];
}

const HEADER_NAME = /^[-\w]+$/;
const HEADER_VALUE = /^[\x20-\x7e]+$/;

export function resolveTransform(transform: Transform, captures: Captures): ResolvedTransform {
  // Header values take captures percent-encoded; query keys and values are decoded text (encoded when sent).
  const context = transform.type === "request.query" ? "path" : "header";
  const fill = (text: string) => substitute(text, captures, context);
  const rawKey = transform.target?.key ?? "";
  const args = transform.args === undefined ? undefined : [transform.args].flat().map(fill);
  return {
    type: transform.type,
    op: transform.op,
    key: typeof rawKey === "string" ? fill(rawKey) : rawKey,
    ...(args !== undefined && { args }),
  };
}

/** Whether a name (or a value, for `delete` with args) satisfies a key rule; names compare case-insensitively. */
export function keyMatches(candidate: string, rule: TransformKey): boolean {
  const c = candidate.toLowerCase();
  if (typeof rule === "string") return c === rule.toLowerCase();
  const n = c.trim() === "" ? Number.NaN : Number(c);
  const lower = (list: string[]) => list.map((v) => v.toLowerCase());
  return (
    (rule.eq === undefined || c === String(rule.eq).toLowerCase()) &&
    (rule.neq === undefined || c !== rule.neq.toLowerCase()) &&
    (rule.inc === undefined || lower(rule.inc).includes(c)) &&
    (rule.ninc === undefined || !lower(rule.ninc).includes(c)) &&
    (rule.pre === undefined || c.startsWith(rule.pre.toLowerCase())) &&
    (rule.suf === undefined || c.endsWith(rule.suf.toLowerCase())) &&
    (rule.gt === undefined || n > rule.gt) &&
    (rule.gte === undefined || n >= rule.gte) &&
    (rule.lt === undefined || n < rule.lt) &&
    (rule.lte === undefined || n <= rule.lte)
  );
}

/** The query after one `request.query` transform. */
export function transformQuery(entries: QueryEntry[], t: ResolvedTransform): QueryEntry[] {
  const matched = new Set(entries.filter((e) => keyMatches(e.key, t.key)).map((e) => e.key));
  const args = t.args ?? [];
  const added = (key: string) => args.map((value) => ({ key, value }));
  switch (t.op) {
    case "set": {
      if (matched.size === 0)
        return typeof t.key === "string" && args.some((a) => a !== "")
          ? [...entries, ...added(t.key)]
          : entries;
      const out = entries.filter((e) => !matched.has(e.key));
      for (const key of matched) out.push(...added(key));
      return out;
    }
    case "append":
      if (args.length === 0) return entries;
      if (matched.size === 0) return typeof t.key === "string" ? [...entries, ...added(t.key)] : entries;
      return [...entries, ...[...matched].flatMap(added)];
    case "delete":
      return entries.filter(
        (e) =>
          !matched.has(e.key) || (t.args !== undefined && !args.some((a) => keyMatches(e.value ?? "", a))),
      );
  }
}

/** Applies one header transform (request or response side) to `headers`, in place. */
export function transformHeaders(headers: Headers, t: ResolvedTransform): void {
  const names = [...new Set([...headers.keys()])].filter((name) => keyMatches(name, t.key));
  const args = t.args ?? [];
  if (t.op !== "delete") {
    const newName = typeof t.key === "string" ? t.key : null;
    if (newName !== null && !HEADER_NAME.test(newName)) return;
    if (args.length === 0 || !args.every((a) => HEADER_VALUE.test(a))) return;
    const targets = names.length > 0 ? names : newName !== null ? [newName] : [];
    for (const name of targets) {
      if (t.op === "set") headers.set(name, args.join(", "));
      else for (const value of args) headers.append(name, value);
    }
    return;
  }
  for (const name of names) {
    if (t.args === undefined) {
      headers.delete(name);
      continue;
    }
    const kept = (headers.get(name) ?? "")
      .split(",")
      .map((v) => v.trim())
      .filter((v) => v !== "" && !args.some((a) => keyMatches(v, a)));
    if (kept.length === 0) headers.delete(name);
    else headers.set(name, kept.join(", "));
  }
}

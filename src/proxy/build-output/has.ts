// Build Output routes: `has` and `missing` conditions on a request's headers, cookies, query and host. A string
// value (or `re`) is a regular expression that must match the whole value, as in Next.js and @next/routing; its
// named groups become `$name` in `dest` and `headers`. A condition without a value only asks for presence and
// captures the value under its key. The object forms compare: eq, neq, inc, ninc, pre, suf, gt, gte, lt, lte.

import { valuePattern } from "./config-routes.ts";
import type { HasCondition, MatchableValue } from "./config-schema.ts";
import { compilePattern, type Pattern } from "./pattern.ts";
import { type QueryEntry, queryValue } from "./query.ts";

/** What conditions look at, besides the query (which routing may have changed). */
export interface ConditionFacts {
  headers: Headers;
  /** Lowercase, without port. */
  host: string;
  /** Parsed once, on first use. */
  cookies(): Map<string, string>;
}

/** Cookie header -> name/value map (the first of repeated names wins, as in browsers' order of specificity). */
export function parseCookies(header: string | null): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    if (name !== "" && !cookies.has(name)) cookies.set(name, value);
  }
  return cookies;
}

/** A condition with its regular expression (a string value, or `re`) compiled once per deployment. */
export interface CompiledCondition {
  condition: HasCondition;
  pattern: Pattern | null;
}

export function compileCondition(condition: HasCondition): CompiledCondition {
  const source = valuePattern(condition.value);
  if (source === null) return { condition, pattern: null };
  const pattern = compilePattern(source, { ignoreCase: false });
  // parseBuildOutputConfig refuses every value this cannot compile, so a config that got here compiles.
  if (typeof pattern === "string") throw new Error(`has value ${source} was not validated: ${pattern}`);
  return { condition, pattern };
}

const number = (text: string): number | null => {
  if (text.trim() === "") return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
};

/** Whether `actual` satisfies `value` (and `pattern`, its regex); named captures go into `into`. */
function satisfies(
  actual: string,
  value: MatchableValue,
  pattern: Pattern | null,
  into: Record<string, string>,
): boolean {
  if (pattern !== null) {
    const found = pattern.exec(actual);
    if (!found) return false;
    for (const [name, text] of Object.entries(found.named)) if (text !== undefined) into[name] = text;
    if (typeof value === "string") return true;
  }
  if (typeof value === "string") return false;
  const n = number(actual);
  const compare = (bound: number | undefined, ok: (a: number, b: number) => boolean) =>
    bound === undefined || (n !== null && ok(n, bound));
  return (
    (value.eq === undefined || actual === String(value.eq)) &&
    (value.neq === undefined || actual !== value.neq) &&
    (value.inc === undefined || value.inc.includes(actual)) &&
    (value.ninc === undefined || !value.ninc.includes(actual)) &&
    (value.pre === undefined || actual.startsWith(value.pre)) &&
    (value.suf === undefined || actual.endsWith(value.suf)) &&
    compare(value.gt, (a, b) => a > b) &&
    compare(value.gte, (a, b) => a >= b) &&
    compare(value.lt, (a, b) => a < b) &&
    compare(value.lte, (a, b) => a <= b)
  );
}

function actualValue(
  condition: HasCondition,
  facts: ConditionFacts,
  query: QueryEntry[],
): string | undefined {
  switch (condition.type) {
    case "host":
      return facts.host;
    case "header":
      return facts.headers.get(condition.key) ?? undefined;
    case "cookie":
      return facts.cookies().get(condition.key);
    case "query":
      return queryValue(query, condition.key);
  }
}

/** One condition; on success its captures are added to `into`. */
function holds(
  { condition, pattern }: CompiledCondition,
  facts: ConditionFacts,
  query: QueryEntry[],
  into: Record<string, string>,
): boolean {
  const actual = actualValue(condition, facts, query);
  if (actual === undefined) return false;
  const captured: Record<string, string> = {};
  if (condition.value !== undefined && !satisfies(actual, condition.value, pattern, captured)) return false;
  if (condition.type === "host") {
    if (pattern !== null) into.host = actual;
  } else {
    // The value under its key (`$key`), and under its letters only (`x-user` -> `$xuser`, as @next/routing).
    into[condition.key] = actual;
    const letters = condition.key.replace(/[^A-Za-z]/g, "");
    if (letters !== "") into[letters] = actual;
  }
  Object.assign(into, captured);
  return true;
}

/** The captures of `has` when every `has` condition holds and no `missing` one does; null otherwise. */
export function checkConditions(
  has: CompiledCondition[],
  missing: CompiledCondition[],
  facts: ConditionFacts,
  query: QueryEntry[],
): Record<string, string> | null {
  const captures: Record<string, string> = {};
  for (const condition of has) if (!holds(condition, facts, query, captures)) return null;
  for (const condition of missing) if (holds(condition, facts, query, {})) return null;
  return captures;
}

// Build Output API v3, `routes`: each route checked against its schema, normalized once (aliases folded, `src`
// anchored, header names lowercased) and every field minivercel cannot honour refused with its position, so a
// deploy never half-works. The normalization follows Vercel's own (routing-utils `normalizeRoutes`).

import type { TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import {
  type ConfigProblem,
  HandleRouteInput,
  type HasCondition,
  type MatchableValue,
  type Phase,
  SourceRouteInput,
  type Transform,
} from "./config-schema.ts";
import { compilePattern } from "./pattern.ts";

export interface SourceRoute {
  /** Anchored as Vercel does it: `^` prepended and `$` appended when missing (not wrapped in a group). */
  src: string;
  /** A path (absolute after normalization) or an absolute http(s) URL, with `$1`/`$name` placeholders. */
  dest?: string;
  /** Lowercased names. */
  headers: Record<string, string>;
  /** Uppercased; absent means any method. */
  methods?: string[];
  continue: boolean;
  caseSensitive: boolean;
  check: boolean;
  status?: number;
  has: HasCondition[];
  missing: HasCondition[];
  transforms: Transform[];
  /** Headers the function's own response cannot replace. */
  important: boolean;
  /** Forget the status and headers set by earlier routes. */
  override: boolean;
}

export interface HandleRoute {
  handle: Phase;
}

export type Route = SourceRoute | HandleRoute;

export const isHandle = (route: Route): route is HandleRoute => "handle" in route;

/** More routes than this is not a config any adapter writes; refusing bounds the work per request. */
export const MAX_ROUTES = 4096;

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const HEADER_VALUE_FORBIDDEN = /[\u0000-\u0008\u000a-\u001f\u007f]/;
const METHOD = /^[A-Za-z]+$/;
const EXTERNAL = /^https?:\/\//i;

/** `/has/0/value` -> `.has[0].value`, for messages. */
function describe(path: string): string {
  return path
    .split("/")
    .slice(1)
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
    .join("");
}

/** The first schema error, as a message naming where; null when the value fits. */
export function schemaError(schema: TSchema, value: unknown, where: string): string | null {
  const error = Value.Errors(schema, value).First();
  return error ? `${where}${describe(error.path)}: ${error.message}` : null;
}

/** A `has` value's regular expression (a string, or `re`), as matched: the whole value. */
export function valuePattern(value: MatchableValue | undefined): string | null {
  if (typeof value === "string") return `^(?:${value})$`;
  if (value && typeof value === "object" && value.re !== undefined) return `^(?:${value.re})$`;
  return null;
}

function normalizeConditions(conditions: HasCondition[], where: string, errors: string[]): HasCondition[] {
  return conditions.map((condition, i) => {
    const pattern = valuePattern(condition.value);
    if (pattern !== null) {
      const compiled = compilePattern(pattern, { ignoreCase: false });
      if (typeof compiled === "string") errors.push(`${where}[${i}].value: ${compiled}`);
    }
    // Header names compare case-insensitively (routing-utils lowercases them the same way).
    return condition.type === "header" ? { ...condition, key: condition.key.toLowerCase() } : condition;
  });
}

function checkTransforms(transforms: Transform[], where: string, errors: string[]): void {
  transforms.forEach((transform, i) => {
    const at = `${where}.transforms[${i}]`;
    if (transform.env !== undefined)
      errors.push(`${at}.env: environment variables in transforms are not supported`);
    if (transform.type === "request.path") {
      if (transform.op !== "set" || typeof transform.args !== "string" || transform.target !== undefined)
        errors.push(`${at}: a request.path transform must be { op: "set", args: "/path" }`);
    } else if (transform.target === undefined) errors.push(`${at}.target: required for ${transform.type}`);
    else if (transform.op !== "delete" && transform.args === undefined)
      errors.push(`${at}.args: required for op "${transform.op}"`);
  });
}

/** Refusals of a Source route; the normalized route when there are none. */
function sourceRoute(
  input: SourceRouteInput,
  where: string,
  phase: Phase | null,
  errors: string[],
): SourceRoute {
  const refuse = (field: string, why: string) => errors.push(`${where}.${field}: ${why}`);
  if (input.src !== undefined && input.source !== undefined) refuse("source", "both src and source are set");
  if (input.dest !== undefined && input.destination !== undefined)
    refuse("destination", "both dest and destination are set");
  if (input.status !== undefined && input.statusCode !== undefined)
    refuse("statusCode", "both status and statusCode are set");
  if (
    input.middlewarePath !== undefined ||
    input.middlewareRawSrc !== undefined ||
    input.middleware !== undefined
  )
    refuse("middlewarePath", "edge middleware is not supported");
  if (input.locale !== undefined) refuse("locale", "locale redirects are not supported");
  if (input.mitigate !== undefined)
    refuse("mitigate", "firewall mitigations (challenge, deny) are not supported");
  if (input.env !== undefined) refuse("env", "environment variables in dest and headers are not supported");
  if (typeof input.destination === "object") refuse("destination", "service destinations are not supported");

  let src = input.src ?? input.source ?? "";
  if (src === "") refuse("src", "required");
  if (!src.startsWith("^")) src = `^${src}`;
  if (!src.endsWith("$")) src = `${src}$`;
  const compiled = compilePattern(src, { ignoreCase: false });
  if (typeof compiled === "string") refuse("src", compiled);

  const status = input.status ?? input.statusCode;
  if (status !== undefined && (status < 200 || status > 599))
    refuse("status", `${status} is not a final status`);
  let dest = typeof input.destination === "string" ? input.destination : input.dest;
  if (dest !== undefined && EXTERNAL.test(dest)) {
    const redirects = status !== undefined && status >= 300 && status < 400;
    if (!redirects)
      refuse("dest", `external rewrites (proxying to ${dest}) are not supported; redirect instead`);
  } else if (dest !== undefined && !dest.startsWith("/")) dest = `/${dest}`; // as the dev server reads "_render"

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.headers ?? {})) {
    if (!HEADER_NAME.test(name)) refuse("headers", `${JSON.stringify(name)} is not a header name`);
    if (HEADER_VALUE_FORBIDDEN.test(value)) refuse("headers", `the value of ${name} has control characters`);
    headers[name.toLowerCase()] = value;
  }
  for (const method of input.methods ?? [])
    if (!METHOD.test(method)) refuse("methods", `bad method ${method}`);
  if (phase === "hit" && (dest !== undefined || status !== undefined))
    refuse(dest !== undefined ? "dest" : "status", 'not allowed after { "handle": "hit" } (headers only)');

  const transforms = input.transforms ?? [];
  checkTransforms(transforms, where, errors);
  return {
    src,
    ...(dest !== undefined && { dest }),
    headers,
    ...(input.methods && { methods: input.methods.map((m) => m.toUpperCase()) }),
    continue: input.continue ?? false,
    caseSensitive: input.caseSensitive ?? false,
    check: input.check ?? false,
    ...(status !== undefined && { status }),
    has: normalizeConditions(input.has ?? [], `${where}.has`, errors),
    missing: normalizeConditions(input.missing ?? [], `${where}.missing`, errors),
    transforms,
    important: input.important ?? false,
    override: input.override ?? false,
  };
}

/** Normalizes config.json's `routes`; refusals are added to `problems` (the routes are then not to be used). */
export function normalizeRoutes(input: unknown, problems: ConfigProblem[]): Route[] {
  const errors: string[] = [];
  const routes: Route[] = [];
  if (!Array.isArray(input)) errors.push("routes: must be an array");
  else if (input.length > MAX_ROUTES) errors.push(`routes: ${input.length} routes, at most ${MAX_ROUTES}`);
  else {
    const seen = new Set<Phase>();
    let phase: Phase | null = null;
    for (const [i, value] of (input as unknown[]).entries()) {
      const where = `routes[${i}]`;
      const isHandleRoute = typeof value === "object" && value !== null && "handle" in value;
      const wrong = schemaError(isHandleRoute ? HandleRouteInput : SourceRouteInput, value, where);
      if (wrong) {
        errors.push(wrong);
      } else if (isHandleRoute) {
        const handle = (value as { handle: Phase }).handle;
        if (Object.keys(value).length > 1)
          errors.push(`${where}: a handle route with src, dest or status is not supported`);
        if (seen.has(handle)) errors.push(`${where}: a second { "handle": "${handle}" }`);
        seen.add(handle);
        phase = handle;
        routes.push({ handle });
      } else routes.push(sourceRoute(value as SourceRouteInput, where, phase, errors));
    }
  }
  for (const message of errors) problems.push({ message, severity: "error" });
  return routes;
}

// Zero-config functions, the naming: which files under `api/` are functions, the path each answers at, and the
// Build Output API routes for the dynamic ones, as Vercel derives them (packages/fs-detectors, detect-builders.ts).

import { badRequest } from "../src/errors.ts";

/** Module types that become functions (Vercel's `api/**\/*.+(js|mjs|ts|tsx)`). */
const FUNCTION_FILE = /\.(?:js|mjs|ts|tsx)$/;
/** Tests beside the code they test are not endpoints. */
const TEST_FILE = /\.(?:test|spec)\.[^.]+$/;

/**
 * Whether a file under the project root (`api/users/[id].ts`) is a function: a module type above, no segment
 * starting with `_` (helpers) or `.`, no node_modules, no type declarations, no tests.
 */
export function isFunctionFile(file: string): boolean {
  const segments = file.split("/");
  if (segments[0] !== "api" || segments.length < 2) return false;
  if (segments.some((s) => s.startsWith("_") || s.startsWith(".") || s === "node_modules")) return false;
  return FUNCTION_FILE.test(file) && !file.endsWith(".d.ts") && !TEST_FILE.test(file);
}

type Segment = { kind: "static"; text: string } | { kind: "dynamic" | "catchAll" | "optional"; name: string };

/** Specificity at one position: a static segment wins over a dynamic one, which wins over catch-alls. */
const RANK = { static: 0, dynamic: 1, catchAll: 2, optional: 3 } as const;

function parseSegment(text: string): Segment {
  let m = /^\[\[\.\.\.([^[\]/]+)\]\]$/.exec(text);
  if (m?.[1]) return { kind: "optional", name: m[1] };
  m = /^\[\.\.\.([^[\]/]+)\]$/.exec(text);
  if (m?.[1]) return { kind: "catchAll", name: m[1] };
  m = /^\[([^[\]/.]+)\]$/.exec(text);
  if (m?.[1]) return { kind: "dynamic", name: m[1] };
  return { kind: "static", text };
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export interface ApiFunction {
  /** Relative to the project root: "api/users/[id].ts". */
  file: string;
  /** The function's path in the Build Output (functions/<path>.func) and the URL it answers at: "/api/users/[id]". */
  path: string;
  segments: Segment[];
}

/** The functions among `files` (project-relative), refusing paths that would collide or repeat a parameter. */
export function apiFunctions(files: readonly string[]): ApiFunction[] {
  const byShape = new Map<string, string>();
  const out: ApiFunction[] = [];
  for (const file of [...files].filter(isFunctionFile).sort()) {
    const path = `/${file.replace(FUNCTION_FILE, "")}`;
    const segments = path.slice(1).split("/").map(parseSegment);
    const names = new Set<string>();
    segments.forEach((s, i) => {
      if (s.kind === "static") return;
      if (names.has(s.name))
        throw badRequest(`${file}: the parameter "${s.name}" appears twice in the path; each must be unique`);
      names.add(s.name);
      if ((s.kind === "catchAll" || s.kind === "optional") && i !== segments.length - 1)
        throw badRequest(`${file}: a catch-all segment must be the last one`);
    });
    // Two files answering the same URLs ("hello.js" and "hello.ts", or "[id].ts" and "[slug].ts") collide.
    const shape = segments.map((s) => (s.kind === "static" ? s.text : `[${s.kind}]`)).join("/");
    const other = byShape.get(shape);
    if (other !== undefined)
      throw badRequest(`${other} and ${file} answer the same paths; rename one of them`);
    byShape.set(shape, file);
    out.push({ file, path, segments });
  }
  return out;
}

/** The routes this file writes (a subset of config.json's: https://vercel.com/docs/build-output-api/configuration#routes). */
export type Route =
  | { handle: "filesystem" | "miss" | "error" }
  | { src: string; dest: string; check?: true; status?: number };

/** Orders dynamic functions: at the first position where they differ, the more specific segment first. */
function bySpecificity(a: ApiFunction, b: ApiFunction): number {
  const length = Math.min(a.segments.length, b.segments.length);
  for (let i = 0; i < length; i++) {
    const ra = RANK[a.segments[i]?.kind ?? "static"];
    const rb = RANK[b.segments[i]?.kind ?? "static"];
    if (ra !== rb) return ra - rb;
  }
  if (a.segments.length !== b.segments.length) return b.segments.length - a.segments.length;
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/** The route of one function with dynamic segments, or of an `index` function (answering its directory too). */
function routeOf(fn: ApiFunction): Route | null {
  const query: string[] = [];
  let source = "";
  let dynamic = false;
  fn.segments.forEach((s, i) => {
    const last = i === fn.segments.length - 1;
    if (s.kind === "static") {
      source += last && s.text === "index" ? "(?:/index)?" : `/${escapeRegExp(s.text)}`;
      return;
    }
    dynamic = true;
    query.push(`${s.name}=$${query.length + 1}`);
    if (s.kind === "dynamic") source += "/([^/]+)";
    else if (s.kind === "catchAll") source += "/(.+)";
    else source += "(?:/(.*))?";
  });
  const isIndex = fn.segments.at(-1)?.kind === "static" && fn.path.endsWith("/index");
  if (!dynamic && !isIndex) return null;
  return {
    src: `^${source}$`,
    dest: `${fn.path}${query.length > 0 ? `?${query.join("&")}` : ""}`,
    check: true,
  };
}

/**
 * config.json's routes for zero-config functions: the filesystem (static files, then functions by their exact
 * path) first, then the dynamic functions from the most specific down; a request for the module's own name
 * (`/api/hello.ts`) reaches the function once nothing else matched; 404.html, when the site has one, for misses.
 */
export function apiRoutes(functions: readonly ApiFunction[], has404: boolean): Route[] {
  const rewrites = [...functions].sort(bySpecificity).flatMap((fn) => routeOf(fn) ?? []);
  const errors: Route[] = [{ handle: "error" }, { status: 404, src: "^(?!/api).*$", dest: "/404.html" }];
  return [
    { handle: "filesystem" },
    ...rewrites,
    { handle: "miss" },
    { src: "^/api/(.+)(?:\\.(?:js|mjs|ts|tsx))$", dest: "/api/$1", check: true },
    ...(has404 ? errors : []),
  ];
}

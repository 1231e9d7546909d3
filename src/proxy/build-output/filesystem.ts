// Build Output routes: the "filesystem" a route checks, i.e. what a deployment can answer a path with: its static
// files (moved or retyped by `overrides`) and its functions. The lookup: the exact path; for a static file also
// the path without its trailing slash (SvelteKit rewrites "/about" to "/about/" and moves about.html to "about");
// then the directory's index (`/` -> `/index.html`, or the function `/index`, as SvelteKit names the root
// page's). Functions are not found through a trailing slash: adapters write `/?` in their routes for that
// (SvelteKit's `^/isr/?$` adds the ISR function's `__pathname`, which a direct match would skip).

import type { Override } from "./config.ts";

/** What a deployment is made of, from its manifest. */
export interface DeploymentView {
  /** Manifest paths of the static files ("/about.html"). */
  files: Iterable<string>;
  /** Paths of the functions ("/api/hello" for `functions/api/hello.func`). */
  functions: Iterable<string>;
  /** Functions with a `.prerender-config.json` (their answers may be cached: ISR). */
  prerendered: Iterable<string>;
}

export type Found =
  /** `file` is the manifest path to serve; `contentType` replaces the manifest's when an override sets one. */
  | { kind: "static"; file: string; contentType?: string }
  | { kind: "function"; name: string; prerendered: boolean };

export interface Filesystem {
  lookup(path: string): Found | null;
}

export function createFilesystem(view: DeploymentView, overrides: Record<string, Override> = {}): Filesystem {
  const statics = new Map<string, Found>();
  // An override moves its file: the file answers at the override's path only. Moved files are placed last,
  // so one that lands on another file's path wins, as the override asks.
  const moved: [string, Found][] = [];
  for (const file of view.files) {
    const override = overrides[file];
    const found: Found = {
      kind: "static",
      file,
      ...(override?.contentType && { contentType: override.contentType }),
    };
    if (override?.path !== undefined) moved.push([override.path, found]);
    else statics.set(file, found);
  }
  for (const [path, found] of moved) statics.set(path, found);
  const prerendered = new Set(view.prerendered);
  const functions = new Map<string, Found>();
  for (const name of view.functions)
    functions.set(name, { kind: "function", name, prerendered: prerendered.has(name) });

  const exact = (path: string): Found | null => statics.get(path) ?? functions.get(path) ?? null;
  return {
    lookup(path) {
      const found = exact(path);
      if (found) return found;
      const trimmed = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
      if (trimmed !== path) {
        const withoutSlash = statics.get(trimmed);
        if (withoutSlash) return withoutSlash;
      }
      const dir = trimmed === "/" ? "/" : `${trimmed}/`;
      return statics.get(`${dir}index.html`) ?? functions.get(`${dir}index`) ?? null;
    },
  };
}

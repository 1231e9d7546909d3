// Build Output routes: whether one Source route applies to the request as routing has shaped it so far. `src`
// matches the current (decoded) path, case-insensitively unless `caseSensitive`. Vercel's dev server tries a
// pattern that fails on "/about" once more on "about" (for legacy routes written without the slash); that is
// kept only for patterns that start with such a literal (`^about$`), since retrying `^(?!/api).*$` on "api/x"
// would let a route match the very paths it excludes. Then `methods`, then `has` and `missing`.

import type { SourceRoute } from "./config-routes.ts";
import { type CompiledCondition, type ConditionFacts, checkConditions, compileCondition } from "./has.ts";
import { compilePattern, type Pattern } from "./pattern.ts";
import type { QueryEntry } from "./query.ts";
import type { Captures } from "./substitute.ts";

/** A route with its pattern compiled once per deployment. */
export interface CompiledRoute {
  route: SourceRoute;
  pattern: Pattern;
  /** Also try the path without its leading slash (see above). */
  retryWithoutSlash: boolean;
  has: CompiledCondition[];
  missing: CompiledCondition[];
}

export function compileRoute(route: SourceRoute): CompiledRoute {
  const pattern = compilePattern(route.src, { ignoreCase: !route.caseSensitive });
  // parseBuildOutputConfig refuses every pattern this cannot compile, so a config that got here compiles.
  if (typeof pattern === "string")
    throw new Error(`route pattern ${route.src} was not validated: ${pattern}`);
  return {
    route,
    pattern,
    retryWithoutSlash: /^\^[\w.~%-]/.test(route.src),
    has: route.has.map(compileCondition),
    missing: route.missing.map(compileCondition),
  };
}

/** The route's captures when it applies, else null. */
export function matchRoute(
  compiled: CompiledRoute,
  method: string,
  path: string,
  query: QueryEntry[],
  facts: ConditionFacts,
): Captures | null {
  const { route, pattern } = compiled;
  if (route.methods && !route.methods.includes(method.toUpperCase())) return null;
  const found = pattern.exec(path) ?? (compiled.retryWithoutSlash ? pattern.exec(path.slice(1)) : null);
  if (!found) return null;
  const conditions = compiled.has.length + compiled.missing.length;
  const has = conditions > 0 ? checkConditions(compiled.has, compiled.missing, facts, query) : {};
  if (has === null) return null;
  return { groups: found.groups, named: found.named, has };
}

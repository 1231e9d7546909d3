// Routing misses: a path the API knows, asked with another method, is 405 with Allow (RFC 9110, 15.5.6), not 404.

/** A route as Elysia lists it (`app.routes`): its method and its path pattern (`:param`, a trailing `*`). */
export interface RouteEntry {
  method: string;
  path: string;
}

/** Does `pattern` (split on "/") match the request path's segments? `:name` takes one segment, `*` the rest. */
function matches(pattern: readonly string[], segments: readonly string[]): boolean {
  for (const [i, part] of pattern.entries()) {
    if (part === "*") return true;
    const segment = segments[i];
    if (segment === undefined || (part.startsWith(":") ? segment === "" : segment !== part)) return false;
  }
  return pattern.length === segments.length;
}

/**
 * The methods the routes answer for a request path, in a stable order; [] for a path no route has. HEAD comes
 * with GET, as Elysia answers it for every GET route.
 */
export function allowedMethods(routes: readonly RouteEntry[]): (pathname: string) => string[] {
  const patterns = routes.map((route) => ({
    method: route.method.toUpperCase(),
    parts: route.path.split("/"),
  }));
  return (pathname) => {
    // Elysia matches a path with or without its trailing slash (strictPath is off).
    const segments = (pathname.length > 1 ? pathname.replace(/\/$/, "") : pathname).split("/");
    const methods = new Set<string>();
    for (const { method, parts } of patterns) {
      if (!matches(parts, segments)) continue;
      methods.add(method);
      if (method === "GET") methods.add("HEAD");
    }
    return [...methods].sort();
  };
}

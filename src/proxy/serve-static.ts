// A static deployment's answer to a request: the file at the path, a _redirects rule, its 404 page or the SPA
// fallback (resolve.ts decides), or the proxy's own page. The file itself is sent by the caller (`send`), which
// notes what answered for the access log and analytics.

import { page } from "./pages.ts";
import { splitUrl } from "./request-target.ts";
import { type Answer, answer, type Site } from "./resolve.ts";
import type { Served } from "./respond.ts";
import type { Route } from "./route-table.ts";

const EXTENSION = /\.[^/]*$/;

/** The SPA fallback only answers what looks like a page: no file extension, or a browser asking for HTML. */
function wantsPage(path: string, request: Request): boolean {
  const name = path.slice(path.lastIndexOf("/") + 1);
  return !EXTENSION.test(name) || (request.headers.get("accept") ?? "").includes("text/html");
}

function redirect(found: Extract<Answer, { kind: "redirect" }>, search: string): Response {
  const location = found.keepQuery && search.length > 1 ? found.location + search : found.location;
  return new Response(null, {
    status: found.status,
    headers: { location, "cache-control": "public, max-age=0, must-revalidate" },
  });
}

/** Static sites answer GET and HEAD only: their request bodies are never read. */
export function serveStatic<Hit>(
  site: Site,
  route: Extract<Route, { kind: "site" }>,
  request: Request,
  path: string,
  hit: Hit,
  send: (
    served: Served,
    route: Extract<Route, { kind: "site" }>,
    request: Request,
    hit: Hit,
  ) => Response | Promise<Response>,
): Response | Promise<Response> {
  if (request.method !== "GET" && request.method !== "HEAD") return page("method", request.method);
  const found = answer(site, path);
  switch (found.kind) {
    case "file":
      return send(found.served, route, request, hit);
    case "redirect":
      return redirect(found, splitUrl(request.url).search);
    case "missing": {
      if (found.notFound) return send(found.notFound, route, request, hit);
      if (found.spa && route.project.spaFallback && wantsPage(path, request))
        return send(found.spa, route, request, hit);
      return page("not-found", request.method);
    }
  }
}

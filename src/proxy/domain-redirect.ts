// Proxy: a custom domain set to redirect (apex -> www) answers every request with the same path and query on
// its target domain, by the status its owner chose (308 by default). Nothing of the site is read for it.

import { splitUrl } from "./request-target.ts";
import type { Route } from "./route-table.ts";

export function domainRedirect(
  route: Extract<Route, { kind: "redirect" }>,
  request: Request,
  proto: "http" | "https",
): Response {
  // The port the visitor used is kept (a proxy on :8001 without TLS redirects to the target on :8001).
  const port = /:(\d{1,5})$/.exec(request.headers.get("host") ?? "")?.[1];
  const { rawPath, search } = splitUrl(request.url);
  const path = rawPath.startsWith("/") ? rawPath : `/${rawPath}`;
  return new Response(null, {
    status: route.status,
    headers: {
      location: `${proto}://${route.to}${port ? `:${port}` : ""}${path}${search}`,
      "cache-control": "public, max-age=0, must-revalidate",
    },
  });
}

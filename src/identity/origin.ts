// Where a state-changing browser request comes from. Cookies ride along on requests from every page of the same
// site, and user sites are same-site with the dashboard unless SITES_DOMAIN separates them: a form on a user's
// site could post to the dashboard with the victim's cookies (or the attacker's own, planted, for a login CSRF).
// Fetch Metadata (Sec-Fetch-Site) and, from browsers without it, Origin tell such requests apart.

/** The host:port the browser addressed: the proxy forwarding the dashboard host says which in X-Forwarded-Host. */
function addressedHost(request: Request): string {
  return (
    request.headers.get("x-forwarded-host") ??
    request.headers.get("host") ??
    new URL(request.url).host
  ).toLowerCase();
}

/** Why a cookie-authenticated write is refused as coming from another page than this origin's own; or null. */
export function foreignOrigin(request: Request): string | null {
  const site = request.headers.get("sec-fetch-site");
  if (site !== null) {
    // "none": typed, bookmarked or a browser feature; "same-origin": one of the dashboard's own pages.
    return site === "same-origin" || site === "none" ? null : `the request came from a ${site} page`;
  }
  const origin = request.headers.get("origin");
  // Neither header: not a browser's cross-origin request (CLI, scripts); the CSRF token still applies.
  if (origin === null) return null;
  let host: string;
  try {
    host = new URL(origin).host.toLowerCase();
  } catch {
    return "the request came from an opaque origin";
  }
  return host === addressedHost(request) ? null : `the request came from ${origin}`;
}

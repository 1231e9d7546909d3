// Static assets: htmx, our stylesheet and script, embedded in the binary and served with a long cache.

import { Elysia } from "elysia";
import htmx from "htmx.org/dist/htmx.min.js" with { type: "text" };
import type { AssetUrls, Chrome } from "../../views/layout.tsx";
import appCss from "../../views/static/app.css" with { type: "text" };
import appJs from "../../views/static/app.js" with { type: "text" };
import { securityHeaders } from "./respond.ts";

interface Asset {
  body: string;
  type: string;
  /** Content hash in the URL: a changed file gets a new URL, so it can be cached forever. */
  version: string;
}

const version = (body: string) => new Bun.CryptoHasher("sha256").update(body).digest("hex").slice(0, 12);

const ASSETS: Record<string, Asset> = {
  "app.css": { body: appCss, type: "text/css; charset=utf-8", version: version(appCss) },
  "app.js": { body: appJs, type: "text/javascript; charset=utf-8", version: version(appJs) },
  "htmx.min.js": { body: htmx, type: "text/javascript; charset=utf-8", version: version(htmx) },
};

const urlOf = (name: string): string => `/assets/${name}?v=${ASSETS[name]?.version ?? ""}`;

export const assetUrls: AssetUrls = {
  css: urlOf("app.css"),
  js: urlOf("app.js"),
  htmx: urlOf("htmx.min.js"),
};

export function assetRoutes() {
  return new Elysia().get("/assets/:name", ({ params, request }) => {
    const asset = Object.hasOwn(ASSETS, params.name) ? ASSETS[params.name] : undefined;
    if (!asset) return new Response("not found", { status: 404, headers: securityHeaders() });
    const etag = `"${asset.version}"`;
    const headers = securityHeaders({
      "content-type": asset.type,
      "cache-control": "public, max-age=31536000, immutable",
      etag,
    });
    if (request.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers });
    return new Response(asset.body, { headers });
  });
}

/** What every page's layout needs: the signed-in user (or null), the CSRF token for its forms, asset URLs. */
export const chromeFor = (user: { email: string } | null, csrf: string): Chrome => ({
  user,
  csrf,
  assets: assetUrls,
});

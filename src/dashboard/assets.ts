// Static assets: htmx, our stylesheet, scripts and icons, embedded in the binary and served with a long cache.

import { Elysia } from "elysia";
import htmx from "htmx.org/dist/htmx.min.js" with { type: "text" };
import type { AssetUrls, Chrome } from "../../views/layout.tsx";
import appCss from "../../views/static/app.css" with { type: "text" };
import appJs from "../../views/static/app.js" with { type: "text" };
import dropJs from "../../views/static/drop.js" with { type: "text" };
import dropFilesJs from "../../views/static/drop-files.js" with { type: "text" };
import iconSvg from "../../views/static/icon.svg" with { type: "text" };
import sha256Js from "../../views/static/sha256.js" with { type: "text" };
import startCss from "../../views/static/start.css" with { type: "text" };
import zipJs from "../../views/static/zip.js" with { type: "text" };
import { iconIco, iconPng } from "./icons.ts";
import { securityHeaders } from "./respond.ts";

interface Asset {
  body: string | Uint8Array<ArrayBuffer>;
  type: string;
  /** Content hash in the URL: a changed file gets a new URL, so it can be cached forever. */
  version: string;
}

const asset = (body: string | Uint8Array<ArrayBuffer>, type: string): Asset => ({
  body,
  type,
  version: new Bun.CryptoHasher("sha256").update(body).digest("hex").slice(0, 12),
});

const TEXT_JS = "text/javascript; charset=utf-8";

const ASSETS: Record<string, Asset> = {
  // One stylesheet, written as one file per part of the dashboard.
  "app.css": asset(`${appCss}\n${startCss}`, "text/css; charset=utf-8"),
  "app.js": asset(appJs, TEXT_JS),
  "zip.js": asset(zipJs, TEXT_JS),
  "sha256.js": asset(sha256Js, TEXT_JS),
  "drop-files.js": asset(dropFilesJs, TEXT_JS),
  "drop.js": asset(dropJs, TEXT_JS),
  "htmx.min.js": asset(htmx, TEXT_JS),
  "icon.svg": asset(iconSvg, "image/svg+xml"),
  "favicon.ico": asset(iconIco([16, 32, 48]), "image/x-icon"),
  "apple-touch-icon.png": asset(iconPng(180), "image/png"),
};

const urlOf = (name: string): string => `/assets/${name}?v=${ASSETS[name]?.version ?? ""}`;

export const assetUrls: AssetUrls = {
  css: urlOf("app.css"),
  js: urlOf("app.js"),
  htmx: urlOf("htmx.min.js"),
  // In the order they must run: each uses the ones before it.
  dropJs: [urlOf("zip.js"), urlOf("sha256.js"), urlOf("drop-files.js"), urlOf("drop.js")],
  icon: urlOf("icon.svg"),
  ico: urlOf("favicon.ico"),
  appleTouchIcon: urlOf("apple-touch-icon.png"),
};

const IMMUTABLE = "public, max-age=31536000, immutable";
/** Browsers and tools ask for these at fixed, unversioned paths: cache them for a day only. */
const WELL_KNOWN: Record<string, string> = {
  "/favicon.ico": "favicon.ico",
  "/apple-touch-icon.png": "apple-touch-icon.png",
};

function serve(request: Request, name: string, cacheControl: string): Response {
  const found = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
  if (!found) return new Response("not found", { status: 404, headers: securityHeaders() });
  const etag = `"${found.version}"`;
  const headers = securityHeaders({ "content-type": found.type, "cache-control": cacheControl, etag });
  if (request.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers });
  return new Response(found.body, { headers });
}

export function assetRoutes() {
  const app = new Elysia().get("/assets/:name", ({ params, request }) =>
    serve(request, params.name, IMMUTABLE),
  );
  for (const [path, name] of Object.entries(WELL_KNOWN)) {
    app.get(path, ({ request }) => serve(request, name, "public, max-age=86400"));
  }
  return app;
}

/** What every page's layout needs: the signed-in user (or null), the CSRF token for its forms, asset URLs. */
export const chromeFor = (user: { email: string } | null, csrf: string): Chrome => ({
  user,
  csrf,
  assets: assetUrls,
});

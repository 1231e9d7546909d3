// Request body limits per API route: the server accepts up to a file upload's size, so every other route
// refuses a large declared body here, before anything reads it (413, the API's error shape).

import { Elysia } from "elysia";

const MB = 1024 * 1024;
/** The server-wide cap (Bun.serve maxRequestBodySize): one uploaded file plus headroom. */
export const MAX_UPLOAD_BODY = 101 * MB;
/** Hash lists and manifests of up to 20,000 files. */
const BULK_JSON_BODY = 32 * MB;
const JSON_BODY = 1 * MB;

const UPLOADS = [/^\/api\/files\/[^/]+$/, /^\/api\/builds\/[^/]+\/blobs\/[^/]+$/];
const BULK = [
  /^\/api\/files\/missing$/,
  /^\/api\/projects\/[^/]+\/deployments$/,
  /^\/api\/builds\/[^/]+\/(missing|manifest)$/,
];

export function bodyLimitOf(method: string, pathname: string): number {
  if (method === "PUT" && UPLOADS.some((r) => r.test(pathname))) return MAX_UPLOAD_BODY;
  if (BULK.some((r) => r.test(pathname))) return BULK_JSON_BODY;
  return JSON_BODY;
}

export function bodyLimits() {
  return new Elysia().onRequest(({ request }) => {
    const declared = Number(request.headers.get("content-length") ?? "0");
    const limit = bodyLimitOf(request.method, new URL(request.url).pathname);
    if (!(declared > limit)) return;
    const message = `request body is too large (at most ${Math.round(limit / MB)} MB here)`;
    return Response.json({ error: { code: "payload_too_large", message } }, { status: 413 });
  });
}

// Request body limits per API route: the server accepts up to a file upload's size, so every other route
// refuses a large declared body here, before anything reads it (413, the API's error shape).

import { Elysia } from "elysia";
import { AppError } from "../errors.ts";

const MB = 1024 * 1024;
/** The server-wide cap (Bun.serve maxRequestBodySize, enforced on chunked bodies too): a builder's file plus headroom. */
export const MAX_UPLOAD_BODY = 101 * MB;
/** A builder's output file (POST /api/builds/:id/blobs/:hash): the builders' own 100 MB limit. */
const BUILD_BLOB_BODY = 100 * MB;
/** Hash lists and manifests of up to 20,000 files. */
const BULK_JSON_BODY = 32 * MB;
const JSON_BODY = 1 * MB;

const USER_UPLOAD = /^\/api\/files\/[^/]+$/;
const BUILD_BLOB = /^\/api\/builds\/[^/]+\/blobs\/[^/]+$/;
const BULK = [
  /^\/api\/files\/missing$/,
  /^\/api\/projects\/[^/]+\/deployments$/,
  /^\/api\/builds\/[^/]+\/(missing|manifest)$/,
];

/** The largest body a route takes; `maxUploadBytes` is MAX_UPLOAD_MB, the cap on one user-uploaded file. */
export function bodyLimitOf(method: string, pathname: string, maxUploadBytes: number): number {
  if (method === "PUT" && USER_UPLOAD.test(pathname)) return maxUploadBytes;
  if (method === "PUT" && BUILD_BLOB.test(pathname)) return BUILD_BLOB_BODY;
  if (BULK.some((r) => r.test(pathname))) return BULK_JSON_BODY;
  return JSON_BODY;
}

/** Only the raw file routes read their body themselves (`readCapped`), so only they may stream it. */
export const streamsBody = (method: string, pathname: string) =>
  method === "PUT" && (USER_UPLOAD.test(pathname) || BUILD_BLOB.test(pathname));

const tooLarge = (limit: number) =>
  new AppError("payload_too_large", `request body is too large (at most ${formatMb(limit)} MB here)`);

const formatMb = (bytes: number) => String(Math.round((bytes / MB) * 10) / 10);

export function bodyLimits(maxUploadBytes: number) {
  return new Elysia().onRequest(({ request }) => {
    const { pathname } = new URL(request.url);
    const limit = bodyLimitOf(request.method, pathname, maxUploadBytes);
    const length = request.headers.get("content-length");
    if (Number(length ?? "0") > limit) throw tooLarge(limit);
    // A chunked body declares no length: its size is only known once read, and Elysia's parsers read it whole
    // (up to the server's cap). Routes that parse JSON therefore ask for the length up front.
    if (
      length === null &&
      request.headers.has("transfer-encoding") &&
      !streamsBody(request.method, pathname)
    ) {
      return Response.json(
        {
          error: {
            code: "bad_request",
            message: "send the body with a Content-Length header (chunked bodies are refused here)",
          },
        },
        { status: 411 },
      );
    }
  });
}

/** Reads a body that may be chunked, refusing it (413) as soon as it passes `limit` bytes: never buffers more. */
export async function readCapped(request: Request, limit: number): Promise<Uint8Array> {
  if (Number(request.headers.get("content-length") ?? "0") > limit) throw tooLarge(limit);
  if (!request.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

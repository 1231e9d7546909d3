// Limits: dashboard request bodies. Forms are small; a larger or length-less body is refused before it is read.

import { Elysia } from "elysia";
import { AppError } from "../errors.ts";

/** Every dashboard form fits easily (the API checks its own routes, src/api/body-limit.ts). */
export const MAX_DASHBOARD_BODY = 1024 * 1024;

export function dashboardBodyLimit() {
  return new Elysia().onRequest(({ request }) => {
    const length = request.headers.get("content-length");
    if (Number(length ?? "0") > MAX_DASHBOARD_BODY) {
      throw new AppError("payload_too_large", "The submitted form is too large (at most 1 MB).");
    }
    // Browsers always send forms with a length; a chunked body would be read whole before any check.
    if (length === null && request.headers.has("transfer-encoding")) {
      throw new AppError("bad_request", "The form must be sent with a Content-Length header.");
    }
  });
}

// Route guard: every request past it has a user; cookie sessions must also prove CSRF on writes.

import { Elysia } from "elysia";
import { AppError, unauthorized } from "../errors.ts";
import { type Authenticator, CSRF_HEADER } from "../identity/authenticate.ts";
import { foreignOrigin } from "../identity/origin.ts";

/** Methods a cookie session may use without proving CSRF: they change nothing. */
export const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function requireUser(auth: Authenticator) {
  // derive, not resolve: it runs before body validation, so an anonymous caller learns nothing but 401.
  return new Elysia().derive({ as: "scoped" }, async ({ request }) => {
    const principal = await auth.identify(request);
    if (!principal) throw unauthorized("authentication required: send 'Authorization: Bearer <token>'");
    if (principal.via === "session" && !SAFE_METHODS.has(request.method)) {
      // Cookies ride along on cross-site requests; a header they can't set is the proof of intent.
      if (request.headers.get(CSRF_HEADER) !== principal.session.csrfToken) {
        throw new AppError("forbidden", "missing or invalid CSRF token");
      }
      const foreign = foreignOrigin(request);
      if (foreign)
        throw new AppError(
          "forbidden",
          `cookie-authenticated writes must come from the dashboard: ${foreign}`,
        );
    }
    return { user: principal.user };
  });
}

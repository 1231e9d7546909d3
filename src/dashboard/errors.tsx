// Errors that belong to no form -> the sign-in redirect or a message page; never a stack trace.
/** @jsxImportSource preact */

import { ValidationError } from "elysia";
import type { Chrome } from "../../views/layout.tsx";
import { ErrorPage } from "../../views/pages/error.tsx";
import { AppError } from "../errors.ts";
import { requestIdOf } from "../observe/http.ts";
import type { Logger } from "../observe/log.ts";
import type { Store } from "../store/store.ts";
import { chromeFor } from "./assets.ts";
import { html, isHtmx, redirect } from "./respond.ts";
import { clearSessionCookie, currentSession, sessionCookieValue } from "./session.ts";

const TITLES: Record<number, string> = {
  400: "Bad request",
  403: "Forbidden",
  404: "Not found",
  409: "Conflict",
  413: "Too large",
  422: "Invalid request",
  429: "Too many requests",
  500: "Something went wrong",
};

/** Only same-site paths: `next` must never send the user to another origin. */
export function safeNext(value: string | null | undefined): string {
  // Browsers drop tabs and newlines and read a backslash as "/", so "/<tab>/evil" is "//evil": plain URL characters only.
  return value && /^\/(?!\/)[\w\-.~!$&'()*+,;=:@%/?#]*$/.test(value) ? value : "/";
}

function page(request: Request, status: number, message: string, chrome: Chrome): Response {
  const title = TITLES[status] ?? TITLES[status >= 500 ? 500 : 400] ?? "Error";
  // htmx would swap the page into whatever element asked; put it in place of <main> instead.
  const headers: Record<string, string> = isHtmx(request)
    ? { "hx-retarget": "#main", "hx-reselect": "#main", "hx-reswap": "outerHTML" }
    : {};
  return html(<ErrorPage chrome={chrome} status={status} title={title} message={message} />, status, headers);
}

/**
 * Maps anything a dashboard route throws to a response; `code` is Elysia's error code. A message page keeps the
 * signed-in navigation (the session is looked up again: an error may come before any route read it).
 */
export async function dashboardError(
  error: unknown,
  code: unknown,
  request: Request,
  log: Logger,
  store: Store,
): Promise<Response> {
  const response = (status: number, message: string) =>
    signedIn(store, request).then((chrome) => page(request, status, message, chrome));
  if (error instanceof AppError) {
    if (error.status === 401) {
      const { pathname, search } = new URL(request.url);
      const next =
        request.method === "GET" && pathname !== "/" ? `?next=${encodeURIComponent(pathname + search)}` : "";
      // An expired or revoked session cookie is cleared on the way.
      const clear = sessionCookieValue(request) ? { "set-cookie": clearSessionCookie(request) } : undefined;
      return redirect(request, `/login${next}`, clear);
    }
    if (error.status < 500) return response(error.status, error.message);
  }
  if (error instanceof ValidationError) return response(422, "The submitted form was not valid.");
  if (code === "NOT_FOUND") return response(404, "There is no page at this address.");
  if (code === "PARSE") return response(400, "The request body could not be read.");
  const status =
    typeof error === "object" && error !== null && "status" in error && typeof error.status === "number"
      ? error.status
      : 500;
  if (status >= 400 && status < 500) return response(status, "The request could not be handled.");
  log.error("dashboard: unhandled error", {
    requestId: requestIdOf(request),
    method: request.method,
    path: new URL(request.url).pathname,
    error,
  });
  return response(500, "An unexpected error occurred. It has been logged; please try again.");
}

/** The chrome of the signed-in user, or of nobody (no session, or the store cannot say). */
async function signedIn(store: Store, request: Request): Promise<Chrome> {
  const current = await currentSession(store, request).catch(() => null);
  return chromeFor(current?.user ?? null, current?.session.csrfToken ?? "");
}

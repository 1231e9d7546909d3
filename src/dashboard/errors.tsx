// Errors that belong to no form -> the sign-in redirect or a message page; never a stack trace.
/** @jsxImportSource preact */

import { ValidationError } from "elysia";
import { ErrorPage } from "../../views/pages/error.tsx";
import { AppError } from "../errors.ts";
import { requestIdOf } from "../observe/http.ts";
import type { Logger } from "../observe/log.ts";
import { assetUrls } from "./assets.ts";
import { html, isHtmx, redirect } from "./respond.ts";
import { clearSessionCookie, sessionCookieValue } from "./session.ts";

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

function page(request: Request, status: number, message: string): Response {
  const chrome = { user: null, csrf: "", assets: assetUrls };
  const title = TITLES[status] ?? TITLES[status >= 500 ? 500 : 400] ?? "Error";
  // htmx would swap the page into whatever element asked; put it in place of <main> instead.
  const headers: Record<string, string> = isHtmx(request)
    ? { "hx-retarget": "#main", "hx-reselect": "#main", "hx-reswap": "outerHTML" }
    : {};
  return html(<ErrorPage chrome={chrome} status={status} title={title} message={message} />, status, headers);
}

/** Maps anything a dashboard route throws to a response; `code` is Elysia's error code. */
export function dashboardError(error: unknown, code: unknown, request: Request, log: Logger): Response {
  if (error instanceof AppError) {
    if (error.status === 401) {
      const { pathname, search } = new URL(request.url);
      const next =
        request.method === "GET" && pathname !== "/" ? `?next=${encodeURIComponent(pathname + search)}` : "";
      // An expired or revoked session cookie is cleared on the way.
      const clear = sessionCookieValue(request) ? { "set-cookie": clearSessionCookie(request) } : undefined;
      return redirect(request, `/login${next}`, clear);
    }
    if (error.status < 500) return page(request, error.status, error.message);
  }
  if (error instanceof ValidationError) return page(request, 422, "The submitted form was not valid.");
  if (code === "NOT_FOUND") return page(request, 404, "There is no page at this address.");
  if (code === "PARSE") return page(request, 400, "The request body could not be read.");
  const status =
    typeof error === "object" && error !== null && "status" in error && typeof error.status === "number"
      ? error.status
      : 500;
  if (status >= 400 && status < 500) return page(request, status, "The request could not be handled.");
  log.error("dashboard: unhandled error", {
    requestId: requestIdOf(request),
    method: request.method,
    path: new URL(request.url).pathname,
    error,
  });
  return page(request, 500, "An unexpected error occurred. It has been logged; please try again.");
}

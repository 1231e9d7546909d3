// Dashboard sessions and CSRF: the mv_session cookie, a per-session CSRF token, and a pre-session one for sign-in forms.

import { timingSafeEqual } from "node:crypto";
import { Elysia } from "elysia";
import { AppError, unauthorized } from "../errors.ts";
import { hashSecret } from "../identity/accounts.ts";
import { CSRF_HEADER, readCookie, SESSION_COOKIE } from "../identity/authenticate.ts";
import type { Session, Store, User } from "../store/store.ts";

/** Double-submit cookie protecting the forms shown before there is a session (sign in, setup). */
export const PRE_SESSION_COOKIE = "mv_csrf";
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Behind a TLS-terminating proxy the request URL is http: trust its X-Forwarded-Proto for the Secure flag. */
function isHttps(request: Request): boolean {
  return new URL(request.url).protocol === "https:" || request.headers.get("x-forwarded-proto") === "https";
}

function cookie(request: Request, name: string, value: string, attributes: string[]): string {
  return [
    `${name}=${value}`,
    "Path=/",
    "HttpOnly",
    ...attributes,
    ...(isHttps(request) ? ["Secure"] : []),
  ].join("; ");
}

export const sessionCookie = (request: Request, value: string, ttlSeconds: number): string =>
  cookie(request, SESSION_COOKIE, value, ["SameSite=Lax", `Max-Age=${ttlSeconds}`]);

export const clearSessionCookie = (request: Request): string =>
  cookie(request, SESSION_COOKIE, "", ["SameSite=Lax", "Max-Age=0"]);

export interface CurrentSession {
  user: User;
  session: Session;
  /** Hash of the cookie value: the session's key in the store (for sign out). */
  hash: string;
}

export async function currentSession(store: Store, request: Request): Promise<CurrentSession | null> {
  const value = readCookie(request, SESSION_COOKIE);
  if (!value) return null;
  const hash = hashSecret(value);
  const found = await store.sessions.get(hash, new Date().toISOString());
  return found ? { ...found, hash } : null;
}

function tokensEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The token a request presents: htmx sends it as a header, plain forms as the `_csrf` field. */
function presentedToken(request: Request, body: unknown): string | null {
  const header = request.headers.get(CSRF_HEADER);
  if (header) return header;
  if (typeof body === "object" && body !== null && "_csrf" in body && typeof body._csrf === "string") {
    return body._csrf;
  }
  return null;
}

export function assertCsrf(expected: string | null, request: Request, body: unknown): void {
  const presented = presentedToken(request, body);
  if (!expected || !presented || !tokensEqual(expected, presented)) {
    throw new AppError(
      "forbidden",
      "This form has expired or did not come from this site. Reload the page and try again.",
    );
  }
}

/** Routes after this need a signed-in user; their state-changing requests need the session's CSRF token. */
export function requireSession(store: Store) {
  // derive runs before body validation: an anonymous or forged request is refused before anything else.
  return new Elysia().derive({ as: "scoped" }, async ({ request, body }) => {
    const current = await currentSession(store, request);
    if (!current) throw unauthorized("sign in to continue");
    if (!SAFE_METHODS.has(request.method)) assertCsrf(current.session.csrfToken, request, body);
    return { user: current.user, csrf: current.session.csrfToken, sessionHash: current.hash };
  });
}

/** The pre-session CSRF token: the one in the cookie, or a new one with the cookie that sets it. */
export function preSessionToken(request: Request): { token: string; setCookie: string | null } {
  const existing = readCookie(request, PRE_SESSION_COOKIE);
  if (existing && /^[A-Za-z0-9_-]{32,64}$/.test(existing)) return { token: existing, setCookie: null };
  const token = Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64url");
  return { token, setCookie: cookie(request, PRE_SESSION_COOKIE, token, ["SameSite=Strict"]) };
}

export function assertPreSessionCsrf(request: Request, body: unknown): void {
  assertCsrf(readCookie(request, PRE_SESSION_COOKIE), request, body);
}

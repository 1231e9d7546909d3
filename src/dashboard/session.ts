// Dashboard sessions and CSRF: the session cookie, a per-session CSRF token, and a pre-session one for sign-in
// forms. Cookies are `__Host-` prefixed over https (cookieName), and every write must come from the dashboard's own
// pages (foreignOrigin): together they keep sites on sibling subdomains out of the dashboard's session state.

import { timingSafeEqual } from "node:crypto";
import { Elysia } from "elysia";
import type { Sealer } from "../deploy/env.ts";
import { AppError, unauthorized } from "../errors.ts";
import { hashSecret } from "../identity/accounts.ts";
import { CSRF_HEADER, cookieName, isHttps, readCookie, SESSION_COOKIE } from "../identity/authenticate.ts";
import { foreignOrigin } from "../identity/origin.ts";
import type { Session, User } from "../model/entities.ts";
import type { Store } from "../store/store.ts";

/** Double-submit cookie protecting the forms shown before there is a session (sign in, setup). */
export const PRE_SESSION_COOKIE = "mv_csrf";
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
/** How long a sign-in or setup form stays usable. */
const PRE_SESSION_TTL_MS = 12 * 3600 * 1000;

function cookie(request: Request, name: string, value: string, attributes: string[]): string {
  return [
    `${cookieName(name, request)}=${value}`,
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

/** The request's session cookie (by its scheme's name, see cookieName), when there is exactly one. */
export const sessionCookieValue = (request: Request): string | null =>
  readCookie(request, cookieName(SESSION_COOKIE, request));

export interface CurrentSession {
  user: User;
  session: Session;
  /** Hash of the cookie value: the session's key in the store (for sign out). */
  hash: string;
}

export async function currentSession(store: Store, request: Request): Promise<CurrentSession | null> {
  const value = sessionCookieValue(request);
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

const refused = () =>
  new AppError(
    "forbidden",
    "This form has expired or did not come from this site. Reload the page and try again.",
  );

export function assertCsrf(expected: string | null, request: Request, body: unknown): void {
  const presented = presentedToken(request, body);
  if (!expected || !presented || !tokensEqual(expected, presented) || foreignOrigin(request)) throw refused();
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

/**
 * Pre-session CSRF tokens are made by the server: a random nonce and an expiry, sealed with the platform key
 * (AES-GCM authenticates them), so a value planted in the cookie by anyone else is refused, and old ones expire.
 */
async function makePreSessionToken(sealer: Sealer): Promise<string> {
  const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString("base64url");
  const sealed = await sealer.seal(`csrf:${nonce}:${Date.now() + PRE_SESSION_TTL_MS}`);
  return Buffer.from(sealed).toString("base64url");
}

async function isPreSessionToken(sealer: Sealer, token: string): Promise<boolean> {
  if (!/^[A-Za-z0-9_-]{40,400}$/.test(token)) return false;
  try {
    const [kind, nonce, expires] = (await sealer.open(Buffer.from(token, "base64url").toString())).split(":");
    return kind === "csrf" && nonce !== undefined && Number(expires) > Date.now();
  } catch {
    return false;
  }
}

/** The pre-session CSRF token: the (valid) one in the cookie, or a new one with the cookie that sets it. */
export async function preSessionToken(
  sealer: Sealer,
  request: Request,
): Promise<{ token: string; setCookie: string | null }> {
  const existing = readCookie(request, cookieName(PRE_SESSION_COOKIE, request));
  if (existing && (await isPreSessionToken(sealer, existing))) return { token: existing, setCookie: null };
  const token = await makePreSessionToken(sealer);
  return { token, setCookie: cookie(request, PRE_SESSION_COOKIE, token, ["SameSite=Strict"]) };
}

export async function assertPreSessionCsrf(sealer: Sealer, request: Request, body: unknown): Promise<void> {
  const cookieToken = readCookie(request, cookieName(PRE_SESSION_COOKIE, request));
  if (cookieToken === null || !(await isPreSessionToken(sealer, cookieToken))) throw refused();
  assertCsrf(cookieToken, request, body);
}

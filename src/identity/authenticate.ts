// Request authentication: API token, external JWT or session cookie -> the acting user.

import { AppError, unauthorized } from "../errors.ts";
import type { Session, TokenScope, User } from "../model/entities.ts";
import type { Store } from "../store/store.ts";
import { hashSecret, TOKEN_PREFIX } from "./accounts.ts";
import { type JwtVerifier, looksLikeJwt } from "./jwt.ts";
import { scopeRefusal } from "./token-scope.ts";

export const SESSION_COOKIE = "mv_session";
export const CSRF_HEADER = "x-csrf-token";

/** Behind a TLS-terminating proxy the request URL is http: its X-Forwarded-Proto says what the browser used. */
export function isHttps(request: Request): boolean {
  return new URL(request.url).protocol === "https:" || request.headers.get("x-forwarded-proto") === "https";
}

/**
 * A dashboard cookie's name. Over https it carries the `__Host-` prefix: browsers accept such a cookie only
 * from this very host (Secure, Path=/, no Domain), so a site on a sibling subdomain cannot plant one ("cookie
 * tossing"); plain http has no such protection, hence SITES_DOMAIN (docs/security.md).
 */
export const cookieName = (base: string, request: Request): string =>
  isHttps(request) ? `__Host-${base}` : base;

export type Principal =
  | { via: "token"; user: User; scope: TokenScope }
  | { via: "jwt"; user: User }
  | { via: "session"; user: User; session: Session };

export interface Authenticator {
  /** The principal behind a request, or null when it carries no credentials at all. Bad credentials throw 401. */
  identify(request: Request): Promise<Principal | null>;
}

/**
 * A cookie's value; null when absent, or when the request carries it more than once: ours are set once per
 * host, so a second one was planted for a parent domain, and neither can be trusted to be the one we set.
 */
export function readCookie(request: Request, name: string): string | null {
  const header = request.headers.get("cookie");
  if (!header) return null;
  let found: string | null = null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq <= 0 || part.slice(0, eq).trim() !== name) continue;
    if (found !== null) return null;
    found = part.slice(eq + 1).trim();
  }
  return found;
}

export function createAuthenticator(store: Store, jwt: JwtVerifier | null): Authenticator {
  return {
    async identify(request) {
      const authorization = request.headers.get("authorization");
      if (authorization !== null) {
        const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
        const credential = match?.[1];
        if (!credential) throw unauthorized("Authorization header must be 'Bearer <token>'");
        if (credential.startsWith(TOKEN_PREFIX)) {
          const found = await store.tokens.use(hashSecret(credential), new Date().toISOString());
          if (!found) throw unauthorized("invalid or revoked API token");
          const refused = scopeRefusal(found.token.scope, request.method, new URL(request.url).pathname);
          if (refused) throw new AppError("forbidden", refused);
          return { via: "token", user: found.user, scope: found.token.scope };
        }
        if (jwt && looksLikeJwt(credential)) {
          const identity = await jwt.verify(credential);
          return { via: "jwt", user: await store.users.upsertExternal(identity) };
        }
        throw unauthorized("invalid bearer token");
      }
      const cookie = readCookie(request, cookieName(SESSION_COOKIE, request));
      if (cookie) {
        const found = await store.sessions.get(hashSecret(cookie), new Date().toISOString());
        if (!found) throw unauthorized("session expired; sign in again");
        return { via: "session", user: found.user, session: found.session };
      }
      return null;
    },
  };
}

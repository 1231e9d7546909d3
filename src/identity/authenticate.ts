// Request authentication: API token, external JWT or session cookie -> the acting user.

import { unauthorized } from "../errors.ts";
import type { Session, Store, User } from "../store/store.ts";
import { hashSecret, TOKEN_PREFIX } from "./accounts.ts";
import { type JwtVerifier, looksLikeJwt } from "./jwt.ts";

export const SESSION_COOKIE = "mv_session";
export const CSRF_HEADER = "x-csrf-token";

export type Principal =
  | { via: "token"; user: User }
  | { via: "jwt"; user: User }
  | { via: "session"; user: User; session: Session };

export interface Authenticator {
  /** The principal behind a request, or null when it carries no credentials at all. Bad credentials throw 401. */
  identify(request: Request): Promise<Principal | null>;
}

export function readCookie(request: Request, name: string): string | null {
  const header = request.headers.get("cookie");
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
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
          return { via: "token", user: found.user };
        }
        if (jwt && looksLikeJwt(credential)) {
          const identity = await jwt.verify(credential);
          return { via: "jwt", user: await store.users.upsertExternal(identity) };
        }
        throw unauthorized("invalid bearer token");
      }
      const cookie = readCookie(request, SESSION_COOKIE);
      if (cookie) {
        const found = await store.sessions.get(hashSecret(cookie), new Date().toISOString());
        if (!found) throw unauthorized("session expired; sign in again");
        return { via: "session", user: found.user, session: found.session };
      }
      return null;
    },
  };
}

// Built-in accounts: password users, API tokens (shown once, stored hashed) and dashboard sessions.

import { invalid, unauthorized } from "../errors.ts";
import { type ApiToken, type Session, TOKEN_SCOPES, type TokenScope, type User } from "../model/entities.ts";
import type { Store } from "../store/store.ts";

export const TOKEN_PREFIX = "mv_";
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}\.[^\s@]{1,63}$/;

/** sha256 hex: tokens and session ids are random 256-bit values, so a fast hash is enough. */
export function hashSecret(secret: string): string {
  return new Bun.CryptoHasher("sha256").update(secret).digest("hex");
}

export function randomSecret(bytes = 32): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("base64url");
}

export function normalizeEmail(email: string): string {
  const value = email.trim().toLowerCase();
  if (!EMAIL.test(value) || value.length > 320) throw invalid("email is not a valid address", "email");
  return value;
}

export function assertPassword(password: string): string {
  if (password.length < 8) throw invalid("password must be at least 8 characters", "password");
  if (password.length > 1024) throw invalid("password must be at most 1024 characters", "password");
  return password;
}

export async function createUser(store: Store, email: string, password: string): Promise<User> {
  const passwordHash = await Bun.password.hash(assertPassword(password));
  return store.users.create({ email: normalizeEmail(email), passwordHash });
}

// Verifying against a fixed hash when the user is unknown keeps both paths equally slow.
let dummyHash: Promise<string> | null = null;

export async function verifyLogin(store: Store, email: string, password: string): Promise<User> {
  const user = await store.users.byEmail(email.trim().toLowerCase());
  dummyHash ??= Bun.password.hash("not-a-real-password");
  const ok = await Bun.password.verify(password.slice(0, 1024), user?.passwordHash ?? (await dummyHash));
  if (!user?.passwordHash || !ok) throw unauthorized("wrong email or password");
  return user;
}

export function assertTokenName(name: string): string {
  const value = name.trim();
  if (value.length === 0 || value.length > 100)
    throw invalid("token name must be 1 to 100 characters", "name");
  return value;
}

/** Creates an API token; the plaintext is returned only here and never stored. */
/** How long a token may be made to live, in days (null: it never expires). */
export const TOKEN_MAX_DAYS = 3650;

export async function createApiToken(
  store: Store,
  userId: string,
  name: string,
  expiresInDays: number | null = null,
  scope: string = "full",
): Promise<{ token: string; record: ApiToken }> {
  if (!(TOKEN_SCOPES as readonly string[]).includes(scope))
    throw invalid(`a token's scope must be one of ${TOKEN_SCOPES.join(", ")}`, "scope");
  if (
    expiresInDays !== null &&
    (!Number.isInteger(expiresInDays) || expiresInDays < 1 || expiresInDays > TOKEN_MAX_DAYS)
  )
    throw invalid(
      `a token's expiry must be a whole number of days from 1 to ${TOKEN_MAX_DAYS}`,
      "expiresInDays",
    );
  const token = `${TOKEN_PREFIX}${randomSecret()}`;
  const record = await store.tokens.create({
    userId,
    name: assertTokenName(name),
    prefix: token.slice(0, 10),
    hash: hashSecret(token),
    expiresAt:
      expiresInDays === null ? null : new Date(Date.now() + expiresInDays * 86_400_000).toISOString(),
    scope: scope as TokenScope,
  });
  return { token, record };
}

/** Creates a dashboard session; returns the cookie value (plaintext id) and the session. */
export async function createSession(
  store: Store,
  userId: string,
  ttlSeconds: number,
): Promise<{ cookie: string; session: Session }> {
  const cookie = randomSecret();
  const session = await store.sessions.create({
    hash: hashSecret(cookie),
    userId,
    csrfToken: randomSecret(24),
    expiresAt: new Date(Date.now() + ttlSeconds * 1000).toISOString(),
  });
  return { cookie, session };
}

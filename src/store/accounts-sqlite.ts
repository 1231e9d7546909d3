// Store: users, API tokens and sessions (src/store/store.ts) on bun:sqlite.

import type { Database } from "bun:sqlite";
import { sqliteQueries, uniqueViolation } from "./query-sqlite.ts";
import { newId, nowIso, toSession, toToken, toUser } from "./rows.ts";
import type { Sessions, Store, Tokens, Users } from "./store.ts";

export function sqliteAccounts(db: Database): Pick<Store, "users" | "tokens" | "sessions"> {
  const { one, all, run } = sqliteQueries(db);

  const users: Users = {
    async create({ email, passwordHash }) {
      const id = newId();
      try {
        run(
          "INSERT INTO users (id, email, password_hash, created_at) VALUES (?, ?, ?, ?)",
          id,
          email,
          passwordHash,
          nowIso(),
        );
      } catch (e) {
        uniqueViolation(e);
      }
      return toUser(one("SELECT * FROM users WHERE id = ?", id) ?? {});
    },
    async byEmail(email) {
      const row = one("SELECT * FROM users WHERE email = ?", email);
      return row ? toUser(row) : null;
    },
    async byId(id) {
      const row = one("SELECT * FROM users WHERE id = ?", id);
      return row ? toUser(row) : null;
    },
    async upsertExternal({ issuer, subject, email }) {
      return db.transaction(() => {
        const found = one(
          "SELECT * FROM users WHERE external_issuer = ? AND external_subject = ?",
          issuer,
          subject,
        );
        if (found) return toUser(found);
        // An external user without a usable email gets a unique placeholder so emails stay unique.
        const address =
          email && !one("SELECT 1 FROM users WHERE email = ?", email)
            ? email
            : `${subject}@${new URL(issuer).host}`;
        const id = newId();
        run(
          "INSERT INTO users (id, email, external_issuer, external_subject, created_at) VALUES (?, ?, ?, ?, ?)",
          id,
          address,
          issuer,
          subject,
          nowIso(),
        );
        return toUser(one("SELECT * FROM users WHERE id = ?", id) ?? {});
      })();
    },
    async setPassword(userId, passwordHash) {
      return (
        run(
          "UPDATE users SET password_hash = ? WHERE id = ? AND password_hash IS NOT NULL",
          passwordHash,
          userId,
        ).changes > 0
      );
    },
    async count() {
      return Number(one("SELECT count(*) AS n FROM users")?.n ?? 0);
    },
  };

  const tokens: Tokens = {
    async create({ userId, name, prefix, hash, expiresAt, scope }) {
      const id = newId();
      run(
        `INSERT INTO api_tokens (id, user_id, name, prefix, token_hash, created_at, expires_at, scope)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        id,
        userId,
        name,
        prefix,
        hash,
        nowIso(),
        expiresAt ?? null,
        scope ?? "full",
      );
      return toToken(one("SELECT * FROM api_tokens WHERE id = ?", id) ?? {});
    },
    async use(hash, at) {
      const row = one(
        "SELECT * FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)",
        hash,
        at,
      );
      if (!row) return null;
      run("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", at, String(row.id));
      const user = one("SELECT * FROM users WHERE id = ?", String(row.user_id));
      return user ? { token: toToken({ ...row, last_used_at: at }), user: toUser(user) } : null;
    },
    async list(userId) {
      return all("SELECT * FROM api_tokens WHERE user_id = ? ORDER BY created_at DESC, id DESC", userId).map(
        toToken,
      );
    },
    async revoke(userId, tokenId) {
      const result = run(
        "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL",
        nowIso(),
        tokenId,
        userId,
      );
      return result.changes > 0;
    },
  };

  const sessions: Sessions = {
    async create({ hash, userId, csrfToken, expiresAt }) {
      run(
        "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        hash,
        userId,
        csrfToken,
        nowIso(),
        expiresAt,
      );
      return toSession(one("SELECT * FROM sessions WHERE id_hash = ?", hash) ?? {});
    },
    async get(hash, now) {
      const row = one("SELECT * FROM sessions WHERE id_hash = ? AND expires_at > ?", hash, now);
      if (!row) return null;
      const user = one("SELECT * FROM users WHERE id = ?", String(row.user_id));
      return user ? { session: toSession(row), user: toUser(user) } : null;
    },
    async delete(hash) {
      run("DELETE FROM sessions WHERE id_hash = ?", hash);
    },
    async list(userId, now) {
      return all(
        "SELECT * FROM sessions WHERE user_id = ? AND expires_at > ? ORDER BY created_at DESC, id_hash",
        userId,
        now,
      ).map((row) => ({ hash: String(row.id_hash), session: toSession(row) }));
    },
    async deleteOwn(userId, hash) {
      return run("DELETE FROM sessions WHERE id_hash = ? AND user_id = ?", hash, userId).changes > 0;
    },
    async deleteOthers(userId, keepHash) {
      return run("DELETE FROM sessions WHERE user_id = ? AND id_hash <> ?", userId, keepHash).changes;
    },
  };

  return { users, tokens, sessions };
}

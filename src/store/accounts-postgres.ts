// Store: users, API tokens and sessions (src/store/store.ts) on PostgreSQL.

import type postgres from "postgres";
import { emailTaken, first, uniqueViolation, violatedUnique } from "./query-postgres.ts";
import { newId, nowIso, type Row, toSession, toToken, toUser } from "./rows.ts";
import type { Sessions, Store, Tokens, Users } from "./store.ts";

export function postgresAccounts(sql: postgres.Sql): Pick<Store, "users" | "tokens" | "sessions"> {
  const userById = (id: string) => first(sql<Row[]>`SELECT * FROM users WHERE id = ${id}`);

  const users: Users = {
    async create({ email, passwordHash }) {
      try {
        const [row] = await sql<Row[]>`
          INSERT INTO users (id, email, password_hash, created_at)
          VALUES (${newId()}, ${email}, ${passwordHash}, ${nowIso()}) RETURNING *`;
        return toUser(row ?? {});
      } catch (e) {
        uniqueViolation(e);
      }
    },
    async byEmail(email) {
      const row = await first(sql<Row[]>`SELECT * FROM users WHERE email = ${email}`);
      return row ? toUser(row) : null;
    },
    async byId(id) {
      const row = await userById(id);
      return row ? toUser(row) : null;
    },
    async upsertExternal({ issuer, subject, email }) {
      const find = () =>
        first(
          sql<Row[]>`SELECT * FROM users WHERE external_issuer = ${issuer} AND external_subject = ${subject}`,
        );
      // An external user without a usable email gets a unique placeholder so emails stay unique.
      const addresses = [...(email ? [email] : []), `${subject}@${new URL(issuer).host}`];
      for (const address of addresses) {
        const found = await find();
        if (found) return toUser(found);
        try {
          // A concurrent login of the same identity inserts nothing here and finds the winner's row below.
          await sql`
            INSERT INTO users (id, email, external_issuer, external_subject, created_at)
            VALUES (${newId()}, ${address}, ${issuer}, ${subject}, ${nowIso()})
            ON CONFLICT (external_issuer, external_subject) DO NOTHING`;
        } catch (e) {
          // The email belongs to someone else (or to the racing winner): re-check, then try the next address.
          if (violatedUnique(e) !== "users_email_key") throw e;
        }
      }
      const row = await find();
      if (row) return toUser(row);
      throw emailTaken();
    },
    async setPassword(userId, passwordHash) {
      const result = await sql`
        UPDATE users SET password_hash = ${passwordHash} WHERE id = ${userId} AND password_hash IS NOT NULL`;
      return result.count > 0;
    },
    async count() {
      const row = await first(sql<Row[]>`SELECT count(*) AS n FROM users`);
      return Number(row?.n ?? 0);
    },
  };

  const tokens: Tokens = {
    async create({ userId, name, prefix, hash, expiresAt, scope }) {
      const [row] = await sql<Row[]>`
        INSERT INTO api_tokens (id, user_id, name, prefix, token_hash, created_at, expires_at, scope)
        VALUES (${newId()}, ${userId}, ${name}, ${prefix}, ${hash}, ${nowIso()}, ${expiresAt ?? null},
          ${scope ?? "full"}) RETURNING *`;
      return toToken(row ?? {});
    },
    async use(hash, at) {
      const row = await first(sql<Row[]>`
        UPDATE api_tokens SET last_used_at = ${at}
        WHERE token_hash = ${hash} AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ${at}) RETURNING *`);
      if (!row) return null;
      const user = await userById(String(row.user_id));
      return user ? { token: toToken(row), user: toUser(user) } : null;
    },
    async list(userId) {
      const rows = await sql<Row[]>`
        SELECT * FROM api_tokens WHERE user_id = ${userId} ORDER BY created_at DESC, id DESC`;
      return rows.map(toToken);
    },
    async revoke(userId, tokenId) {
      const result = await sql`
        UPDATE api_tokens SET revoked_at = ${nowIso()}
        WHERE id = ${tokenId} AND user_id = ${userId} AND revoked_at IS NULL`;
      return result.count > 0;
    },
  };

  const sessions: Sessions = {
    async create({ hash, userId, csrfToken, expiresAt }) {
      const [row] = await sql<Row[]>`
        INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at)
        VALUES (${hash}, ${userId}, ${csrfToken}, ${nowIso()}, ${expiresAt}) RETURNING *`;
      return toSession(row ?? {});
    },
    async get(hash, now) {
      const row = await first(
        sql<Row[]>`SELECT * FROM sessions WHERE id_hash = ${hash} AND expires_at > ${now}`,
      );
      if (!row) return null;
      const user = await userById(String(row.user_id));
      return user ? { session: toSession(row), user: toUser(user) } : null;
    },
    async delete(hash) {
      await sql`DELETE FROM sessions WHERE id_hash = ${hash}`;
    },
    async list(userId, now) {
      const rows = await sql<Row[]>`
        SELECT * FROM sessions WHERE user_id = ${userId} AND expires_at > ${now}
        ORDER BY created_at DESC, id_hash`;
      return rows.map((row) => ({ hash: String(row.id_hash), session: toSession(row) }));
    },
    async deleteOwn(userId, hash) {
      const result = await sql`DELETE FROM sessions WHERE id_hash = ${hash} AND user_id = ${userId}`;
      return result.count > 0;
    },
    async deleteOthers(userId, keepHash) {
      const result = await sql`DELETE FROM sessions WHERE user_id = ${userId} AND id_hash <> ${keepHash}`;
      return result.count;
    },
  };

  return { users, tokens, sessions };
}

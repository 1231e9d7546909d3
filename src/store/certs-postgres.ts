// Store: the automatic-HTTPS repository (src/store/certs.ts) on Postgres.

import type postgres from "postgres";
import type { CertificateSummary, Certificates } from "./certs.ts";
import { first } from "./query-postgres.ts";
import { nowIso, type Row } from "./rows.ts";

const text = (row: Row, key: string): string => {
  const value = row[key];
  return value instanceof Date ? value.toISOString() : String(value);
};

const toSummary = (row: Row): CertificateSummary => ({
  name: text(row, "name"),
  notAfter: text(row, "not_after"),
  updatedAt: text(row, "updated_at"),
});

export function postgresCertificates(sql: postgres.Sql): Certificates {
  return {
    async get(name) {
      const row = await first(sql<Row[]>`SELECT * FROM tls_certificates WHERE name = ${name}`);
      if (!row) return null;
      return { ...toSummary(row), certPem: text(row, "cert_pem"), keySealed: text(row, "key_sealed") };
    },
    async list() {
      const rows = await sql<Row[]>`SELECT name, not_after, updated_at FROM tls_certificates ORDER BY name`;
      return rows.map(toSummary);
    },
    async put(cert) {
      await sql`
        INSERT INTO tls_certificates (name, cert_pem, key_sealed, not_after, updated_at)
        VALUES (${cert.name}, ${cert.certPem}, ${cert.keySealed}, ${new Date(cert.notAfter).toISOString()}, ${nowIso()})
        ON CONFLICT (name) DO UPDATE SET cert_pem = excluded.cert_pem, key_sealed = excluded.key_sealed,
          not_after = excluded.not_after, updated_at = excluded.updated_at`;
    },
    async removeExpired(name, now) {
      const result = await sql`DELETE FROM tls_certificates WHERE name = ${name} AND not_after <= ${now}`;
      return result.count > 0;
    },
    async lease(name, holder, until, now) {
      // The WHERE of ON CONFLICT runs under the row lock: of two racing processes exactly one updates.
      const result = await sql`
        INSERT INTO tls_leases (name, holder, expires_at) VALUES (${name}, ${holder}, ${until})
        ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
        WHERE tls_leases.expires_at <= ${now} OR tls_leases.holder = excluded.holder`;
      return result.count > 0;
    },
    async release(name, holder, until) {
      if (until === undefined) await sql`DELETE FROM tls_leases WHERE name = ${name} AND holder = ${holder}`;
      else await sql`UPDATE tls_leases SET expires_at = ${until} WHERE name = ${name} AND holder = ${holder}`;
    },
    async challenge(token, now) {
      const row = await first(
        sql<
          Row[]
        >`SELECT key_authorization FROM acme_challenges WHERE token = ${token} AND expires_at > ${now}`,
      );
      return row ? text(row, "key_authorization") : null;
    },
    async putChallenge(token, keyAuthorization, expiresAt) {
      // Expired answers of abandoned orders go with the next one.
      await sql`DELETE FROM acme_challenges WHERE expires_at <= ${nowIso()}`;
      await sql`
        INSERT INTO acme_challenges (token, key_authorization, expires_at) VALUES (${token}, ${keyAuthorization}, ${expiresAt})
        ON CONFLICT (token) DO UPDATE SET key_authorization = excluded.key_authorization, expires_at = excluded.expires_at`;
    },
    async removeChallenge(token) {
      await sql`DELETE FROM acme_challenges WHERE token = ${token}`;
    },
    async accountKey(directoryUrl) {
      const row = await first(
        sql<Row[]>`SELECT key_sealed FROM acme_accounts WHERE directory_url = ${directoryUrl}`,
      );
      return row ? text(row, "key_sealed") : null;
    },
    async initAccountKey(directoryUrl, sealed) {
      await sql`
        INSERT INTO acme_accounts (directory_url, key_sealed, created_at) VALUES (${directoryUrl}, ${sealed}, ${nowIso()})
        ON CONFLICT DO NOTHING`;
      const row = await first(
        sql<Row[]>`SELECT key_sealed FROM acme_accounts WHERE directory_url = ${directoryUrl}`,
      );
      if (!row) throw new Error("store: ACME account key vanished");
      return text(row, "key_sealed");
    },
  };
}

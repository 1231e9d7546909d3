// Store: the automatic-HTTPS repository (src/store/certs.ts) on bun:sqlite.

import type { Database } from "bun:sqlite";
import type { CertificateSummary, Certificates, StoredCertificate } from "./certs.ts";
import { sqliteQueries } from "./query-sqlite.ts";
import { nowIso, type Row } from "./rows.ts";

const text = (row: Row, key: string): string => String(row[key]);

const toSummary = (row: Row): CertificateSummary => ({
  name: text(row, "name"),
  notAfter: text(row, "not_after"),
  updatedAt: text(row, "updated_at"),
});

export function sqliteCertificates(db: Database): Certificates {
  const { one, run } = sqliteQueries(db);

  return {
    async get(name) {
      const row = one("SELECT * FROM tls_certificates WHERE name = ?", name);
      if (!row) return null;
      const cert: StoredCertificate = {
        ...toSummary(row),
        certPem: text(row, "cert_pem"),
        keySealed: text(row, "key_sealed"),
      };
      return cert;
    },
    async list() {
      return db
        .query<Row, []>("SELECT name, not_after, updated_at FROM tls_certificates ORDER BY name")
        .all()
        .map(toSummary);
    },
    async put(cert) {
      run(
        `INSERT INTO tls_certificates (name, cert_pem, key_sealed, not_after, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET cert_pem = excluded.cert_pem, key_sealed = excluded.key_sealed,
           not_after = excluded.not_after, updated_at = excluded.updated_at`,
        cert.name,
        cert.certPem,
        cert.keySealed,
        new Date(cert.notAfter).toISOString(),
        nowIso(),
      );
    },
    async removeExpired(name, now) {
      return run("DELETE FROM tls_certificates WHERE name = ? AND not_after <= ?", name, now).changes > 0;
    },
    async lease(name, holder, until, now) {
      const result = run(
        `INSERT INTO tls_leases (name, holder, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
         WHERE tls_leases.expires_at <= ? OR tls_leases.holder = excluded.holder`,
        name,
        holder,
        until,
        now,
      );
      return result.changes > 0;
    },
    async release(name, holder, until) {
      if (until === undefined) run("DELETE FROM tls_leases WHERE name = ? AND holder = ?", name, holder);
      else run("UPDATE tls_leases SET expires_at = ? WHERE name = ? AND holder = ?", until, name, holder);
    },
    async challenge(token, now) {
      const row = one(
        "SELECT key_authorization FROM acme_challenges WHERE token = ? AND expires_at > ?",
        token,
        now,
      );
      return row ? text(row, "key_authorization") : null;
    },
    async putChallenge(token, keyAuthorization, expiresAt) {
      // Expired answers of abandoned orders go with the next one.
      run("DELETE FROM acme_challenges WHERE expires_at <= ?", nowIso());
      run(
        `INSERT INTO acme_challenges (token, key_authorization, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (token) DO UPDATE SET key_authorization = excluded.key_authorization, expires_at = excluded.expires_at`,
        token,
        keyAuthorization,
        expiresAt,
      );
    },
    async removeChallenge(token) {
      run("DELETE FROM acme_challenges WHERE token = ?", token);
    },
    async accountKey(directoryUrl) {
      const row = one("SELECT key_sealed FROM acme_accounts WHERE directory_url = ?", directoryUrl);
      return row ? text(row, "key_sealed") : null;
    },
    async initAccountKey(directoryUrl, sealed) {
      run(
        "INSERT INTO acme_accounts (directory_url, key_sealed, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        directoryUrl,
        sealed,
        nowIso(),
      );
      const row = one("SELECT key_sealed FROM acme_accounts WHERE directory_url = ?", directoryUrl);
      if (!row) throw new Error("store: ACME account key vanished");
      return text(row, "key_sealed");
    },
  };
}

-- v9: automatic HTTPS (src/tls/). Certificates with sealed keys, ACME account keys per CA directory, pending
-- HTTP-01 answers (any proxy process may receive the CA's request) and per-name issuance leases.
CREATE TABLE tls_certificates (
  name TEXT PRIMARY KEY,
  cert_pem TEXT NOT NULL,
  key_sealed TEXT NOT NULL,
  not_after TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE tls_leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_at TEXT NOT NULL
);

CREATE TABLE acme_challenges (
  token TEXT PRIMARY KEY,
  key_authorization TEXT NOT NULL,
  expires_at TEXT NOT NULL
);

CREATE TABLE acme_accounts (
  directory_url TEXT PRIMARY KEY,
  key_sealed TEXT NOT NULL,
  created_at TEXT NOT NULL
);

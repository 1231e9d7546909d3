-- v19: deployment protection. A project's deployment URLs may require access: `previews` protects immutable
-- deployment and branch hosts, `all` production too. Existing projects keep serving as before ('none'); new ones
-- get DEPLOYMENT_PROTECTION_DEFAULT (src/deploy/projects.ts). The password is hashed like account passwords.
ALTER TABLE projects ADD COLUMN protection TEXT NOT NULL DEFAULT 'none'
  CHECK (protection IN ('none', 'previews', 'all'));
ALTER TABLE projects ADD COLUMN protection_password_hash TEXT;
-- Bypass tokens for automation (x-vercel-protection-bypass): only their sha256 is kept; revoking deletes the row.
CREATE TABLE protection_bypass_tokens (
  id VARCHAR(36) PRIMARY KEY,
  project_id VARCHAR(36) NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  prefix TEXT NOT NULL,
  hash CHAR(64) NOT NULL UNIQUE,
  created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX protection_bypass_tokens_project ON protection_bypass_tokens (project_id, created_at);
-- Sign-in hand-offs already exchanged (their one-time nonce), kept until they expire: a token works once, on any
-- proxy.
CREATE TABLE protection_handoffs (
  nonce VARCHAR(64) PRIMARY KEY,
  expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX protection_handoffs_expiry ON protection_handoffs (expires_at);

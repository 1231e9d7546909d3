-- v17: content-addressed uploads are scoped. The bytes of a blob are stored once, whoever uploads them; a scope
-- (today an account) may learn of a blob, or name it in a deployment, only after it uploaded those bytes itself
-- (or its own build produced them): one row per scope and blob it proved to hold.
CREATE TABLE blob_claims (
  scope_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  hash CHAR(64) NOT NULL,
  claimed_at TEXT NOT NULL,
  PRIMARY KEY (scope_id, hash)
);
-- The garbage collector forgets a deleted blob's claims by hash.
CREATE INDEX blob_claims_hash ON blob_claims (hash);

-- v12: webhook replays. The sha256 of every verified body that acted, per project: a captured delivery resent
-- under a new delivery id (the signature covers the body, not the id) is then a duplicate too.
CREATE TABLE webhook_payloads (
  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  body_sha256 TEXT NOT NULL,
  received_at TEXT NOT NULL,
  PRIMARY KEY (project_id, body_sha256)
);

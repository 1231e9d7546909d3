-- v21: outgoing webhooks. A project's hooks get its deployment events (created, ready, failed, promoted,
-- rolled_back); each event to each hook is one delivery in the outbox, sent by a worker holding its lease, retried
-- with backoff; every attempt is logged. The signing secret is sealed like env vars.
CREATE TABLE outgoing_hooks (
  id VARCHAR(36) PRIMARY KEY,
  project_id VARCHAR(36) NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  url TEXT NOT NULL,
  -- Comma-separated event names, e.g. 'deployment.ready,deployment.failed'.
  events TEXT NOT NULL,
  format TEXT NOT NULL CHECK (format IN ('standard', 'slack', 'discord')),
  secret_sealed TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX outgoing_hooks_project ON outgoing_hooks (project_id, created_at);
CREATE TABLE outgoing_deliveries (
  id VARCHAR(36) PRIMARY KEY,
  hook_id VARCHAR(36) NOT NULL REFERENCES outgoing_hooks(id) ON DELETE CASCADE,
  event TEXT NOT NULL,
  -- The event as JSON ({type, timestamp, data}); formatted for the hook when sent.
  payload TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT NOT NULL,
  lease_holder TEXT,
  lease_until TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX outgoing_deliveries_due ON outgoing_deliveries (status, next_attempt_at);
CREATE INDEX outgoing_deliveries_hook ON outgoing_deliveries (hook_id, created_at);
CREATE TABLE outgoing_attempts (
  id VARCHAR(36) PRIMARY KEY,
  delivery_id VARCHAR(36) NOT NULL REFERENCES outgoing_deliveries(id) ON DELETE CASCADE,
  at TEXT NOT NULL,
  status_code INTEGER,
  error TEXT,
  duration_ms INTEGER NOT NULL
);
CREATE INDEX outgoing_attempts_delivery ON outgoing_attempts (delivery_id, at);

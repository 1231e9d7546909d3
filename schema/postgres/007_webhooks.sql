-- v7: git webhooks: one secret per project (sealed, as env values are) and the deliveries already handled.
CREATE TABLE webhook_secrets (
  project_id VARCHAR(36) PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
  secret_sealed TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE webhook_deliveries (
  project_id VARCHAR(36) NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  delivery_id TEXT NOT NULL,
  received_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (project_id, delivery_id)
);

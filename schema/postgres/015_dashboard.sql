-- v15: what the dashboard shows of a deployment's commit: its subject line and author, as the build read them
-- from the checkout (null for uploads and for deployments made before this version).
ALTER TABLE deployments ADD COLUMN commit_message TEXT;
ALTER TABLE deployments ADD COLUMN commit_author TEXT;
-- Since when production serves its deployment (set by every pointer move: a production build going READY, promote,
-- rollback). Before this version the move was not recorded: the deployment's finish is the best estimate.
ALTER TABLE projects ADD COLUMN production_since TIMESTAMPTZ;
UPDATE projects SET production_since = (SELECT d.finished_at FROM deployments d WHERE d.id = projects.production_deployment_id);
-- The last webhook deliveries of each project, for its Git page: when, from which provider, what it triggered.
-- Only the newest few are kept per project (src/store/store.ts, Webhooks.logDelivery).
CREATE TABLE webhook_log (
    id VARCHAR(36) PRIMARY KEY,
    project_id VARCHAR(36) NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    event TEXT,
    status INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    deployment_ids TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_log_project ON webhook_log (project_id, received_at);

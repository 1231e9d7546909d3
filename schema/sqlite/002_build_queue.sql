-- v2: the build queue: who claimed a deployment, its liveness, and when it ran.
ALTER TABLE deployments ADD COLUMN claimed_by TEXT;
ALTER TABLE deployments ADD COLUMN heartbeat_at TEXT;
ALTER TABLE deployments ADD COLUMN started_at TEXT;
ALTER TABLE deployments ADD COLUMN finished_at TEXT;
CREATE INDEX deployments_queue ON deployments (status, created_at);

-- Project environment variables: values encrypted at rest (AES-256-GCM), never returned by the API.
CREATE TABLE project_env (
    project_id VARCHAR(36) NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value_encrypted TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (project_id, key)
);

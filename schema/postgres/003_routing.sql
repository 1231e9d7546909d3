-- v3: routing: SPA fallback per project, the previous production deployment (rollback), branch preview hosts.
ALTER TABLE projects ADD COLUMN spa_fallback BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE projects ADD COLUMN previous_production_deployment_id VARCHAR(36);
ALTER TABLE deployments ADD COLUMN branch_slug TEXT;
CREATE INDEX deployments_branch ON deployments (project_id, branch_slug, status, created_at);

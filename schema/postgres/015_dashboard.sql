-- v15: what the dashboard shows of a deployment's commit: its subject line and author, as the build read them
-- from the checkout (null for uploads and for deployments made before this version).
ALTER TABLE deployments ADD COLUMN commit_message TEXT;
ALTER TABLE deployments ADD COLUMN commit_author TEXT;
-- Since when production serves its deployment (set by every pointer move: a production build going READY, promote,
-- rollback). Before this version the move was not recorded: the deployment's finish is the best estimate.
ALTER TABLE projects ADD COLUMN production_since TIMESTAMPTZ;
UPDATE projects SET production_since = (SELECT d.finished_at FROM deployments d WHERE d.id = projects.production_deployment_id);

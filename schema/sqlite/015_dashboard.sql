-- v15: what the dashboard shows of a deployment's commit: its subject line and author, as the build read them
-- from the checkout (null for uploads and for deployments made before this version).
ALTER TABLE deployments ADD COLUMN commit_message TEXT;
ALTER TABLE deployments ADD COLUMN commit_author TEXT;

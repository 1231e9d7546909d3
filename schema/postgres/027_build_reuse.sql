-- v27: what a build was made from (source commit, build settings, variables, builder version), as a digest; a
-- later deployment of the same project with the same key reuses its output instead of building again.
ALTER TABLE deployments ADD COLUMN build_key TEXT;
CREATE INDEX deployments_build_key ON deployments (project_id, build_key);

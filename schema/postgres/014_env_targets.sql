-- v14: environment variables per target, as on Vercel: each applies to production, preview or both, and one key
-- may hold a different value per target. A key has at most one row per target (the two partial unique indexes),
-- so (project, key, production, preview) identifies a row. Existing variables apply to both.
ALTER TABLE project_env ADD COLUMN production BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE project_env ADD COLUMN preview BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE project_env ALTER COLUMN production DROP DEFAULT;
ALTER TABLE project_env ALTER COLUMN preview DROP DEFAULT;
ALTER TABLE project_env ADD CONSTRAINT project_env_some_target CHECK (production OR preview);
ALTER TABLE project_env DROP CONSTRAINT project_env_pkey;
ALTER TABLE project_env ADD PRIMARY KEY (project_id, key, production, preview);
CREATE UNIQUE INDEX project_env_production ON project_env (project_id, key) WHERE production;
CREATE UNIQUE INDEX project_env_preview ON project_env (project_id, key) WHERE preview;

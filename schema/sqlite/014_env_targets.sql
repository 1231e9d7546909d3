-- v14: environment variables per target, as on Vercel: each applies to production, preview or both, and one key
-- may hold a different value per target. A key has at most one row per target (the two partial unique indexes),
-- so (project, key, production, preview) identifies a row. Existing variables apply to both. sqlite cannot
-- change a primary key in place, so the table is rebuilt (nothing references it).
CREATE TABLE project_env_v14 (
    project_id VARCHAR(36) NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    production INTEGER NOT NULL CHECK (production IN (0, 1)),
    preview INTEGER NOT NULL CHECK (preview IN (0, 1)),
    value_encrypted TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK (production = 1 OR preview = 1),
    PRIMARY KEY (project_id, key, production, preview)
);
INSERT INTO project_env_v14 (project_id, key, production, preview, value_encrypted, created_at, updated_at)
SELECT project_id, key, 1, 1, value_encrypted, created_at, updated_at FROM project_env;
DROP TABLE project_env;
ALTER TABLE project_env_v14 RENAME TO project_env;
CREATE UNIQUE INDEX project_env_production ON project_env (project_id, key) WHERE production = 1;
CREATE UNIQUE INDEX project_env_preview ON project_env (project_id, key) WHERE preview = 1;

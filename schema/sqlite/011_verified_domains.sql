-- v11: only a verified claim holds a custom domain. Several projects may claim a domain unverified at once (so
-- nobody can block its owner by saving it first); one verified claim (custom_domain = verified_domain) per domain.
-- custom_domain's inline UNIQUE cannot be dropped in sqlite, so the table is rebuilt (sqlite's "generalized
-- ALTER TABLE procedure"). The runner turns foreign keys off around it: with them on, DROP TABLE would delete
-- every deployment, env var and webhook row through ON DELETE CASCADE. Columns keep their order and definitions
-- from 001, 003 and 008.
CREATE TABLE projects_v11 (
    id VARCHAR(36) PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    git_url TEXT,
    sub_domain VARCHAR(255) NOT NULL UNIQUE,
    custom_domain VARCHAR(255),
    user_id VARCHAR(255) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    production_branch TEXT NOT NULL DEFAULT 'main',
    root_directory TEXT,
    install_command TEXT,
    build_command TEXT,
    output_directory TEXT,
    build_timeout_seconds INTEGER,
    production_deployment_id VARCHAR(36),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    spa_fallback INTEGER NOT NULL DEFAULT 1,
    previous_production_deployment_id VARCHAR(36),
    domain_token TEXT,
    verified_domain TEXT,
    domain_verified_at TEXT
);
INSERT INTO projects_v11 (
    id, name, git_url, sub_domain, custom_domain, user_id, production_branch, root_directory, install_command,
    build_command, output_directory, build_timeout_seconds, production_deployment_id, created_at, updated_at,
    spa_fallback, previous_production_deployment_id, domain_token, verified_domain, domain_verified_at
)
SELECT
    id, name, git_url, sub_domain, custom_domain, user_id, production_branch, root_directory, install_command,
    build_command, output_directory, build_timeout_seconds, production_deployment_id, created_at, updated_at,
    spa_fallback, previous_production_deployment_id, domain_token, verified_domain, domain_verified_at
FROM projects;
DROP TABLE projects;
ALTER TABLE projects_v11 RENAME TO projects;
CREATE INDEX projects_user ON projects (user_id, created_at, id);
-- Claims are looked up by domain, case-insensitively (the old UNIQUE gave custom_domain an index).
CREATE INDEX projects_custom_domain ON projects (lower(custom_domain));
CREATE UNIQUE INDEX projects_verified_domain ON projects (lower(verified_domain)) WHERE verified_domain = custom_domain;

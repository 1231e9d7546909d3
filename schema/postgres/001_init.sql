-- minivercel schema v1 (PostgreSQL).
CREATE TABLE users (
    id VARCHAR(36) PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    external_issuer TEXT,
    external_subject TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (external_issuer, external_subject)
);

CREATE TABLE api_tokens (
    id VARCHAR(36) PRIMARY KEY,
    user_id VARCHAR(36) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX api_tokens_user ON api_tokens (user_id, created_at);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id VARCHAR(36) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL
);

-- The seed's projects table, plus build settings and the production pointer.
CREATE TABLE projects (
    id VARCHAR(36) PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    git_url TEXT,
    sub_domain VARCHAR(255) NOT NULL UNIQUE,
    custom_domain VARCHAR(255) UNIQUE,
    user_id VARCHAR(255) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    production_branch TEXT NOT NULL DEFAULT 'main',
    root_directory TEXT,
    install_command TEXT,
    build_command TEXT,
    output_directory TEXT,
    build_timeout_seconds INTEGER,
    production_deployment_id VARCHAR(36),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX projects_user ON projects (user_id, created_at, id);

-- The seed's deployments table, plus who, what and why.
CREATE TABLE deployments (
    id VARCHAR(36) PRIMARY KEY,
    project_id VARCHAR(36) NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    user_id VARCHAR(36) NOT NULL,
    status VARCHAR(50) NOT NULL DEFAULT 'NOT_STARTED',
    status_reason TEXT,
    target TEXT NOT NULL DEFAULT 'preview',
    branch TEXT,
    commit_sha TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX deployments_project ON deployments (project_id, created_at, id);
CREATE INDEX deployments_status ON deployments (status);

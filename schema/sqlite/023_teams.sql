-- v23: teams. An account has its personal scope and belongs to any number of teams; a project belongs to its
-- owner's personal scope (team_id NULL) or to one team. Roles: owner, member, viewer. Invitations are one-time
-- links (only the sha256 of the token is stored). audit_events is the append-only audit log of each scope.
CREATE TABLE teams (
    id VARCHAR(36) PRIMARY KEY,
    slug VARCHAR(64) NOT NULL UNIQUE,
    name VARCHAR(255) NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE team_members (
    team_id VARCHAR(36) NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'member', 'viewer')),
    created_at TEXT NOT NULL,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members (user_id);
CREATE TABLE team_invitations (
    id VARCHAR(36) PRIMARY KEY,
    team_id VARCHAR(36) NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'member', 'viewer')),
    token_hash TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    accepted_by TEXT,
    accepted_at TEXT,
    revoked_at TEXT
);
CREATE INDEX team_invitations_team ON team_invitations (team_id, created_at);
ALTER TABLE projects ADD COLUMN team_id VARCHAR(36) REFERENCES teams(id);
CREATE INDEX projects_team ON projects (team_id, created_at, id);
CREATE TABLE audit_events (
    id VARCHAR(36) PRIMARY KEY,
    -- 'team:<id>' or 'user:<id>' (a personal scope).
    scope TEXT NOT NULL,
    actor_id TEXT,
    actor_email TEXT,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT,
    address TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX audit_events_scope ON audit_events (scope, created_at, id);
-- Append-only: no statement may change or remove an entry.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
-- A team is a scope of uploads too (src/deploy/scoped-blobs.ts): blob claims name an account or `team:<id>`,
-- so the claim no longer references users (sqlite's generalized ALTER TABLE: rebuild, copy, rename).
CREATE TABLE blob_claims_v23 (
  scope_id TEXT NOT NULL,
  hash CHAR(64) NOT NULL,
  claimed_at TEXT NOT NULL,
  PRIMARY KEY (scope_id, hash)
);
INSERT INTO blob_claims_v23 (scope_id, hash, claimed_at) SELECT scope_id, hash, claimed_at FROM blob_claims;
DROP TABLE blob_claims;
ALTER TABLE blob_claims_v23 RENAME TO blob_claims;
CREATE INDEX blob_claims_hash ON blob_claims (hash);

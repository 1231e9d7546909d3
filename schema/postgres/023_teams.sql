-- v23: teams. An account has its personal scope and belongs to any number of teams; a project belongs to its
-- owner's personal scope (team_id NULL) or to one team. Roles: owner, member, viewer. Invitations are one-time
-- links (only the sha256 of the token is stored). audit_events is the append-only audit log of each scope.
CREATE TABLE teams (
    id VARCHAR(36) PRIMARY KEY,
    slug VARCHAR(64) NOT NULL UNIQUE,
    name VARCHAR(255) NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE team_members (
    team_id VARCHAR(36) NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'member', 'viewer')),
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members (user_id);
CREATE TABLE team_invitations (
    id VARCHAR(36) PRIMARY KEY,
    team_id VARCHAR(36) NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'member', 'viewer')),
    token_hash TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    accepted_by TEXT,
    accepted_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
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
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX audit_events_scope ON audit_events (scope, created_at, id);
-- Append-only: no statement may change or remove an entry.
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$;
CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE PROCEDURE audit_events_append_only();
-- A team is a scope of uploads too (src/deploy/scoped-blobs.ts): blob claims name an account or `team:<id>`,
-- so the claim no longer references users, and its scope is longer than an id.
ALTER TABLE blob_claims DROP CONSTRAINT IF EXISTS blob_claims_scope_id_fkey;
ALTER TABLE blob_claims ALTER COLUMN scope_id TYPE TEXT;

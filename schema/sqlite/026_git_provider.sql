-- v26: commit statuses and pull/merge request comments on GitHub, GitLab or Gitea. A project may hold one
-- provider setting (its API token sealed like env vars); each report (a commit's status, a branch's preview
-- comment) is one row of an outbox, keyed by what it is about, so a newer state replaces an unsent older one and
-- the same state twice is a no-op; a worker holding its lease sends it, retried with backoff.
CREATE TABLE git_providers (
  project_id VARCHAR(36) PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('github', 'gitlab', 'gitea')),
  api_url TEXT NOT NULL,
  -- owner/name (GitLab: the project's full path), or NULL to read it from the project's git URL.
  repository TEXT,
  token_sealed TEXT NOT NULL,
  -- The token's last 4 characters, to tell tokens apart without showing them.
  token_hint TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE git_reports (
  id VARCHAR(36) PRIMARY KEY,
  project_id VARCHAR(36) NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  -- 'status': subject is the commit sha; 'comment': subject is the branch.
  kind TEXT NOT NULL CHECK (kind IN ('status', 'comment')),
  subject TEXT NOT NULL,
  deployment_id VARCHAR(36) NOT NULL,
  -- The deployment's creation time: an older deployment never overwrites a newer one's report.
  deployment_created_at TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'success', 'failure', 'canceled')),
  -- Bumped on every change: a send that raced a change leaves the row pending for the new state.
  version INTEGER NOT NULL DEFAULT 1,
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT NOT NULL,
  lease_holder TEXT,
  lease_until TEXT,
  last_error TEXT,
  updated_at TEXT NOT NULL,
  UNIQUE (project_id, kind, subject)
);
CREATE INDEX git_reports_due ON git_reports (status, next_attempt_at);
CREATE INDEX git_reports_project ON git_reports (project_id, updated_at);

-- v13: cron jobs of Build Output API deployments. One row per run: a scheduled run is claimed by inserting
-- its (project, path, schedule, minute), so of several proxies exactly one runs it; a manual run (the
-- dashboard's "Run now") has its own key. Kept for the dashboard's history, pruned by age.
CREATE TABLE cron_runs (
  id VARCHAR(36) PRIMARY KEY,
  project_id VARCHAR(36) NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  deployment_id VARCHAR(36) NOT NULL,
  path TEXT NOT NULL,
  schedule TEXT NOT NULL,
  trigger TEXT NOT NULL,
  scheduled_at TIMESTAMPTZ NOT NULL,
  started_at TIMESTAMPTZ NOT NULL,
  claimed_by TEXT NOT NULL,
  finished_at TIMESTAMPTZ,
  status INTEGER,
  duration_ms INTEGER,
  error TEXT,
  UNIQUE (project_id, path, schedule, trigger, scheduled_at)
);
CREATE INDEX cron_runs_project_started ON cron_runs (project_id, started_at);
CREATE INDEX cron_runs_started ON cron_runs (started_at);

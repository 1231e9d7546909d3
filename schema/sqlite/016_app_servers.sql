-- v16: app servers (a deployment run by its start command): the project's command (empty: detected after the
-- build), how long an idle server keeps running (minutes; 0 = always on; empty = 15) and how many instances a
-- busy deployment may have (empty = 1).
ALTER TABLE projects ADD COLUMN start_command TEXT;
ALTER TABLE projects ADD COLUMN idle_timeout_minutes INTEGER;
ALTER TABLE projects ADD COLUMN max_instances INTEGER;

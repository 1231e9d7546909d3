-- v22: what an API token may do. 'full': everything its account may; 'deploy': what a CI job needs (deploy,
-- upload, follow logs, cancel, promote, roll back, read); 'read': reading only. Tokens made before keep 'full'.
ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'full';

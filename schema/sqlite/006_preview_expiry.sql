-- v6: preview retention: an expired preview keeps its row and status, but its files are gone and it is not served.
ALTER TABLE deployments ADD COLUMN expired_at TEXT;

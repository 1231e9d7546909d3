-- v4: build events the platform refused (forged, malformed, or for another deployment), kept for the operator.
CREATE TABLE rejected_events (
    id TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    source TEXT NOT NULL,
    claimed_deployment_id TEXT,
    reason TEXT NOT NULL,
    excerpt TEXT NOT NULL
);
CREATE INDEX rejected_events_at ON rejected_events (at);

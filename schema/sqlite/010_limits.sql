-- v10: limits. Failed sign-ins per key ("account:<hash of the email>", "ip:<address>"), shared by every api
-- process, and the lockout they earned; plus an index for counting a user's running builds when claiming.
CREATE TABLE login_failures (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_failure_at TEXT NOT NULL,
    locked_until TEXT
);
CREATE INDEX login_failures_last ON login_failures (last_failure_at);
CREATE INDEX deployments_user_status ON deployments (user_id, status);

-- v18: API request budgets shared by every api process (token buckets): one row per budget and client (an
-- address or an account), refilled by the time since its last request. A row untouched for a minute is full
-- again, the same as no row, and is pruned.
CREATE TABLE rate_buckets (
  key TEXT PRIMARY KEY,
  tokens DOUBLE PRECISION NOT NULL,
  -- Milliseconds since the epoch of the last request (the api process's clock).
  at BIGINT NOT NULL,
  -- Whether the last request fit.
  ok BOOLEAN NOT NULL
);
CREATE INDEX rate_buckets_at ON rate_buckets (at);

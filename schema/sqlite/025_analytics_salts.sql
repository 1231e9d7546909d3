-- v25: web analytics' daily salts. A visitor is counted as sha256(salt of the day, project, address, user agent):
-- every proxy uses the same salt on the same (UTC) day, so a visitor is one visitor whichever proxy served them.
-- The first proxy to need a day's salt makes it; salts older than yesterday are deleted, after which nobody can
-- link a stored hash to an address again (src/store/analytics-salts.ts).
CREATE TABLE analytics_salts (
  -- The UTC day, YYYY-MM-DD.
  day TEXT PRIMARY KEY,
  -- 32 random bytes, hex.
  salt TEXT NOT NULL
);

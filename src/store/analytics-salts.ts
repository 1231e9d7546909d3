// Store port: web analytics' daily salts, shared by every proxy (schema/sqlite/025_analytics_salts.sql).

export interface AnalyticsSalts {
  /**
   * The salt of `day` (UTC, YYYY-MM-DD): the one stored, or `fresh` stored now when the day has none yet (the first
   * proxy to ask wins; every other gets the same). Deletes the salts of days before `keepFrom` in the same call.
   */
  salt(day: string, fresh: string, keepFrom: string): Promise<string>;
  /** The days that still have a salt (tests: old ones must be gone). */
  days(): Promise<string[]>;
}

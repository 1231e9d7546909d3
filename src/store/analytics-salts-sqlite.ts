// Web analytics' daily salts on bun:sqlite.

import type { Database } from "bun:sqlite";
import type { AnalyticsSalts } from "./analytics-salts.ts";
import { sqliteQueries } from "./query-sqlite.ts";

export function sqliteAnalyticsSalts(db: Database): AnalyticsSalts {
  const { one, all, run } = sqliteQueries(db);
  return {
    async salt(day, fresh, keepFrom) {
      run("DELETE FROM analytics_salts WHERE day < ?", keepFrom);
      run("INSERT INTO analytics_salts (day, salt) VALUES (?, ?) ON CONFLICT (day) DO NOTHING", day, fresh);
      return String(one("SELECT salt FROM analytics_salts WHERE day = ?", day)?.salt ?? fresh);
    },
    async days() {
      return all("SELECT day FROM analytics_salts ORDER BY day").map((r) => String(r.day));
    },
  };
}

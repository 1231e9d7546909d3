// Web analytics' daily salts on PostgreSQL, shared by every proxy.

import type postgres from "postgres";
import type { AnalyticsSalts } from "./analytics-salts.ts";
import type { Row } from "./rows.ts";

export function postgresAnalyticsSalts(sql: postgres.Sql): AnalyticsSalts {
  return {
    async salt(day, fresh, keepFrom) {
      await sql`DELETE FROM analytics_salts WHERE day < ${keepFrom}`;
      await sql`INSERT INTO analytics_salts (day, salt) VALUES (${day}, ${fresh}) ON CONFLICT (day) DO NOTHING`;
      const [row] = await sql<Row[]>`SELECT salt FROM analytics_salts WHERE day = ${day}`;
      return String(row?.salt ?? fresh);
    },
    async days() {
      const rows = await sql<Row[]>`SELECT day FROM analytics_salts ORDER BY day`;
      return rows.map((r) => String(r.day));
    },
  };
}

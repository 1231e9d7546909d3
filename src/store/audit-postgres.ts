// Store: the audit trail of rejected bus events (src/store/store.ts) on PostgreSQL.

import type postgres from "postgres";
import { newId, nowIso, type Row, toRejected } from "./rows.ts";
import type { Audit } from "./store.ts";

export function postgresAudit(sql: postgres.Sql): Audit {
  return {
    async recordRejected(e) {
      await sql`
        INSERT INTO rejected_events (id, at, source, claimed_deployment_id, reason, excerpt)
        VALUES (${newId()}, ${nowIso()}, ${e.source}, ${e.claimedDeploymentId}, ${e.reason.slice(0, 1000)}, ${e.excerpt.slice(0, 1000)})`;
    },
    async recentRejected(limit) {
      const rows = await sql<Row[]>`SELECT * FROM rejected_events ORDER BY at DESC LIMIT ${limit}`;
      return rows.map(toRejected);
    },
  };
}

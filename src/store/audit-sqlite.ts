// Store: the audit trail of rejected bus events (src/store/store.ts) on bun:sqlite.

import type { Database } from "bun:sqlite";
import { sqliteQueries } from "./query-sqlite.ts";
import { newId, nowIso, toRejected } from "./rows.ts";
import type { Audit } from "./store.ts";

export function sqliteAudit(db: Database): Audit {
  const { all, run } = sqliteQueries(db);
  return {
    async recordRejected(e) {
      run(
        "INSERT INTO rejected_events (id, at, source, claimed_deployment_id, reason, excerpt) VALUES (?, ?, ?, ?, ?, ?)",
        newId(),
        nowIso(),
        e.source,
        e.claimedDeploymentId,
        e.reason.slice(0, 1000),
        e.excerpt.slice(0, 1000),
      );
    },
    async recentRejected(limit) {
      return all("SELECT * FROM rejected_events ORDER BY at DESC LIMIT ?", limit).map(toRejected);
    },
  };
}

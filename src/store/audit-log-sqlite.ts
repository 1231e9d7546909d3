// Store: the append-only audit log (src/store/audit-log.ts) on bun:sqlite.

import type { Database } from "bun:sqlite";
import type { AuditLog } from "./audit-log.ts";
import { sqliteQueries } from "./query-sqlite.ts";
import { decodeCursor, newId, nowIso, toPage } from "./rows.ts";
import { toAuditEvent } from "./team-rows.ts";

export function sqliteAuditLog(db: Database): AuditLog {
  const { one, all } = sqliteQueries(db);
  return {
    async append(e) {
      const row = one(
        `INSERT INTO audit_events (id, scope, actor_id, actor_email, action, target, detail, address, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
        newId(),
        e.scope,
        e.actorId,
        e.actorEmail,
        e.action,
        e.target?.slice(0, 500) ?? null,
        e.detail?.slice(0, 2000) ?? null,
        e.address,
        nowIso(),
      );
      return toAuditEvent(row ?? {});
    },
    async list(scope, { limit, cursor }) {
      const after = decodeCursor(cursor);
      const rows = after
        ? all(
            `SELECT * FROM audit_events WHERE scope = ? AND (created_at < ? OR (created_at = ? AND id < ?))
             ORDER BY created_at DESC, id DESC LIMIT ?`,
            scope,
            after.createdAt,
            after.createdAt,
            after.id,
            limit + 1,
          )
        : all(
            "SELECT * FROM audit_events WHERE scope = ? ORDER BY created_at DESC, id DESC LIMIT ?",
            scope,
            limit + 1,
          );
      return toPage(rows.map(toAuditEvent), limit);
    },
  };
}

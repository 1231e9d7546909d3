// Store: the append-only audit log (src/store/audit-log.ts) on PostgreSQL.

import type postgres from "postgres";
import type { AuditLog } from "./audit-log.ts";
import { decodeCursor, newId, nowIso, type Row, toPage } from "./rows.ts";
import { toAuditEvent } from "./team-rows.ts";

export function postgresAuditLog(sql: postgres.Sql): AuditLog {
  return {
    async append(e) {
      const [row] = await sql<Row[]>`
        INSERT INTO audit_events (id, scope, actor_id, actor_email, action, target, detail, address, created_at)
        VALUES (${newId()}, ${e.scope}, ${e.actorId}, ${e.actorEmail}, ${e.action}, ${e.target?.slice(0, 500) ?? null},
                ${e.detail?.slice(0, 2000) ?? null}, ${e.address}, ${nowIso()})
        RETURNING *`;
      return toAuditEvent(row ?? {});
    },
    async list(scope, { limit, cursor }) {
      const after = decodeCursor(cursor);
      const rows = await sql<Row[]>`
        SELECT * FROM audit_events WHERE scope = ${scope}
        ${after ? sql`AND (created_at < ${after.createdAt} OR (created_at = ${after.createdAt} AND id < ${after.id}))` : sql``}
        ORDER BY created_at DESC, id DESC LIMIT ${limit + 1}`;
      return toPage(rows.map(toAuditEvent), limit);
    },
  };
}

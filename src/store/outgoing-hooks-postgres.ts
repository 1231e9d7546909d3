// Outgoing webhooks, store: on PostgreSQL; claims, settles and prunes deliveries through the shared outbox
// (outbox-postgres.ts), logging each attempt in the same transaction as its outcome.

import type postgres from "postgres";
import { postgresOutbox } from "./outbox-postgres.ts";
import type { OutgoingHooks } from "./outgoing-hooks.ts";
import { DELIVERIES_OUTBOX, toAttempt, toDelivery, toHook, withHooks } from "./outgoing-hooks-sqlite.ts";
import { newId, nowIso, type Row, str } from "./rows.ts";

export function postgresOutgoingHooks(sql: postgres.Sql): OutgoingHooks {
  const outbox = postgresOutbox(sql, DELIVERIES_OUTBOX);
  return {
    async create({ projectId, url, events, format, secretSealed }) {
      const [row] = await sql<Row[]>`
        INSERT INTO outgoing_hooks (id, project_id, url, events, format, secret_sealed, created_at)
        VALUES (${newId()}, ${projectId}, ${url}, ${events.join(",")}, ${format}, ${secretSealed}, ${nowIso()})
        RETURNING *`;
      if (!row) throw new Error("store: outgoing hook insert returned nothing");
      return toHook(row);
    },
    async list(projectId) {
      const rows = await sql<Row[]>`
        SELECT * FROM outgoing_hooks WHERE project_id = ${projectId} ORDER BY created_at, id`;
      return rows.map(toHook);
    },
    async get(projectId, hookId) {
      const [row] = await sql<Row[]>`
        SELECT * FROM outgoing_hooks WHERE id = ${hookId} AND project_id = ${projectId}`;
      return row ? toHook(row) : null;
    },
    async delete(projectId, hookId) {
      const result = await sql`DELETE FROM outgoing_hooks WHERE id = ${hookId} AND project_id = ${projectId}`;
      return result.count > 0;
    },
    async enqueue(projectId, event, payload, at) {
      const hooks = (
        await sql<Row[]>`SELECT id, events FROM outgoing_hooks WHERE project_id = ${projectId}`
      ).filter((h) => str(h, "events").split(",").includes(event));
      if (hooks.length === 0) return 0;
      const rows = hooks.map((h) => ({
        id: newId(),
        hook_id: str(h, "id"),
        event,
        payload,
        status: "pending",
        attempts: 0,
        next_attempt_at: at,
        created_at: at,
      }));
      await sql`INSERT INTO outgoing_deliveries ${sql(rows)}`;
      return hooks.length;
    },
    async claimDue(holder, now, until, limit) {
      const claimed = await outbox.claim(holder, now, until, limit);
      const hookIds = [...new Set(claimed.map((d) => str(d, "hook_id")))];
      const hooks =
        hookIds.length === 0
          ? []
          : await sql<Row[]>`
              SELECT id, url, format, secret_sealed FROM outgoing_hooks WHERE id IN ${sql(hookIds)}`;
      return withHooks(claimed, hooks);
    },
    async recordAttempt(deliveryId, holder, attempt, outcome) {
      return sql.begin(async (tx) => {
        if (!(await outbox.settle(tx, deliveryId, holder, outcome, attempt.at))) return false;
        await tx`
          INSERT INTO outgoing_attempts (id, delivery_id, at, status_code, error, duration_ms)
          VALUES (${newId()}, ${deliveryId}, ${attempt.at}, ${attempt.statusCode}, ${attempt.error},
            ${attempt.durationMs})`;
        return true;
      });
    },
    async deliveries(hookId, limit) {
      const rows = await sql<Row[]>`
        SELECT * FROM outgoing_deliveries WHERE hook_id = ${hookId}
        ORDER BY created_at DESC, id DESC LIMIT ${limit}`;
      const ids = rows.map((r) => str(r, "id"));
      const attempts =
        ids.length === 0
          ? []
          : await sql<Row[]>`
              SELECT * FROM outgoing_attempts WHERE delivery_id IN ${sql(ids)} ORDER BY at, id`;
      return rows.map((row) => ({
        ...toDelivery(row),
        log: attempts.filter((a) => str(a, "delivery_id") === str(row, "id")).map(toAttempt),
      }));
    },
    async redeliver(hookId, deliveryId, now) {
      const [row] = await sql<Row[]>`
        UPDATE outgoing_deliveries SET status = 'pending', attempts = 0, next_attempt_at = ${now}
        WHERE id = ${deliveryId} AND hook_id = ${hookId} RETURNING *`;
      return row ? toDelivery(row) : null;
    },
    async prune(before) {
      return outbox.prune(before);
    },
  };
}

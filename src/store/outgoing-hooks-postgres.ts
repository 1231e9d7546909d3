// Outgoing webhooks, store: on PostgreSQL (claims skip rows another process has locked).

import type postgres from "postgres";
import type { OutgoingHooks } from "./outgoing-hooks.ts";
import { toAttempt, toClaimed, toDelivery, toHook } from "./outgoing-hooks-sqlite.ts";
import { newId, nowIso, type Row, str } from "./rows.ts";

export function postgresOutgoingHooks(sql: postgres.Sql): OutgoingHooks {
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
      const rows = await sql<Row[]>`
        WITH due AS (
          SELECT id FROM outgoing_deliveries
          WHERE status = 'pending' AND next_attempt_at <= ${now} AND (lease_until IS NULL OR lease_until <= ${now})
          ORDER BY next_attempt_at, id LIMIT ${limit}
          FOR UPDATE SKIP LOCKED
        ), claimed AS (
          UPDATE outgoing_deliveries d SET lease_holder = ${holder}, lease_until = ${until}
          FROM due WHERE d.id = due.id RETURNING d.*
        )
        SELECT claimed.*, h.url, h.format, h.secret_sealed FROM claimed JOIN outgoing_hooks h ON h.id = claimed.hook_id`;
      return rows.map(toClaimed);
    },
    async recordAttempt(deliveryId, holder, attempt, outcome) {
      const status = outcome.kind === "retry" ? "pending" : outcome.kind;
      const next = outcome.kind === "retry" ? outcome.at : attempt.at;
      return sql.begin(async (tx) => {
        const updated = await tx`
          UPDATE outgoing_deliveries SET status = ${status}, attempts = attempts + 1, next_attempt_at = ${next},
            lease_holder = NULL, lease_until = NULL
          WHERE id = ${deliveryId} AND lease_holder = ${holder}`;
        if (updated.count === 0) return false;
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
      const result =
        await sql`DELETE FROM outgoing_deliveries WHERE created_at < ${before} AND status <> 'pending'`;
      return result.count;
    },
  };
}

// Store: git webhook secrets and deliveries already handled (src/store/store.ts) on PostgreSQL.

import type postgres from "postgres";
import { first } from "./query-postgres.ts";
import { newId, nowIso, type Row, toWebhookLogEntry } from "./rows.ts";
import type { Webhooks } from "./store.ts";

/** Thrown inside the recording transaction to roll it back when either key was recorded before. */
class Seen extends Error {}

export function postgresWebhooks(sql: postgres.Sql): Webhooks {
  return {
    async secret(projectId) {
      const row = await first(
        sql<Row[]>`SELECT secret_sealed FROM webhook_secrets WHERE project_id = ${projectId}`,
      );
      return row ? String(row.secret_sealed) : null;
    },
    async initSecret(projectId, sealed) {
      await sql`
        INSERT INTO webhook_secrets (project_id, secret_sealed, created_at) VALUES (${projectId}, ${sealed}, ${nowIso()})
        ON CONFLICT DO NOTHING`;
      const row = await first(
        sql<Row[]>`SELECT secret_sealed FROM webhook_secrets WHERE project_id = ${projectId}`,
      );
      if (!row) throw new Error("store: webhook secret vanished (project deleted?)");
      return String(row.secret_sealed);
    },
    async recordDelivery(projectId, delivery) {
      const at = nowIso();
      try {
        await sql.begin(async (tx) => {
          // A concurrent insert of the same key waits for the other transaction and then conflicts (or not, if
          // that one rolled back). The id always goes first, so two deliveries never wait on each other in a cycle.
          if (delivery.id !== null) {
            const byId = await tx`
              INSERT INTO webhook_deliveries (project_id, delivery_id, received_at)
              VALUES (${projectId}, ${delivery.id}, ${at}) ON CONFLICT DO NOTHING`;
            if (byId.count === 0) throw new Seen();
          }
          const byBody = await tx`
            INSERT INTO webhook_payloads (project_id, body_sha256, received_at)
            VALUES (${projectId}, ${delivery.bodySha256}, ${at}) ON CONFLICT DO NOTHING`;
          if (byBody.count === 0) throw new Seen();
        });
        return true;
      } catch (error) {
        // Seen rolled the transaction back: a duplicate records neither key.
        if (error instanceof Seen) return false;
        throw error;
      }
    },
    async logDelivery(projectId, entry, keep) {
      await sql.begin(async (tx) => {
        await tx`
          INSERT INTO webhook_log (id, project_id, provider, event, status, outcome, deployment_ids, received_at)
          VALUES (${newId()}, ${projectId}, ${entry.provider}, ${entry.event}, ${entry.status}, ${entry.outcome},
            ${JSON.stringify(entry.deploymentIds)}, ${nowIso()})`;
        await tx`
          DELETE FROM webhook_log WHERE project_id = ${projectId} AND id NOT IN (
            SELECT id FROM webhook_log WHERE project_id = ${projectId} ORDER BY received_at DESC, id DESC LIMIT ${keep})`;
      });
    },
    async recentDeliveries(projectId, limit) {
      const rows = await sql<Row[]>`
        SELECT * FROM webhook_log WHERE project_id = ${projectId} ORDER BY received_at DESC, id DESC LIMIT ${limit}`;
      return rows.map(toWebhookLogEntry);
    },
    async forgetDelivery(projectId, delivery) {
      await sql.begin(async (tx) => {
        await tx`DELETE FROM webhook_payloads WHERE project_id = ${projectId} AND body_sha256 = ${delivery.bodySha256}`;
        if (delivery.id !== null) {
          await tx`DELETE FROM webhook_deliveries WHERE project_id = ${projectId} AND delivery_id = ${delivery.id}`;
        }
      });
    },
  };
}

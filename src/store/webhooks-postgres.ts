// Store: git webhook secrets and delivery ids (src/store/store.ts) on PostgreSQL.

import type postgres from "postgres";
import { first } from "./query-postgres.ts";
import { nowIso, type Row } from "./rows.ts";
import type { Webhooks } from "./store.ts";

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
    async recordDelivery(projectId, deliveryId) {
      const result = await sql`
        INSERT INTO webhook_deliveries (project_id, delivery_id, received_at)
        VALUES (${projectId}, ${deliveryId}, ${nowIso()}) ON CONFLICT DO NOTHING`;
      return result.count > 0;
    },
    async forgetDelivery(projectId, deliveryId) {
      await sql`DELETE FROM webhook_deliveries WHERE project_id = ${projectId} AND delivery_id = ${deliveryId}`;
    },
  };
}

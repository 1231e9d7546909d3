// Store: git webhook secrets and delivery ids (src/store/store.ts) on bun:sqlite.

import type { Database } from "bun:sqlite";
import { sqliteQueries } from "./query-sqlite.ts";
import { nowIso } from "./rows.ts";
import type { Webhooks } from "./store.ts";

export function sqliteWebhooks(db: Database): Webhooks {
  const { one, run } = sqliteQueries(db);
  return {
    async secret(projectId) {
      const row = one("SELECT secret_sealed FROM webhook_secrets WHERE project_id = ?", projectId);
      return row ? String(row.secret_sealed) : null;
    },
    async initSecret(projectId, sealed) {
      run(
        "INSERT INTO webhook_secrets (project_id, secret_sealed, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        projectId,
        sealed,
        nowIso(),
      );
      const row = one("SELECT secret_sealed FROM webhook_secrets WHERE project_id = ?", projectId);
      if (!row) throw new Error("store: webhook secret vanished (project deleted?)");
      return String(row.secret_sealed);
    },
    async recordDelivery(projectId, deliveryId) {
      return (
        run(
          "INSERT INTO webhook_deliveries (project_id, delivery_id, received_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
          projectId,
          deliveryId,
          nowIso(),
        ).changes > 0
      );
    },
    async forgetDelivery(projectId, deliveryId) {
      run("DELETE FROM webhook_deliveries WHERE project_id = ? AND delivery_id = ?", projectId, deliveryId);
    },
  };
}

// Store: git webhook secrets and deliveries already handled (src/store/store.ts) on bun:sqlite.

import type { Database } from "bun:sqlite";
import { sqliteQueries } from "./query-sqlite.ts";
import { newId, nowIso, toWebhookLogEntry } from "./rows.ts";
import type { Webhooks } from "./store.ts";

export function sqliteWebhooks(db: Database): Webhooks {
  const { one, all, run } = sqliteQueries(db);
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
    async recordDelivery(projectId, delivery) {
      // IMMEDIATE: the write lock from the first read, so a concurrent delivery cannot slip between check and insert.
      return db
        .transaction(() => {
          const seenBody = one(
            "SELECT 1 FROM webhook_payloads WHERE project_id = ? AND body_sha256 = ?",
            projectId,
            delivery.bodySha256,
          );
          const seenId =
            delivery.id !== null &&
            one(
              "SELECT 1 FROM webhook_deliveries WHERE project_id = ? AND delivery_id = ?",
              projectId,
              delivery.id,
            );
          if (seenBody || seenId) return false;
          const at = nowIso();
          run(
            "INSERT INTO webhook_payloads (project_id, body_sha256, received_at) VALUES (?, ?, ?)",
            projectId,
            delivery.bodySha256,
            at,
          );
          if (delivery.id !== null) {
            run(
              "INSERT INTO webhook_deliveries (project_id, delivery_id, received_at) VALUES (?, ?, ?)",
              projectId,
              delivery.id,
              at,
            );
          }
          return true;
        })
        .immediate();
    },
    async logDelivery(projectId, entry, keep) {
      db.transaction(() => {
        run(
          `INSERT INTO webhook_log (id, project_id, provider, event, status, outcome, deployment_ids, received_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          newId(),
          projectId,
          entry.provider,
          entry.event,
          entry.status,
          entry.outcome,
          JSON.stringify(entry.deploymentIds),
          nowIso(),
        );
        run(
          `DELETE FROM webhook_log WHERE project_id = ? AND id NOT IN (
             SELECT id FROM webhook_log WHERE project_id = ? ORDER BY received_at DESC, id DESC LIMIT ?)`,
          projectId,
          projectId,
          keep,
        );
      })();
    },
    async recentDeliveries(projectId, limit) {
      return all(
        "SELECT * FROM webhook_log WHERE project_id = ? ORDER BY received_at DESC, id DESC LIMIT ?",
        projectId,
        limit,
      ).map(toWebhookLogEntry);
    },
    async forgetDelivery(projectId, delivery) {
      db.transaction(() => {
        run(
          "DELETE FROM webhook_payloads WHERE project_id = ? AND body_sha256 = ?",
          projectId,
          delivery.bodySha256,
        );
        if (delivery.id !== null) {
          run(
            "DELETE FROM webhook_deliveries WHERE project_id = ? AND delivery_id = ?",
            projectId,
            delivery.id,
          );
        }
      })();
    },
  };
}

// Outgoing webhooks, store: on bun:sqlite (the lease is taken in one IMMEDIATE transaction).

import type { Database } from "bun:sqlite";
import type {
  ClaimedDelivery,
  DeliveryStatus,
  HookAttempt,
  HookDelivery,
  HookEvent,
  HookFormat,
  OutgoingHook,
  OutgoingHooks,
} from "./outgoing-hooks.ts";
import { sqliteQueries } from "./query-sqlite.ts";
import { newId, nowIso, type Row, str } from "./rows.ts";

export const toHook = (row: Row): OutgoingHook => ({
  id: str(row, "id"),
  projectId: str(row, "project_id"),
  url: str(row, "url"),
  events: str(row, "events").split(",") as HookEvent[],
  format: str(row, "format") as HookFormat,
  createdAt: str(row, "created_at"),
});

export const toDelivery = (row: Row): HookDelivery => ({
  id: str(row, "id"),
  hookId: str(row, "hook_id"),
  event: str(row, "event") as HookEvent,
  payload: str(row, "payload"),
  status: str(row, "status") as DeliveryStatus,
  attempts: Number(row.attempts),
  nextAttemptAt: str(row, "next_attempt_at"),
  createdAt: str(row, "created_at"),
});

export const toClaimed = (row: Row): ClaimedDelivery => ({
  ...toDelivery(row),
  url: str(row, "url"),
  format: str(row, "format") as HookFormat,
  secretSealed: str(row, "secret_sealed"),
});

export const toAttempt = (row: Row): HookAttempt => ({
  at: str(row, "at"),
  statusCode: row.status_code === null || row.status_code === undefined ? null : Number(row.status_code),
  error: typeof row.error === "string" ? row.error : null,
  durationMs: Number(row.duration_ms),
});

/** The delivery columns a claim returns, with its hook's. */
const CLAIMED = `d.*, h.url, h.format, h.secret_sealed`;

export function sqliteOutgoingHooks(db: Database): OutgoingHooks {
  const { one, all, run } = sqliteQueries(db);
  return {
    async create({ projectId, url, events, format, secretSealed }) {
      const row = one(
        `INSERT INTO outgoing_hooks (id, project_id, url, events, format, secret_sealed, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
        newId(),
        projectId,
        url,
        events.join(","),
        format,
        secretSealed,
        nowIso(),
      );
      if (!row) throw new Error("store: outgoing hook insert returned nothing");
      return toHook(row);
    },
    async list(projectId) {
      return all("SELECT * FROM outgoing_hooks WHERE project_id = ? ORDER BY created_at, id", projectId).map(
        toHook,
      );
    },
    async get(projectId, hookId) {
      const row = one("SELECT * FROM outgoing_hooks WHERE id = ? AND project_id = ?", hookId, projectId);
      return row ? toHook(row) : null;
    },
    async delete(projectId, hookId) {
      return run("DELETE FROM outgoing_hooks WHERE id = ? AND project_id = ?", hookId, projectId).changes > 0;
    },
    async enqueue(projectId, event, payload, at) {
      const hooks = all("SELECT id, events FROM outgoing_hooks WHERE project_id = ?", projectId).filter((h) =>
        str(h, "events").split(",").includes(event),
      );
      db.transaction(() => {
        for (const hook of hooks)
          run(
            `INSERT INTO outgoing_deliveries (id, hook_id, event, payload, status, attempts, next_attempt_at, created_at)
             VALUES (?, ?, ?, ?, 'pending', 0, ?, ?)`,
            newId(),
            str(hook, "id"),
            event,
            payload,
            at,
            at,
          );
      }).immediate();
      return hooks.length;
    },
    async claimDue(holder, now, until, limit) {
      return db
        .transaction(() => {
          const due = all(
            `SELECT id FROM outgoing_deliveries
             WHERE status = 'pending' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
             ORDER BY next_attempt_at, id LIMIT ?`,
            now,
            now,
            limit,
          );
          const claimed: ClaimedDelivery[] = [];
          for (const d of due) {
            run(
              "UPDATE outgoing_deliveries SET lease_holder = ?, lease_until = ? WHERE id = ?",
              holder,
              until,
              str(d, "id"),
            );
            const row = one(
              `SELECT ${CLAIMED} FROM outgoing_deliveries d JOIN outgoing_hooks h ON h.id = d.hook_id WHERE d.id = ?`,
              str(d, "id"),
            );
            if (row) claimed.push(toClaimed(row));
          }
          return claimed;
        })
        .immediate();
    },
    async recordAttempt(deliveryId, holder, attempt, outcome) {
      return db
        .transaction(() => {
          const status = outcome.kind === "retry" ? "pending" : outcome.kind;
          const next = outcome.kind === "retry" ? outcome.at : attempt.at;
          const updated = run(
            `UPDATE outgoing_deliveries SET status = ?, attempts = attempts + 1, next_attempt_at = ?,
               lease_holder = NULL, lease_until = NULL
             WHERE id = ? AND lease_holder = ?`,
            status,
            next,
            deliveryId,
            holder,
          );
          if (updated.changes === 0) return false;
          run(
            `INSERT INTO outgoing_attempts (id, delivery_id, at, status_code, error, duration_ms)
             VALUES (?, ?, ?, ?, ?, ?)`,
            newId(),
            deliveryId,
            attempt.at,
            attempt.statusCode,
            attempt.error,
            attempt.durationMs,
          );
          return true;
        })
        .immediate();
    },
    async deliveries(hookId, limit) {
      const rows = all(
        "SELECT * FROM outgoing_deliveries WHERE hook_id = ? ORDER BY created_at DESC, id DESC LIMIT ?",
        hookId,
        limit,
      );
      return rows.map((row) => ({
        ...toDelivery(row),
        log: all("SELECT * FROM outgoing_attempts WHERE delivery_id = ? ORDER BY at, id", str(row, "id")).map(
          toAttempt,
        ),
      }));
    },
    async redeliver(hookId, deliveryId, now) {
      const row = one(
        `UPDATE outgoing_deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?
         WHERE id = ? AND hook_id = ? RETURNING *`,
        now,
        deliveryId,
        hookId,
      );
      return row ? toDelivery(row) : null;
    },
    async prune(before) {
      return run("DELETE FROM outgoing_deliveries WHERE created_at < ? AND status <> 'pending'", before)
        .changes;
    },
  };
}

// Outgoing webhooks, store: on bun:sqlite; claims, settles and prunes deliveries through the shared outbox
// (outbox-sqlite.ts), logging each attempt in the same transaction as its outcome.

import type { Database } from "bun:sqlite";
import { type OutboxTable, toOutboxFields } from "./outbox.ts";
import { sqliteOutbox } from "./outbox-sqlite.ts";
import type {
  ClaimedDelivery,
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

/** The deliveries' outbox: a finished delivery is dated by its creation (its event). */
export const DELIVERIES_OUTBOX: OutboxTable = { name: "outgoing_deliveries", datedBy: "created_at" };

export const toDelivery = (row: Row): HookDelivery => ({
  ...toOutboxFields(row),
  hookId: str(row, "hook_id"),
  event: str(row, "event") as HookEvent,
  payload: str(row, "payload"),
  createdAt: str(row, "created_at"),
});

/** Claimed delivery rows with what sending them needs of their hooks (a delivery whose hook is gone is dropped). */
export function withHooks(deliveries: Row[], hooks: Row[]): ClaimedDelivery[] {
  const byId = new Map(hooks.map((h) => [str(h, "id"), h]));
  return deliveries.flatMap((row) => {
    const hook = byId.get(str(row, "hook_id"));
    if (!hook) return [];
    const claimed: ClaimedDelivery = {
      ...toDelivery(row),
      url: str(hook, "url"),
      format: str(hook, "format") as HookFormat,
      secretSealed: str(hook, "secret_sealed"),
    };
    return [claimed];
  });
}

export const toAttempt = (row: Row): HookAttempt => ({
  at: str(row, "at"),
  statusCode: row.status_code === null || row.status_code === undefined ? null : Number(row.status_code),
  error: typeof row.error === "string" ? row.error : null,
  durationMs: Number(row.duration_ms),
});

export function sqliteOutgoingHooks(db: Database): OutgoingHooks {
  const { one, all, run } = sqliteQueries(db);
  const outbox = sqliteOutbox(db, DELIVERIES_OUTBOX);
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
      const claimed = outbox.claim(holder, now, until, limit);
      const hookIds = [...new Set(claimed.map((d) => str(d, "hook_id")))];
      const hooks = hookIds.flatMap((id) => {
        const hook = one("SELECT id, url, format, secret_sealed FROM outgoing_hooks WHERE id = ?", id);
        return hook ? [hook] : [];
      });
      return withHooks(claimed, hooks);
    },
    async recordAttempt(deliveryId, holder, attempt, outcome) {
      return db
        .transaction(() => {
          if (!outbox.settle(deliveryId, holder, outcome, attempt.at)) return false;
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
      return outbox.prune(before);
    },
  };
}

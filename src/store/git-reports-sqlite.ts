// Commit statuses and pull-request comments, store: on bun:sqlite; claims, settles and prunes through the shared
// outbox (outbox-sqlite.ts).

import type { Database } from "bun:sqlite";
import type {
  GitProviderKind,
  GitProviderSetting,
  GitReport,
  GitReports,
  ReportKind,
  ReportState,
} from "./git-reports.ts";
import { type OutboxTable, toOutboxFields } from "./outbox.ts";
import { sqliteOutbox } from "./outbox-sqlite.ts";
import { sqliteQueries } from "./query-sqlite.ts";
import { newId, type Row, str } from "./rows.ts";

export const toProvider = (row: Row): GitProviderSetting => ({
  projectId: str(row, "project_id"),
  kind: str(row, "kind") as GitProviderKind,
  apiUrl: str(row, "api_url"),
  repository: row.repository === null || row.repository === undefined ? null : str(row, "repository"),
  tokenSealed: str(row, "token_sealed"),
  tokenHint: str(row, "token_hint"),
  updatedAt: str(row, "updated_at"),
});

/** The reports' outbox: a finished report is dated by its last change. */
export const REPORTS_OUTBOX: OutboxTable = { name: "git_reports", datedBy: "updated_at" };

export const toReport = (row: Row): GitReport => ({
  ...toOutboxFields(row),
  projectId: str(row, "project_id"),
  kind: str(row, "kind") as ReportKind,
  subject: str(row, "subject"),
  deploymentId: str(row, "deployment_id"),
  state: str(row, "state") as ReportState,
  version: Number(row.version),
  lastError: typeof row.last_error === "string" ? row.last_error : null,
  updatedAt: str(row, "updated_at"),
});

/**
 * The upsert both backends share: a newer (or the same) deployment's different state replaces the row and queues
 * it afresh; the same state of the same deployment, or an older deployment's, changes nothing.
 */
export const UPSERT_SQL = `
  INSERT INTO git_reports (id, project_id, kind, subject, deployment_id, deployment_created_at, state, version,
    status, attempts, next_attempt_at, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, 1, 'pending', 0, $8, $8)
  ON CONFLICT (project_id, kind, subject) DO UPDATE SET
    deployment_id = excluded.deployment_id, deployment_created_at = excluded.deployment_created_at,
    state = excluded.state, version = git_reports.version + 1, status = 'pending', attempts = 0,
    next_attempt_at = excluded.next_attempt_at, last_error = NULL, updated_at = excluded.updated_at
  WHERE (excluded.deployment_created_at > git_reports.deployment_created_at
      OR (excluded.deployment_created_at = git_reports.deployment_created_at
        AND excluded.deployment_id >= git_reports.deployment_id))
    AND (excluded.deployment_id <> git_reports.deployment_id OR excluded.state <> git_reports.state)`;

export function sqliteGitReports(db: Database): GitReports {
  const { one, all, run } = sqliteQueries(db);
  const outbox = sqliteOutbox(db, REPORTS_OUTBOX);
  return {
    async provider(projectId) {
      const row = one("SELECT * FROM git_providers WHERE project_id = ?", projectId);
      return row ? toProvider(row) : null;
    },
    async setProvider(s) {
      const row = one(
        `INSERT INTO git_providers (project_id, kind, api_url, repository, token_sealed, token_hint, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (project_id) DO UPDATE SET kind = excluded.kind, api_url = excluded.api_url,
           repository = excluded.repository, token_sealed = excluded.token_sealed,
           token_hint = excluded.token_hint, updated_at = excluded.updated_at
         RETURNING *`,
        s.projectId,
        s.kind,
        s.apiUrl,
        s.repository,
        s.tokenSealed,
        s.tokenHint,
        new Date().toISOString(),
      );
      if (!row) throw new Error("store: git provider upsert returned nothing");
      return toProvider(row);
    },
    async deleteProvider(projectId) {
      return db.transaction(() => {
        run("DELETE FROM git_reports WHERE project_id = ?", projectId);
        return run("DELETE FROM git_providers WHERE project_id = ?", projectId).changes > 0;
      })();
    },
    async upsert(r) {
      const result = run(
        UPSERT_SQL.replace(/\$\d/g, "?"),
        ...[
          newId(),
          r.projectId,
          r.kind,
          r.subject,
          r.deploymentId,
          r.deploymentCreatedAt,
          r.state,
          r.now,
          r.now,
        ],
      );
      return result.changes > 0;
    },
    async claimDue(holder, now, until, limit) {
      return outbox.claim(holder, now, until, limit).map(toReport);
    },
    async finish(id, holder, version, outcome, error, now) {
      // A report that changed while it was sent stays pending, due now, for its new state: only the lease goes.
      return db
        .transaction(
          () =>
            outbox.settle(id, holder, outcome, now, { last_error: error, updated_at: now }, version) ||
            outbox.release(id, holder),
        )
        .immediate();
    },
    async list(projectId, limit) {
      return all(
        "SELECT * FROM git_reports WHERE project_id = ? ORDER BY updated_at DESC, id LIMIT ?",
        projectId,
        limit,
      ).map(toReport);
    },
    async prune(before) {
      return outbox.prune(before);
    },
  };
}

// Store: the deployments repository (src/store/store.ts) on bun:sqlite; its single writer makes claims exclusive.

import type { Database } from "bun:sqlite";
import { branchSlug } from "../model/names.ts";
import { isTerminal, predecessors } from "../model/status.ts";
import { VISIBLE } from "./projects-sqlite.ts";
import { sqliteQueries } from "./query-sqlite.ts";
import {
  decodeCursor,
  hostIdPattern,
  newId,
  nowIso,
  PROJECT_SELECT,
  toDeployment,
  toPage,
  toProject,
} from "./rows.ts";
import type { Deployments } from "./store.ts";

export function sqliteDeployments(db: Database): Deployments {
  const { one, all, run } = sqliteQueries(db);
  return {
    async create(input) {
      const id = input.id ?? newId();
      const at = nowIso();
      run(
        `INSERT INTO deployments (id, project_id, user_id, status, target, branch, branch_slug, commit_sha, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        id,
        input.projectId,
        input.userId,
        input.status,
        input.target,
        input.branch,
        input.branch === null ? null : branchSlug(input.branch),
        input.commitSha,
        at,
        at,
      );
      return toDeployment(one("SELECT * FROM deployments WHERE id = ?", id) ?? {});
    },
    async get(userId, id) {
      const row = one(
        `SELECT d.* FROM deployments d JOIN projects p ON p.id = d.project_id WHERE d.id = ? AND ${VISIBLE}`,
        id,
        userId,
        userId,
      );
      return row ? toDeployment(row) : null;
    },
    async list(userId, projectId, { limit, cursor }, filter = {}) {
      const after = decodeCursor(cursor);
      const where = ["d.project_id = ?", VISIBLE];
      const args: (string | number)[] = [projectId, userId, userId];
      for (const [column, value] of [
        ["branch", filter.branch],
        ["target", filter.target],
        ["status", filter.status],
      ] as const) {
        if (value === undefined) continue;
        where.push(`d.${column} = ?`);
        args.push(value);
      }
      if (after) {
        where.push("(d.created_at < ? OR (d.created_at = ? AND d.id < ?))");
        args.push(after.createdAt, after.createdAt, after.id);
      }
      const rows = all(
        `SELECT d.* FROM deployments d JOIN projects p ON p.id = d.project_id
         WHERE ${where.join(" AND ")} ORDER BY d.created_at DESC, d.id DESC LIMIT ?`,
        ...args,
        limit + 1,
      );
      return toPage(rows.map(toDeployment), limit);
    },
    async transition(id, to, reason) {
      const from = predecessors(to);
      if (from.length === 0) return null;
      const at = nowIso();
      const row = one(
        `UPDATE deployments SET status = ?, status_reason = ?, updated_at = ?,
           started_at = CASE WHEN ? = 'IN_PROGRESS' THEN ? ELSE started_at END,
           finished_at = CASE WHEN ? THEN ? ELSE finished_at END
         WHERE id = ? AND status IN (${from.map(() => "?").join(", ")}) RETURNING *`,
        to,
        reason,
        at,
        to,
        at,
        isTerminal(to),
        at,
        id,
        ...from,
      );
      return row ? toDeployment(row) : null;
    },
    async find(id) {
      const row = one("SELECT * FROM deployments WHERE id = ?", id);
      return row ? toDeployment(row) : null;
    },
    async ofProject(projectId, { limit, cursor }) {
      const after = decodeCursor(cursor);
      const rows = after
        ? all(
            `SELECT * FROM deployments WHERE project_id = ? AND (created_at < ? OR (created_at = ? AND id < ?))
             ORDER BY created_at DESC, id DESC LIMIT ?`,
            projectId,
            after.createdAt,
            after.createdAt,
            after.id,
            limit + 1,
          )
        : all(
            "SELECT * FROM deployments WHERE project_id = ? ORDER BY created_at DESC, id DESC LIMIT ?",
            projectId,
            limit + 1,
          );
      return toPage(rows.map(toDeployment), limit);
    },
    async findByHostId(projectId, hostId) {
      const pattern = hostIdPattern(hostId);
      if (!pattern) return null;
      const row = one(
        `SELECT * FROM deployments WHERE project_id = ? AND id LIKE ? AND status = 'READY' AND expired_at IS NULL
         ORDER BY created_at LIMIT 1`,
        projectId,
        pattern,
      );
      return row ? toDeployment(row) : null;
    },
    async latestForBranch(projectId, slug, truncated) {
      const row = one(
        `SELECT * FROM deployments WHERE project_id = ? AND status = 'READY' AND expired_at IS NULL
           AND (branch_slug = ? OR (? AND substr(branch_slug, 1, length(?)) = ?))
         ORDER BY created_at DESC, id DESC LIMIT 1`,
        projectId,
        slug,
        truncated,
        slug,
        slug,
      );
      return row ? toDeployment(row) : null;
    },
    async claimNext(workerId, at, maxPerUser = 0) {
      // One IMMEDIATE transaction: sqlite has a single writer, so pick-and-claim is exclusive.
      return db
        .transaction(() => {
          const row = one(
            `UPDATE deployments SET status = 'IN_PROGRESS', claimed_by = ?, heartbeat_at = ?, started_at = ?, updated_at = ?
           WHERE id = (
             SELECT d.id FROM deployments d WHERE d.status = 'QUEUED'
               AND NOT EXISTS (SELECT 1 FROM deployments x WHERE x.project_id = d.project_id AND x.status = 'IN_PROGRESS')
               AND (? = 0 OR (SELECT count(*) FROM deployments y WHERE y.user_id = d.user_id AND y.status = 'IN_PROGRESS') < ?)
             ORDER BY d.created_at, d.id LIMIT 1)
           RETURNING *`,
            workerId,
            at,
            at,
            at,
            maxPerUser,
            maxPerUser,
          );
          if (!row) return null;
          const project = one(`${PROJECT_SELECT} WHERE p.id = ?`, String(row.project_id));
          return project ? { deployment: toDeployment(row), project: toProject(project) } : null;
        })
        .immediate();
    },
    async recordCommit(id, sha, details) {
      run(
        `UPDATE deployments SET commit_sha = coalesce(commit_sha, ?), commit_message = coalesce(commit_message, ?),
           commit_author = coalesce(commit_author, ?) WHERE id = ?`,
        sha,
        details?.message ?? null,
        details?.author ?? null,
        id,
      );
    },
    async recordBuildKey(id, key) {
      run("UPDATE deployments SET build_key = ? WHERE id = ?", key, id);
    },
    async findBuilt(projectId, key) {
      const row = one(
        `SELECT * FROM deployments WHERE project_id = ? AND build_key = ? AND status = 'READY'
         ORDER BY created_at DESC, id DESC LIMIT 1`,
        projectId,
        key,
      );
      return row ? toDeployment(row) : null;
    },
    async heartbeat(id, at) {
      run("UPDATE deployments SET heartbeat_at = ? WHERE id = ? AND status = 'IN_PROGRESS'", at, id);
    },
    async markReady(id) {
      return db
        .transaction(() => {
          const at = nowIso();
          const row = one(
            `UPDATE deployments SET status = 'READY', status_reason = NULL, updated_at = ?, finished_at = ?
           WHERE id = ? AND status = 'IN_PROGRESS' RETURNING *`,
            at,
            at,
            id,
          );
          if (!row) return null;
          const ready = toDeployment(row);
          if (ready.target === "production") {
            // Only forward: a slow older build finishing late must not replace a newer production deployment.
            run(
              `UPDATE projects SET previous_production_deployment_id = production_deployment_id,
                 production_deployment_id = ?, updated_at = ?, production_since = ?
             WHERE id = ? AND (production_deployment_id IS NULL OR NOT EXISTS (
               SELECT 1 FROM deployments cur WHERE cur.id = projects.production_deployment_id
                 AND (cur.created_at > ? OR (cur.created_at = ? AND cur.id > ?))))`,
              ready.id,
              at,
              at,
              ready.projectId,
              ready.createdAt,
              ready.createdAt,
              ready.id,
            );
          }
          return ready;
        })
        .immediate();
    },
    async supersede(newer) {
      const rows = all(
        `UPDATE deployments SET status = 'CANCELED', status_reason = ?, updated_at = ?, finished_at = ?
         WHERE project_id = ? AND status = 'QUEUED' AND id <> ? AND branch IS ? AND created_at <= ?
         RETURNING id`,
        `superseded by newer deployment ${newer.id}`,
        nowIso(),
        nowIso(),
        newer.projectId,
        newer.id,
        newer.branch,
        newer.createdAt,
      );
      return rows.map((r) => String(r.id));
    },
    async stale(before, claimedBy) {
      return all(
        `SELECT * FROM deployments WHERE status = 'IN_PROGRESS'
           AND (heartbeat_at IS NULL OR heartbeat_at < ? OR claimed_by = ?) ORDER BY created_at`,
        before,
        claimedBy ?? null,
      ).map(toDeployment);
    },
    async abandoned(before) {
      return all(
        "SELECT * FROM deployments WHERE status = 'NOT_STARTED' AND updated_at < ? ORDER BY created_at",
        before,
      ).map(toDeployment);
    },
    async expirable(before, limit) {
      return all(
        `SELECT d.* FROM deployments d JOIN projects p ON p.id = d.project_id
         WHERE d.target = 'preview' AND d.status = 'READY' AND d.expired_at IS NULL AND d.created_at < ?
           AND d.id IS NOT p.production_deployment_id AND d.id IS NOT p.previous_production_deployment_id
           AND EXISTS (SELECT 1 FROM deployments n WHERE n.project_id = d.project_id AND n.status = 'READY'
             AND n.branch_slug IS d.branch_slug
             AND (n.created_at > d.created_at OR (n.created_at = d.created_at AND n.id > d.id)))
         ORDER BY d.created_at, d.id LIMIT ?`,
        before,
        limit,
      ).map(toDeployment);
    },
    async expire(id) {
      // One statement on sqlite's single writer: a promote lands wholly before or after it.
      const at = nowIso();
      return (
        run(
          `UPDATE deployments SET expired_at = ?, updated_at = ? WHERE id = ? AND expired_at IS NULL
             AND NOT EXISTS (SELECT 1 FROM projects p WHERE p.id = deployments.project_id
               AND (p.production_deployment_id = deployments.id OR p.previous_production_deployment_id = deployments.id))`,
          at,
          at,
          id,
        ).changes > 0
      );
    },
    async countWithStatus(status) {
      return Number(one("SELECT count(*) AS n FROM deployments WHERE status = ?", status)?.n ?? 0);
    },
  };
}

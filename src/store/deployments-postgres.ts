// Store: the deployments repository (src/store/store.ts) on PostgreSQL; claims are serialized by advisory locks.

import type postgres from "postgres";
import { branchSlug } from "../model/names.ts";
import { isTerminal, predecessors } from "../model/status.ts";
import { visible } from "./projects-postgres.ts";
import { first } from "./query-postgres.ts";
import {
  decodeCursor,
  hostIdPattern,
  newId,
  nowIso,
  PROJECT_SELECT,
  type Row,
  toDeployment,
  toPage,
  toProject,
} from "./rows.ts";
import type { Deployments } from "./store.ts";

export function postgresDeployments(sql: postgres.Sql): Deployments {
  return {
    async create(input) {
      const at = nowIso();
      const [row] = await sql<Row[]>`
        INSERT INTO deployments (id, project_id, user_id, status, target, branch, branch_slug, commit_sha, created_at, updated_at)
        VALUES (${input.id ?? newId()}, ${input.projectId}, ${input.userId}, ${input.status}, ${input.target},
                ${input.branch}, ${input.branch === null ? null : branchSlug(input.branch)}, ${input.commitSha}, ${at}, ${at})
        RETURNING *`;
      return toDeployment(row ?? {});
    },
    async get(userId, id) {
      const row = await first(sql<Row[]>`
        SELECT d.* FROM deployments d JOIN projects p ON p.id = d.project_id
        WHERE d.id = ${id} AND ${visible(sql, userId)}`);
      return row ? toDeployment(row) : null;
    },
    async list(userId, projectId, { limit, cursor }, filter = {}) {
      const after = decodeCursor(cursor);
      const rows = await sql<Row[]>`
        SELECT d.* FROM deployments d JOIN projects p ON p.id = d.project_id
        WHERE d.project_id = ${projectId} AND ${visible(sql, userId)}
        ${filter.branch !== undefined ? sql`AND d.branch = ${filter.branch}` : sql``}
        ${filter.target !== undefined ? sql`AND d.target = ${filter.target}` : sql``}
        ${filter.status !== undefined ? sql`AND d.status = ${filter.status}` : sql``}
        ${after ? sql`AND (d.created_at < ${after.createdAt} OR (d.created_at = ${after.createdAt} AND d.id < ${after.id}))` : sql``}
        ORDER BY d.created_at DESC, d.id DESC LIMIT ${limit + 1}`;
      return toPage(rows.map(toDeployment), limit);
    },
    async transition(id, to, reason) {
      const from = predecessors(to);
      if (from.length === 0) return null;
      const at = nowIso();
      // One statement: the status check and the write are atomic, so concurrent callers cannot both win.
      const row = await first(sql<Row[]>`
        UPDATE deployments SET status = ${to}, status_reason = ${reason}, updated_at = ${at},
          started_at = ${to === "IN_PROGRESS" ? sql`${at}` : sql`started_at`},
          finished_at = ${isTerminal(to) ? sql`${at}` : sql`finished_at`}
        WHERE id = ${id} AND status IN ${sql([...from])} RETURNING *`);
      return row ? toDeployment(row) : null;
    },
    async find(id) {
      const row = await first(sql<Row[]>`SELECT * FROM deployments WHERE id = ${id}`);
      return row ? toDeployment(row) : null;
    },
    async ofProject(projectId, { limit, cursor }) {
      const after = decodeCursor(cursor);
      const rows = await sql<Row[]>`
        SELECT * FROM deployments WHERE project_id = ${projectId}
        ${after ? sql`AND (created_at < ${after.createdAt} OR (created_at = ${after.createdAt} AND id < ${after.id}))` : sql``}
        ORDER BY created_at DESC, id DESC LIMIT ${limit + 1}`;
      return toPage(rows.map(toDeployment), limit);
    },
    async findByHostId(projectId, hostId) {
      const pattern = hostIdPattern(hostId);
      if (!pattern) return null;
      const row = await first(sql<Row[]>`
        SELECT * FROM deployments WHERE project_id = ${projectId} AND id LIKE ${pattern} AND status = 'READY'
          AND expired_at IS NULL
        ORDER BY created_at LIMIT 1`);
      return row ? toDeployment(row) : null;
    },
    async latestForBranch(projectId, slug, truncated) {
      const row = await first(sql<Row[]>`
        SELECT * FROM deployments WHERE project_id = ${projectId} AND status = 'READY' AND expired_at IS NULL
          AND (branch_slug = ${slug} OR (${truncated} AND left(branch_slug, ${slug.length}) = ${slug}))
        ORDER BY created_at DESC, id DESC LIMIT 1`);
      return row ? toDeployment(row) : null;
    },
    async claimNext(workerId, at, maxPerUser = 0) {
      return sql.begin(async (tx) => {
        // Users at their limit are left out here already, so their backlog cannot fill the 20 candidates.
        const candidates = await tx<Row[]>`
          SELECT d.id, d.project_id, d.user_id FROM deployments d WHERE d.status = 'QUEUED'
            AND NOT EXISTS (SELECT 1 FROM deployments x WHERE x.project_id = d.project_id AND x.status = 'IN_PROGRESS')
            AND (${maxPerUser}::int = 0 OR (SELECT count(*) FROM deployments y
                 WHERE y.user_id = d.user_id AND y.status = 'IN_PROGRESS') < ${maxPerUser}::int)
          ORDER BY d.created_at, d.id LIMIT 20`;
        for (const candidate of candidates) {
          const projectId = String(candidate.project_id);
          const userId = String(candidate.user_id);
          // One claimer per project at a time, across processes; others skip to another project.
          const [lock] = await tx<
            Row[]
          >`SELECT pg_try_advisory_xact_lock(hashtext(${`claim:${projectId}`})) AS ok`;
          if (lock?.ok !== true) continue;
          // And per user, with a limit: the count below must not change under us until this transaction ends.
          if (maxPerUser > 0) {
            const [own] = await tx<
              Row[]
            >`SELECT pg_try_advisory_xact_lock(hashtext(${`claim-user:${userId}`})) AS ok`;
            if (own?.ok !== true) continue;
          }
          // A statement of its own after the locks: under READ COMMITTED it sees every claim committed before them.
          const row = await first(tx<Row[]>`
            UPDATE deployments SET status = 'IN_PROGRESS', claimed_by = ${workerId}, heartbeat_at = ${at},
              started_at = ${at}, updated_at = ${at}
            WHERE id = ${String(candidate.id)} AND status = 'QUEUED'
              AND NOT EXISTS (SELECT 1 FROM deployments x WHERE x.project_id = ${projectId} AND x.status = 'IN_PROGRESS')
              AND (${maxPerUser}::int = 0 OR (SELECT count(*) FROM deployments y
                   WHERE y.user_id = ${userId} AND y.status = 'IN_PROGRESS') < ${maxPerUser}::int)
            RETURNING *`);
          if (!row) continue;
          const project = await first(tx<Row[]>`${tx.unsafe(PROJECT_SELECT)} WHERE p.id = ${projectId}`);
          if (project) return { deployment: toDeployment(row), project: toProject(project) };
        }
        return null;
      });
    },
    async recordCommit(id, sha, details) {
      await sql`UPDATE deployments SET commit_sha = coalesce(commit_sha, ${sha}),
        commit_message = coalesce(commit_message, ${details?.message ?? null}),
        commit_author = coalesce(commit_author, ${details?.author ?? null}) WHERE id = ${id}`;
    },
    async recordBuildKey(id, key) {
      await sql`UPDATE deployments SET build_key = ${key} WHERE id = ${id}`;
    },
    async findBuilt(projectId, key) {
      const row = await first(sql<Row[]>`
        SELECT * FROM deployments WHERE project_id = ${projectId} AND build_key = ${key} AND status = 'READY'
        ORDER BY created_at DESC, id DESC LIMIT 1`);
      return row ? toDeployment(row) : null;
    },
    async heartbeat(id, at) {
      await sql`UPDATE deployments SET heartbeat_at = ${at} WHERE id = ${id} AND status = 'IN_PROGRESS'`;
    },
    async markReady(id) {
      return sql.begin(async (tx) => {
        const at = nowIso();
        const row = await first(tx<Row[]>`
          UPDATE deployments SET status = 'READY', status_reason = NULL, updated_at = ${at}, finished_at = ${at}
          WHERE id = ${id} AND status = 'IN_PROGRESS' RETURNING *`);
        if (!row) return null;
        const ready = toDeployment(row);
        if (ready.target === "production") {
          // Only forward: a slow older build finishing late must not replace a newer production deployment.
          await tx`
            UPDATE projects SET previous_production_deployment_id = production_deployment_id,
              production_deployment_id = ${ready.id}, updated_at = ${at}, production_since = ${at}
            WHERE id = ${ready.projectId} AND (production_deployment_id IS NULL OR NOT EXISTS (
              SELECT 1 FROM deployments cur WHERE cur.id = projects.production_deployment_id
                AND (cur.created_at > ${ready.createdAt} OR (cur.created_at = ${ready.createdAt} AND cur.id > ${ready.id}))))`;
        }
        return ready;
      });
    },
    async supersede(newer) {
      const at = nowIso();
      const rows = await sql<Row[]>`
        UPDATE deployments SET status = 'CANCELED', status_reason = ${`superseded by newer deployment ${newer.id}`},
          updated_at = ${at}, finished_at = ${at}
        WHERE project_id = ${newer.projectId} AND status = 'QUEUED' AND id <> ${newer.id}
          AND branch IS NOT DISTINCT FROM ${newer.branch} AND created_at <= ${newer.createdAt}
        RETURNING id`;
      return rows.map((r) => String(r.id));
    },
    async stale(before, claimedBy) {
      const rows = await sql<Row[]>`
        SELECT * FROM deployments WHERE status = 'IN_PROGRESS'
          AND (heartbeat_at IS NULL OR heartbeat_at < ${before} OR claimed_by = ${claimedBy ?? null})
        ORDER BY created_at`;
      return rows.map(toDeployment);
    },
    async abandoned(before) {
      const rows = await sql<Row[]>`
        SELECT * FROM deployments WHERE status = 'NOT_STARTED' AND updated_at < ${before} ORDER BY created_at`;
      return rows.map(toDeployment);
    },
    async expirable(before, limit) {
      const rows = await sql<Row[]>`
        SELECT d.* FROM deployments d JOIN projects p ON p.id = d.project_id
        WHERE d.target = 'preview' AND d.status = 'READY' AND d.expired_at IS NULL AND d.created_at < ${before}
          AND d.id IS DISTINCT FROM p.production_deployment_id
          AND d.id IS DISTINCT FROM p.previous_production_deployment_id
          AND EXISTS (SELECT 1 FROM deployments n WHERE n.project_id = d.project_id AND n.status = 'READY'
            AND n.branch_slug IS NOT DISTINCT FROM d.branch_slug
            AND (n.created_at > d.created_at OR (n.created_at = d.created_at AND n.id > d.id)))
        ORDER BY d.created_at, d.id LIMIT ${limit}`;
      return rows.map(toDeployment);
    },
    async expire(id) {
      return sql.begin(async (tx) => {
        // The deployment's row lock, then a fresh look at its project: promote() takes the same lock first, so
        // a promote either committed before this look (and is seen) or waits and then sees expired_at.
        const row = await first(
          tx<Row[]>`SELECT project_id FROM deployments WHERE id = ${id} AND expired_at IS NULL FOR UPDATE`,
        );
        if (!row) return false;
        const pointer = await first(tx<Row[]>`
          SELECT 1 FROM projects WHERE id = ${String(row.project_id)}
            AND (production_deployment_id = ${id} OR previous_production_deployment_id = ${id})`);
        if (pointer) return false;
        const at = nowIso();
        await tx`UPDATE deployments SET expired_at = ${at}, updated_at = ${at} WHERE id = ${id}`;
        return true;
      });
    },
    async countWithStatus(status) {
      const row = await first(sql<Row[]>`SELECT count(*) AS n FROM deployments WHERE status = ${status}`);
      return Number(row?.n ?? 0);
    },
  };
}

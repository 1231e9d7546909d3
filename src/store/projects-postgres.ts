// Store: the projects repository (src/store/store.ts) on PostgreSQL.

import type postgres from "postgres";
import { projectLimit } from "../errors.ts";
import type { ProjectSettings } from "../model/entities.ts";
import { lockDomains, postgresDomainClaims } from "./domains-postgres.ts";
import { first, uniqueViolation } from "./query-postgres.ts";
import {
  decodeCursor,
  newDomainToken,
  newId,
  nowIso,
  PROJECT_COLUMNS,
  PROJECT_SELECT,
  type Row,
  routeDomains,
  toPage,
  toProject,
  toRoute,
} from "./rows.ts";
import type { Projects } from "./store.ts";

/**
 * Whom a project `p` is visible to: its owner while it is personal, every member of its team while it is a
 * team's. What each may do with it is decided by role in src/deploy/access.ts.
 */
export const visible = (sql: postgres.Sql | postgres.TransactionSql, userId: string) =>
  sql`(p.team_id IS NULL AND p.user_id = ${userId}
       OR p.team_id IN (SELECT team_id FROM team_members WHERE user_id = ${userId}))`;

/** The projects of a scope (MAX_PROJECTS_PER_USER): the team's, or the user's personal ones. */
const countIn = (tx: postgres.Sql | postgres.TransactionSql, userId: string, teamId: string | null) =>
  teamId
    ? tx<Row[]>`SELECT count(*) AS n FROM projects WHERE team_id = ${teamId}`
    : tx<Row[]>`SELECT count(*) AS n FROM projects WHERE user_id = ${userId} AND team_id IS NULL`;

export function postgresProjects(sql: postgres.Sql): Projects {
  /** Settings (camelCase) plus fixed columns -> an insert/update helper; names come from PROJECT_COLUMNS only. */
  const projectColumns = (settings: Partial<ProjectSettings>, fixed: Record<string, string>) => {
    const values: Record<string, string | number | boolean | null> = { ...fixed };
    for (const k of Object.keys(settings) as (keyof ProjectSettings)[]) {
      if (k in PROJECT_COLUMNS) {
        const key = k as keyof typeof PROJECT_COLUMNS;
        values[PROJECT_COLUMNS[key]] = settings[key] ?? null;
      }
    }
    return sql(values, ...Object.keys(values));
  };

  /** A project row as the repository returns it, with its primary domain (rows.ts, PROJECT_SELECT). */
  const read = (tx: postgres.Sql | postgres.TransactionSql, id: string) =>
    first(tx<Row[]>`${tx.unsafe(PROJECT_SELECT)} WHERE p.id = ${id}`);

  return {
    async create(
      { userId, protection, teamId, customDomain, ...input },
      maxPerUser = 0,
      { trustDomain = false, maxDomains = 0 } = {},
    ) {
      const id = newId();
      const at = nowIso();
      const columns = projectColumns(input, {
        ...(protection && { protection }),
        ...(teamId && { team_id: teamId }),
        id,
        user_id: userId,
        created_at: at,
        updated_at: at,
        domain_token: newDomainToken(),
      });
      try {
        return await sql.begin(async (tx) => {
          if (maxPerUser > 0) {
            // Creations in one scope queue here (across processes), so each counts the ones before it.
            const scope = teamId ? `projects:team:${teamId}` : `projects:${userId}`;
            await tx`SELECT pg_advisory_xact_lock(hashtext(${scope}))`;
            const [owned] = await countIn(tx, userId, teamId ?? null);
            if (Number(owned?.n) >= maxPerUser) throw projectLimit(maxPerUser, Boolean(teamId));
          }
          if (customDomain) await lockDomains(tx);
          await tx`INSERT INTO projects ${columns}`;
          if (customDomain)
            await postgresDomainClaims.setPrimary(tx, id, customDomain, trustDomain, maxDomains);
          return toProject((await read(tx, id)) ?? {});
        });
      } catch (e) {
        uniqueViolation(e);
      }
    },
    async get(userId, id) {
      const row = await first(
        sql<Row[]>`${sql.unsafe(PROJECT_SELECT)} WHERE p.id = ${id} AND ${visible(sql, userId)}`,
      );
      return row ? toProject(row) : null;
    },
    async list(userId, { limit, cursor }, teamId = null) {
      const after = decodeCursor(cursor);
      // A team's projects, to its members; else the user's personal ones.
      const scope = teamId
        ? sql`p.team_id = ${teamId}
            AND EXISTS (SELECT 1 FROM team_members m WHERE m.team_id = ${teamId} AND m.user_id = ${userId})`
        : sql`p.user_id = ${userId} AND p.team_id IS NULL`;
      const rows = await sql<Row[]>`
        ${sql.unsafe(PROJECT_SELECT)} WHERE ${scope}
        ${after ? sql`AND (p.created_at < ${after.createdAt} OR (p.created_at = ${after.createdAt} AND p.id < ${after.id}))` : sql``}
        ORDER BY p.created_at DESC, p.id DESC LIMIT ${limit + 1}`;
      return toPage(rows.map(toProject), limit);
    },
    async update(userId, id, patch, { trustDomain = false, maxDomains = 0 } = {}) {
      const columns = projectColumns(patch, { updated_at: nowIso() });
      const domain = patch.customDomain;
      try {
        return await sql.begin(async (tx) => {
          if (domain !== undefined) await lockDomains(tx);
          const row = await first(tx<Row[]>`
            UPDATE projects p SET ${columns}
            WHERE id = ${id} AND ${visible(tx, userId)} RETURNING id`);
          if (!row) return null;
          // Only a save that sets the domain claims it: other changes never fail on, or displace, a claim.
          if (domain !== undefined)
            await postgresDomainClaims.setPrimary(tx, id, domain, trustDomain, maxDomains);
          const saved = await read(tx, id);
          return saved ? toProject(saved) : null;
        });
      } catch (e) {
        uniqueViolation(e);
      }
    },
    async delete(userId, id) {
      const result = await sql`DELETE FROM projects p WHERE id = ${id} AND ${visible(sql, userId)}`;
      return result.count > 0;
    },
    async transfer(id, to, maxPerScope = 0) {
      return sql.begin(async (tx) => {
        // A team being deleted holds its row lock (src/store/teams-postgres.ts): a project cannot move in meanwhile.
        if (to.teamId) await tx`SELECT 1 FROM teams WHERE id = ${to.teamId} FOR SHARE`;
        if (maxPerScope > 0) {
          // The destination's creations and transfers queue on the same lock as create's.
          const scope = to.teamId ? `projects:team:${to.teamId}` : `projects:${to.userId}`;
          await tx`SELECT pg_advisory_xact_lock(hashtext(${scope}))`;
          const [held] = await countIn(tx, to.userId, to.teamId);
          if (Number(held?.n) >= maxPerScope) throw projectLimit(maxPerScope, Boolean(to.teamId));
        }
        const row = await first(tx<Row[]>`
          UPDATE projects SET team_id = ${to.teamId}, user_id = ${to.userId}, updated_at = ${nowIso()}
          WHERE id = ${id} RETURNING id`);
        const moved = row && (await read(tx, id));
        return moved ? toProject(moved) : null;
      });
    },
    async count(userId, teamId = null) {
      const [row] = await countIn(sql, userId, teamId);
      return Number(row?.n ?? 0);
    },
    async find(id) {
      const row = await read(sql, id);
      return row ? toProject(row) : null;
    },
    async routes() {
      // One snapshot: a domain verified between the two reads would otherwise miss its project's route.
      return sql.begin("ISOLATION LEVEL REPEATABLE READ READ ONLY", async (tx) => {
        const domains = routeDomains(
          await tx<Row[]>`
            SELECT project_id, domain, redirect_to, redirect_status, created_at FROM project_domains
            WHERE verified_at IS NOT NULL ORDER BY project_id, position`,
        );
        const rows = await tx<
          Row[]
        >`SELECT id, sub_domain, production_deployment_id, spa_fallback FROM projects`;
        return rows.map((row) => toRoute(row, domains.get(String(row.id)) ?? []));
      });
    },
    async promote(projectId, deploymentId) {
      return sql.begin(async (tx) => {
        // The deployment's row lock first, as expire() takes it: a concurrent expiry lands wholly before or after.
        await tx`SELECT 1 FROM deployments WHERE id = ${deploymentId} FOR SHARE`;
        const at = nowIso();
        const row = await first(tx<Row[]>`
          UPDATE projects SET previous_production_deployment_id = production_deployment_id,
            production_deployment_id = ${deploymentId}, updated_at = ${at}, production_since = ${at}
          WHERE id = ${projectId} AND production_deployment_id IS DISTINCT FROM ${deploymentId}
            AND EXISTS (SELECT 1 FROM deployments d WHERE d.id = ${deploymentId} AND d.project_id = ${projectId}
              AND d.status = 'READY' AND d.expired_at IS NULL)
          RETURNING id`);
        const promoted = row && (await read(tx, projectId));
        if (promoted) return toProject(promoted);
        // Already production: a no-op success; anything else (not READY, not this project's) is refused.
        const current = await first(
          tx<
            Row[]
          >`${tx.unsafe(PROJECT_SELECT)} WHERE p.id = ${projectId} AND p.production_deployment_id = ${deploymentId}`,
        );
        return current ? toProject(current) : null;
      });
    },
    async rollback(projectId) {
      const at = nowIso();
      const row = await first(sql<Row[]>`
        UPDATE projects SET production_deployment_id = previous_production_deployment_id,
          previous_production_deployment_id = production_deployment_id, updated_at = ${at}, production_since = ${at}
        WHERE id = ${projectId} AND previous_production_deployment_id IS NOT NULL RETURNING id`);
      const rolled = row && (await read(sql, projectId));
      return rolled ? toProject(rolled) : null;
    },
    async markDomainVerified(projectId, domain) {
      try {
        return await sql.begin(async (tx) => {
          await lockDomains(tx);
          const verified = await postgresDomainClaims.verify(
            tx,
            projectId,
            domain.toLowerCase(),
            "customDomain",
          );
          const row = verified && (await read(tx, projectId));
          return row && verified ? { project: toProject(row), displaced: verified.displaced } : null;
        });
      } catch (e) {
        uniqueViolation(e);
      }
    },
  };
}

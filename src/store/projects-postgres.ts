// Store: the projects repository (src/store/store.ts) on PostgreSQL.

import type postgres from "postgres";
import { domainTaken, projectLimit } from "../errors.ts";
import type { ProjectSettings } from "../model/entities.ts";
import { first, uniqueViolation } from "./query-postgres.ts";
import {
  decodeCursor,
  newDomainToken,
  newId,
  nowIso,
  PROJECT_COLUMNS,
  type Row,
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

export function postgresProjects(sql: postgres.Sql): Projects {
  /** Settings (camelCase) plus fixed columns -> an insert/update helper; names come from PROJECT_COLUMNS only. */
  const projectColumns = (settings: Partial<ProjectSettings>, fixed: Record<string, string>) => {
    const values: Record<string, string | number | boolean | null> = { ...fixed };
    for (const k of Object.keys(settings) as (keyof ProjectSettings)[]) {
      if (k in PROJECT_COLUMNS) values[PROJECT_COLUMNS[k]] = settings[k] ?? null;
    }
    return sql(values, ...Object.keys(values));
  };

  /**
   * Serializes everything that claims or verifies a custom domain (across processes) until the transaction ends:
   * a save then sees a verification that committed before it, and of two verifications the second sees the
   * first. One lock for all domains, not one per domain: a save that moves a project from one domain to another
   * while another project moves the other way would otherwise wait on each other's rows (a deadlock). Domain
   * changes are rare, and the lock is held for a few statements.
   */
  const lockDomains = (tx: postgres.TransactionSql) =>
    tx`SELECT pg_advisory_xact_lock(hashtext(${"minivercel:custom-domains"}))`;

  /** Whether a project other than `id` holds `domain` verified (the claims in src/store/store.ts, Projects). */
  const verifiedElsewhere = async (tx: postgres.TransactionSql, id: string, domain: string) =>
    (await first(tx<Row[]>`
      SELECT id FROM projects WHERE id <> ${id} AND lower(custom_domain) = lower(${domain})
        AND verified_domain = custom_domain LIMIT 1`)) !== null;

  /** `id` now holds `domain` verified: the other projects' unverified claims and old proofs of it go. */
  const displace = async (tx: postgres.TransactionSql, id: string, domain: string): Promise<string[]> => {
    const claims = await tx<Row[]>`
      UPDATE projects SET custom_domain = NULL, updated_at = ${nowIso()}
      WHERE id <> ${id} AND lower(custom_domain) = lower(${domain})
        AND verified_domain IS DISTINCT FROM custom_domain RETURNING id`;
    const proofs = await tx<Row[]>`
      UPDATE projects SET verified_domain = NULL, domain_verified_at = NULL
      WHERE id <> ${id} AND lower(verified_domain) = lower(${domain})
        AND custom_domain IS DISTINCT FROM verified_domain RETURNING id`;
    return [...new Set([...claims, ...proofs].map((r) => String(r.id)))];
  };

  /**
   * After a save that set the custom domain, in its transaction (holding lockDomains): refused when another
   * project holds the domain verified; trusted at once with `trust`; a claim that is verified now (trusted, or a
   * domain the project proved before) displaces the others.
   */
  const settleDomain = async (tx: postgres.TransactionSql, row: Row, trust: boolean): Promise<Row> => {
    const id = String(row.id);
    const domain = row.custom_domain;
    if (typeof domain !== "string") return row;
    if (await verifiedElsewhere(tx, id, domain)) throw domainTaken();
    const settled =
      trust && row.verified_domain !== domain
        ? ((await first(tx<Row[]>`
            UPDATE projects SET verified_domain = custom_domain, domain_verified_at = ${nowIso()}
            WHERE id = ${id} RETURNING *`)) ?? row)
        : row;
    if (settled.verified_domain === domain) await displace(tx, id, domain);
    return settled;
  };

  return {
    async create({ userId, protection, teamId, ...input }, maxPerUser = 0, { trustDomain = false } = {}) {
      const at = nowIso();
      const columns = projectColumns(input, {
        ...(protection && { protection }),
        ...(teamId && { team_id: teamId }),
        id: newId(),
        user_id: userId,
        created_at: at,
        updated_at: at,
        domain_token: newDomainToken(),
      });
      try {
        return await sql.begin(async (tx) => {
          if (maxPerUser > 0) {
            // Creations of one user queue here (across processes), so each counts the ones before it.
            await tx`SELECT pg_advisory_xact_lock(hashtext(${`projects:${userId}`}))`;
            const [owned] = await tx<Row[]>`SELECT count(*) AS n FROM projects WHERE user_id = ${userId}`;
            if (Number(owned?.n) >= maxPerUser) throw projectLimit(maxPerUser);
          }
          if (input.customDomain !== null) await lockDomains(tx);
          const [row] = await tx<Row[]>`INSERT INTO projects ${columns} RETURNING *`;
          return toProject(await settleDomain(tx, row ?? {}, trustDomain));
        });
      } catch (e) {
        uniqueViolation(e);
      }
    },
    async get(userId, id) {
      const row = await first(
        sql<Row[]>`SELECT * FROM projects p WHERE id = ${id} AND ${visible(sql, userId)}`,
      );
      return row ? toProject(row) : null;
    },
    async list(userId, { limit, cursor }, teamId = null) {
      const after = decodeCursor(cursor);
      // A team's projects, to its members; else the user's personal ones.
      const scope = teamId
        ? sql`team_id = ${teamId}
            AND EXISTS (SELECT 1 FROM team_members m WHERE m.team_id = ${teamId} AND m.user_id = ${userId})`
        : sql`user_id = ${userId} AND team_id IS NULL`;
      const rows = await sql<Row[]>`
        SELECT * FROM projects WHERE ${scope}
        ${after ? sql`AND (created_at < ${after.createdAt} OR (created_at = ${after.createdAt} AND id < ${after.id}))` : sql``}
        ORDER BY created_at DESC, id DESC LIMIT ${limit + 1}`;
      return toPage(rows.map(toProject), limit);
    },
    async update(userId, id, patch, { trustDomain = false } = {}) {
      const columns = projectColumns(patch, { updated_at: nowIso() });
      const domain = patch.customDomain;
      try {
        return await sql.begin(async (tx) => {
          if (domain) await lockDomains(tx);
          const row = await first(tx<Row[]>`
            UPDATE projects p SET ${columns}
            WHERE id = ${id} AND ${visible(tx, userId)} RETURNING *`);
          if (!row) return null;
          // Only a save that sets the domain claims it: other changes never fail on, or displace, a claim.
          return toProject(domain ? await settleDomain(tx, row, trustDomain) : row);
        });
      } catch (e) {
        uniqueViolation(e);
      }
    },
    async delete(userId, id) {
      const result = await sql`DELETE FROM projects p WHERE id = ${id} AND ${visible(sql, userId)}`;
      return result.count > 0;
    },
    async transfer(id, to) {
      return sql.begin(async (tx) => {
        // A team being deleted holds its row lock (src/store/teams-postgres.ts): a project cannot move in meanwhile.
        if (to.teamId) await tx`SELECT 1 FROM teams WHERE id = ${to.teamId} FOR SHARE`;
        const row = await first(tx<Row[]>`
          UPDATE projects SET team_id = ${to.teamId}, user_id = ${to.userId}, updated_at = ${nowIso()}
          WHERE id = ${id} RETURNING *`);
        return row ? toProject(row) : null;
      });
    },
    async count(userId) {
      const row = await first(sql<Row[]>`SELECT count(*) AS n FROM projects WHERE user_id = ${userId}`);
      return Number(row?.n ?? 0);
    },
    async find(id) {
      const row = await first(sql<Row[]>`SELECT * FROM projects WHERE id = ${id}`);
      return row ? toProject(row) : null;
    },
    async routes() {
      const rows = await sql<Row[]>`
        SELECT id, sub_domain, custom_domain, verified_domain, domain_verified_at, production_deployment_id,
          spa_fallback FROM projects`;
      return rows.map(toRoute);
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
          RETURNING *`);
        if (row) return toProject(row);
        // Already production: a no-op success; anything else (not READY, not this project's) is refused.
        const current = await first(
          tx<
            Row[]
          >`SELECT * FROM projects WHERE id = ${projectId} AND production_deployment_id = ${deploymentId}`,
        );
        return current ? toProject(current) : null;
      });
    },
    async rollback(projectId) {
      const at = nowIso();
      const row = await first(sql<Row[]>`
        UPDATE projects SET production_deployment_id = previous_production_deployment_id,
          previous_production_deployment_id = production_deployment_id, updated_at = ${at}, production_since = ${at}
        WHERE id = ${projectId} AND previous_production_deployment_id IS NOT NULL RETURNING *`);
      return row ? toProject(row) : null;
    },
    async markDomainVerified(projectId, domain) {
      try {
        return await sql.begin(async (tx) => {
          await lockDomains(tx);
          if (await verifiedElsewhere(tx, projectId, domain)) throw domainTaken();
          const row = await first(tx<Row[]>`
            UPDATE projects SET verified_domain = custom_domain, domain_verified_at = ${nowIso()}
            WHERE id = ${projectId} AND custom_domain = ${domain} RETURNING *`);
          return row ? { project: toProject(row), displaced: await displace(tx, projectId, domain) } : null;
        });
      } catch (e) {
        uniqueViolation(e);
      }
    },
  };
}

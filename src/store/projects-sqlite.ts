// Store: the projects repository (src/store/store.ts) on bun:sqlite.

import type { Database } from "bun:sqlite";
import { domainTaken, projectLimit } from "../errors.ts";
import type { ProjectSettings } from "../model/entities.ts";
import { type Params, sqliteQueries, uniqueViolation } from "./query-sqlite.ts";
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
 * Whom a project `p` is visible to (two parameters: the user, twice): its owner while it is personal, every member
 * of its team while it is a team's. What each may do with it is decided by role in src/deploy/access.ts.
 */
export const VISIBLE =
  "((p.team_id IS NULL AND p.user_id = ?) OR p.team_id IN (SELECT team_id FROM team_members WHERE user_id = ?))";

export function sqliteProjects(db: Database): Projects {
  const { one, all, run } = sqliteQueries(db);

  /** Whether a project other than `id` holds `domain` verified (the claims in src/store/store.ts, Projects). */
  const verifiedElsewhere = (id: string, domain: string) =>
    one(
      `SELECT id FROM projects WHERE id <> ? AND lower(custom_domain) = lower(?) AND verified_domain = custom_domain
       LIMIT 1`,
      id,
      domain,
    ) !== null;

  /** `id` now holds `domain` verified: the other projects' unverified claims and old proofs of it go. */
  const displace = (id: string, domain: string): string[] => {
    const claims = all(
      `UPDATE projects SET custom_domain = NULL, updated_at = ?
       WHERE id <> ? AND lower(custom_domain) = lower(?) AND verified_domain IS NOT custom_domain RETURNING id`,
      nowIso(),
      id,
      domain,
    );
    const proofs = all(
      `UPDATE projects SET verified_domain = NULL, domain_verified_at = NULL
       WHERE id <> ? AND lower(verified_domain) = lower(?) AND custom_domain IS NOT verified_domain RETURNING id`,
      id,
      domain,
    );
    return [...new Set([...claims, ...proofs].map((r) => String(r.id)))];
  };

  /**
   * After a save that set the custom domain, in its transaction: refused when another project holds the domain
   * verified; trusted at once with `trust`; a claim that is verified now (trusted, or a domain the project
   * proved before) displaces the others.
   */
  const settleDomain = (row: Row, trust: boolean): Row => {
    const id = String(row.id);
    const domain = row.custom_domain;
    if (typeof domain !== "string") return row;
    if (verifiedElsewhere(id, domain)) throw domainTaken();
    const settled =
      trust && row.verified_domain !== domain
        ? (one(
            "UPDATE projects SET verified_domain = custom_domain, domain_verified_at = ? WHERE id = ? RETURNING *",
            nowIso(),
            id,
          ) ?? row)
        : row;
    if (settled.verified_domain === domain) displace(id, domain);
    return settled;
  };

  return {
    async create(input, maxPerUser = 0, { trustDomain = false } = {}) {
      const id = newId();
      const at = nowIso();
      // Settings left undefined take the column's default (as in Postgres): a database still on an older schema
      // (the migration tests) never hears of newer columns.
      const keys = (Object.keys(PROJECT_COLUMNS) as (keyof ProjectSettings)[]).filter(
        (k) => input[k] !== undefined,
      );
      const columns = [
        "id",
        "user_id",
        "created_at",
        "updated_at",
        "domain_token",
        ...keys.map((k) => PROJECT_COLUMNS[k]),
        // Named only when set: the column's default ('none') covers the rest (and schemas before 19, in tests).
        ...(input.protection ? ["protection"] : []),
        ...(input.teamId ? ["team_id"] : []),
      ];
      const values: Params = [
        id,
        input.userId,
        at,
        at,
        newDomainToken(),
        ...keys.map((k) => input[k]),
        ...(input.protection ? [input.protection] : []),
        ...(input.teamId ? [input.teamId] : []),
      ];
      // The count and the insert in one transaction: concurrent creations cannot both take the last place.
      const insert = db.transaction(() => {
        const owned = Number(one("SELECT count(*) AS n FROM projects WHERE user_id = ?", input.userId)?.n);
        if (maxPerUser > 0 && owned >= maxPerUser) throw projectLimit(maxPerUser);
        const row = one(
          `INSERT INTO projects (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")}) RETURNING *`,
          ...values,
        );
        return settleDomain(row ?? {}, trustDomain);
      });
      try {
        return toProject(insert.immediate());
      } catch (e) {
        uniqueViolation(e);
      }
    },
    async get(userId, id) {
      const row = one(`SELECT * FROM projects p WHERE id = ? AND ${VISIBLE}`, id, userId, userId);
      return row ? toProject(row) : null;
    },
    async list(userId, { limit, cursor }, teamId = null) {
      const after = decodeCursor(cursor);
      // A team's projects, to its members; else the user's personal ones.
      const scope = teamId
        ? {
            where:
              "team_id = ? AND EXISTS (SELECT 1 FROM team_members m WHERE m.team_id = ? AND m.user_id = ?)",
            args: [teamId, teamId, userId],
          }
        : { where: "user_id = ? AND team_id IS NULL", args: [userId] };
      const rows = after
        ? all(
            `SELECT * FROM projects WHERE ${scope.where} AND (created_at < ? OR (created_at = ? AND id < ?))
             ORDER BY created_at DESC, id DESC LIMIT ?`,
            ...scope.args,
            after.createdAt,
            after.createdAt,
            after.id,
            limit + 1,
          )
        : all(
            `SELECT * FROM projects WHERE ${scope.where} ORDER BY created_at DESC, id DESC LIMIT ?`,
            ...scope.args,
            limit + 1,
          );
      return toPage(rows.map(toProject), limit);
    },
    async transfer(id, to) {
      const row = one(
        "UPDATE projects SET team_id = ?, user_id = ?, updated_at = ? WHERE id = ? RETURNING *",
        to.teamId,
        to.userId,
        nowIso(),
        id,
      );
      return row ? toProject(row) : null;
    },
    async update(userId, id, patch, { trustDomain = false } = {}) {
      const keys = (Object.keys(patch) as (keyof ProjectSettings)[]).filter((k) => k in PROJECT_COLUMNS);
      // Column names come from the fixed PROJECT_COLUMNS map, never from input.
      const sets = [...keys.map((k) => `${PROJECT_COLUMNS[k]} = ?`), "updated_at = ?"];
      const values: Params = [...keys.map((k) => patch[k] ?? null), nowIso(), id, userId, userId];
      const save = db.transaction(() => {
        const row = one(
          `UPDATE projects AS p SET ${sets.join(", ")} WHERE id = ? AND ${VISIBLE} RETURNING *`,
          ...values,
        );
        // Only a save that sets the domain claims it: other changes never fail on, or displace, a claim.
        return row && keys.includes("customDomain") ? settleDomain(row, trustDomain) : row;
      });
      try {
        const row = save.immediate();
        return row ? toProject(row) : null;
      } catch (e) {
        uniqueViolation(e);
      }
    },
    async delete(userId, id) {
      return run(`DELETE FROM projects AS p WHERE id = ? AND ${VISIBLE}`, id, userId, userId).changes > 0;
    },
    async count(userId) {
      return Number(one("SELECT count(*) AS n FROM projects WHERE user_id = ?", userId)?.n ?? 0);
    },
    async find(id) {
      const row = one("SELECT * FROM projects WHERE id = ?", id);
      return row ? toProject(row) : null;
    },
    async routes() {
      return all(
        `SELECT id, sub_domain, custom_domain, verified_domain, domain_verified_at, production_deployment_id,
           spa_fallback FROM projects`,
      ).map(toRoute);
    },
    async promote(projectId, deploymentId) {
      // (In sqlite a SET expression reads the row as it was: the time is passed for each column.)
      const at = nowIso();
      const row = one(
        `UPDATE projects SET previous_production_deployment_id = production_deployment_id,
           production_deployment_id = ?, updated_at = ?, production_since = ?
         WHERE id = ? AND production_deployment_id IS NOT ?
           AND EXISTS (SELECT 1 FROM deployments d WHERE d.id = ? AND d.project_id = ? AND d.status = 'READY'
             AND d.expired_at IS NULL)
         RETURNING *`,
        deploymentId,
        at,
        at,
        projectId,
        deploymentId,
        deploymentId,
        projectId,
      );
      if (row) return toProject(row);
      // Already production: a no-op success; anything else (not READY, not this project's) is refused.
      const current = one(
        "SELECT * FROM projects WHERE id = ? AND production_deployment_id = ?",
        projectId,
        deploymentId,
      );
      return current ? toProject(current) : null;
    },
    async rollback(projectId) {
      const at = nowIso();
      const row = one(
        `UPDATE projects SET production_deployment_id = previous_production_deployment_id,
           previous_production_deployment_id = production_deployment_id, updated_at = ?, production_since = ?
         WHERE id = ? AND previous_production_deployment_id IS NOT NULL RETURNING *`,
        at,
        at,
        projectId,
      );
      return row ? toProject(row) : null;
    },
    async markDomainVerified(projectId, domain) {
      // Writers queue on sqlite's lock (immediate): of two projects verifying one domain, the second sees the first.
      const mark = db.transaction(() => {
        if (verifiedElsewhere(projectId, domain)) throw domainTaken();
        const row = one(
          `UPDATE projects SET verified_domain = custom_domain, domain_verified_at = ?
           WHERE id = ? AND custom_domain = ? RETURNING *`,
          nowIso(),
          projectId,
          domain,
        );
        return row ? { project: toProject(row), displaced: displace(projectId, domain) } : null;
      });
      try {
        return mark.immediate();
      } catch (e) {
        uniqueViolation(e);
      }
    },
  };
}

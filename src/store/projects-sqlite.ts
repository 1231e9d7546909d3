// Store: the projects repository (src/store/store.ts) on bun:sqlite.

import type { Database } from "bun:sqlite";
import { projectLimit } from "../errors.ts";
import { sqliteDomainClaims } from "./domains-sqlite.ts";
import { type Params, sqliteQueries, uniqueViolation } from "./query-sqlite.ts";
import {
  decodeCursor,
  newDomainToken,
  newId,
  nowIso,
  PROJECT_COLUMNS,
  PROJECT_SELECT,
  routeDomains,
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

  const claims = sqliteDomainClaims(db);
  /** A project row as the repository returns it, with its primary domain (rows.ts, PROJECT_SELECT). */
  const read = (id: string) => one(`${PROJECT_SELECT} WHERE p.id = ?`, id);
  /** The projects of a scope (MAX_PROJECTS_PER_USER): the team's, or the user's personal ones. */
  const countIn = (userId: string, teamId: string | null) =>
    Number(
      (teamId
        ? one("SELECT count(*) AS n FROM projects WHERE team_id = ?", teamId)
        : one("SELECT count(*) AS n FROM projects WHERE user_id = ? AND team_id IS NULL", userId)
      )?.n ?? 0,
    );

  return {
    async create(input, maxPerUser = 0, { trustDomain = false, maxDomains = 0 } = {}) {
      const id = newId();
      const at = nowIso();
      // Settings left undefined take the column's default (as in Postgres): a database still on an older schema
      // (the migration tests) never hears of newer columns.
      const keys = (Object.keys(PROJECT_COLUMNS) as (keyof typeof PROJECT_COLUMNS)[]).filter(
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
        if (maxPerUser > 0 && countIn(input.userId, input.teamId ?? null) >= maxPerUser)
          throw projectLimit(maxPerUser, Boolean(input.teamId));
        run(
          `INSERT INTO projects (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
          ...values,
        );
        if (input.customDomain) claims.setPrimary(id, input.customDomain, trustDomain, maxDomains);
        return read(id) ?? {};
      });
      try {
        return toProject(insert.immediate());
      } catch (e) {
        uniqueViolation(e);
      }
    },
    async get(userId, id) {
      const row = one(`${PROJECT_SELECT} WHERE p.id = ? AND ${VISIBLE}`, id, userId, userId);
      return row ? toProject(row) : null;
    },
    async list(userId, { limit, cursor }, teamId = null) {
      const after = decodeCursor(cursor);
      // A team's projects, to its members; else the user's personal ones.
      const scope = teamId
        ? {
            where:
              "p.team_id = ? AND EXISTS (SELECT 1 FROM team_members m WHERE m.team_id = ? AND m.user_id = ?)",
            args: [teamId, teamId, userId],
          }
        : { where: "p.user_id = ? AND p.team_id IS NULL", args: [userId] };
      const rows = after
        ? all(
            `${PROJECT_SELECT} WHERE ${scope.where} AND (p.created_at < ? OR (p.created_at = ? AND p.id < ?))
             ORDER BY p.created_at DESC, p.id DESC LIMIT ?`,
            ...scope.args,
            after.createdAt,
            after.createdAt,
            after.id,
            limit + 1,
          )
        : all(
            `${PROJECT_SELECT} WHERE ${scope.where} ORDER BY p.created_at DESC, p.id DESC LIMIT ?`,
            ...scope.args,
            limit + 1,
          );
      return toPage(rows.map(toProject), limit);
    },
    async transfer(id, to, maxPerScope = 0) {
      const move = db.transaction(() => {
        if (maxPerScope > 0 && countIn(to.userId, to.teamId) >= maxPerScope)
          throw projectLimit(maxPerScope, Boolean(to.teamId));
        const row = one(
          "UPDATE projects SET team_id = ?, user_id = ?, updated_at = ? WHERE id = ? RETURNING id",
          to.teamId,
          to.userId,
          nowIso(),
          id,
        );
        return row ? read(id) : null;
      });
      const moved = move.immediate();
      return moved ? toProject(moved) : null;
    },
    async update(userId, id, patch, { trustDomain = false, maxDomains = 0 } = {}) {
      const keys = (Object.keys(patch) as (keyof typeof PROJECT_COLUMNS)[]).filter(
        (k) => k in PROJECT_COLUMNS,
      );
      // Column names come from the fixed PROJECT_COLUMNS map, never from input.
      const sets = [...keys.map((k) => `${PROJECT_COLUMNS[k]} = ?`), "updated_at = ?"];
      const values: Params = [...keys.map((k) => patch[k] ?? null), nowIso(), id, userId, userId];
      const save = db.transaction(() => {
        const row = one(
          `UPDATE projects AS p SET ${sets.join(", ")} WHERE id = ? AND ${VISIBLE} RETURNING id`,
          ...values,
        );
        if (!row) return null;
        // Only a save that sets the domain claims it: other changes never fail on, or displace, a claim.
        if (patch.customDomain !== undefined)
          claims.setPrimary(id, patch.customDomain, trustDomain, maxDomains);
        return read(id);
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
    async count(userId, teamId = null) {
      return countIn(userId, teamId);
    },
    async find(id) {
      const row = read(id);
      return row ? toProject(row) : null;
    },
    async routes() {
      // One read: a domain verified between two statements would otherwise be missing from its project's route.
      return db.transaction(() => {
        const domains = routeDomains(
          all(
            `SELECT project_id, domain, redirect_to, redirect_status, created_at FROM project_domains
             WHERE verified_at IS NOT NULL ORDER BY project_id, position`,
          ),
        );
        return all("SELECT id, sub_domain, production_deployment_id, spa_fallback FROM projects").map((row) =>
          toRoute(row, domains.get(String(row.id)) ?? []),
        );
      })();
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
         RETURNING id`,
        deploymentId,
        at,
        at,
        projectId,
        deploymentId,
        deploymentId,
        projectId,
      );
      const promoted = row && read(projectId);
      if (promoted) return toProject(promoted);
      // Already production: a no-op success; anything else (not READY, not this project's) is refused.
      const current = one(
        `${PROJECT_SELECT} WHERE p.id = ? AND p.production_deployment_id = ?`,
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
         WHERE id = ? AND previous_production_deployment_id IS NOT NULL RETURNING id`,
        at,
        at,
        projectId,
      );
      const rolled = row && read(projectId);
      return rolled ? toProject(rolled) : null;
    },
    async markDomainVerified(projectId, domain) {
      const mark = db.transaction(() => {
        const verified = claims.verify(projectId, domain.toLowerCase(), "customDomain");
        const row = verified && read(projectId);
        return row && verified ? { project: toProject(row), displaced: verified.displaced } : null;
      });
      try {
        return mark.immediate();
      } catch (e) {
        uniqueViolation(e);
      }
    },
  };
}

// Store on bun:sqlite (the embedded default): one WAL file in the data dir, or :memory: in tests.

import { Database, type SQLQueryBindings } from "bun:sqlite";
import { branchSlug } from "../deploy/names.ts";
import { isTerminal, predecessors } from "../deploy/status.ts";
import { conflict, projectLimit } from "../errors.ts";
import { sqliteCertificates } from "./certs-sqlite.ts";
import { sqliteLoginAttempts } from "./login-attempts-sqlite.ts";
import { assertNotNewer, SQLITE_MIGRATIONS } from "./migrations.ts";
import {
  decodeCursor,
  hostIdPattern,
  newDomainToken,
  newId,
  nowIso,
  PROJECT_COLUMNS,
  type Row,
  toDeployment,
  toEnvVar,
  toPage,
  toProject,
  toRejected,
  toRoute,
  toSession,
  toToken,
  toUser,
} from "./rows.ts";
import type {
  Audit,
  Deployments,
  ProjectEnv,
  ProjectSettings,
  Projects,
  Sessions,
  Store,
  Tokens,
  Users,
  Webhooks,
} from "./store.ts";

type Params = SQLQueryBindings[];

/** Maps a UNIQUE violation on a known column to a conflict the user can act on. */
function uniqueViolation(error: unknown): never {
  const message = error instanceof Error ? error.message : "";
  if (message.includes("projects.sub_domain")) throw conflict("subdomain is already taken", "subDomain");
  if (message.includes("projects.custom_domain"))
    throw conflict("custom domain is already in use", "customDomain");
  if (message.includes("users.email")) throw conflict("a user with this email already exists", "email");
  throw error;
}

export function openSqliteStore(path: string): Store {
  const db = new Database(path, { create: true, strict: true });
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA foreign_keys = ON");
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec("PRAGMA synchronous = NORMAL");

  const one = (sql: string, ...params: Params): Row | null => db.query<Row, Params>(sql).get(...params);
  const all = (sql: string, ...params: Params): Row[] => db.query<Row, Params>(sql).all(...params);
  const run = (sql: string, ...params: Params) => db.query<Row, Params>(sql).run(...params);

  const users: Users = {
    async create({ email, passwordHash }) {
      const id = newId();
      try {
        run(
          "INSERT INTO users (id, email, password_hash, created_at) VALUES (?, ?, ?, ?)",
          id,
          email,
          passwordHash,
          nowIso(),
        );
      } catch (e) {
        uniqueViolation(e);
      }
      return toUser(one("SELECT * FROM users WHERE id = ?", id) ?? {});
    },
    async byEmail(email) {
      const row = one("SELECT * FROM users WHERE email = ?", email);
      return row ? toUser(row) : null;
    },
    async byId(id) {
      const row = one("SELECT * FROM users WHERE id = ?", id);
      return row ? toUser(row) : null;
    },
    async upsertExternal({ issuer, subject, email }) {
      return db.transaction(() => {
        const found = one(
          "SELECT * FROM users WHERE external_issuer = ? AND external_subject = ?",
          issuer,
          subject,
        );
        if (found) return toUser(found);
        // An external user without a usable email gets a unique placeholder so emails stay unique.
        const address =
          email && !one("SELECT 1 FROM users WHERE email = ?", email)
            ? email
            : `${subject}@${new URL(issuer).host}`;
        const id = newId();
        run(
          "INSERT INTO users (id, email, external_issuer, external_subject, created_at) VALUES (?, ?, ?, ?, ?)",
          id,
          address,
          issuer,
          subject,
          nowIso(),
        );
        return toUser(one("SELECT * FROM users WHERE id = ?", id) ?? {});
      })();
    },
    async count() {
      return Number(one("SELECT count(*) AS n FROM users")?.n ?? 0);
    },
  };

  const tokens: Tokens = {
    async create({ userId, name, prefix, hash }) {
      const id = newId();
      run(
        "INSERT INTO api_tokens (id, user_id, name, prefix, token_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        id,
        userId,
        name,
        prefix,
        hash,
        nowIso(),
      );
      return toToken(one("SELECT * FROM api_tokens WHERE id = ?", id) ?? {});
    },
    async use(hash, at) {
      const row = one("SELECT * FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL", hash);
      if (!row) return null;
      run("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", at, String(row.id));
      const user = one("SELECT * FROM users WHERE id = ?", String(row.user_id));
      return user ? { token: toToken({ ...row, last_used_at: at }), user: toUser(user) } : null;
    },
    async list(userId) {
      return all("SELECT * FROM api_tokens WHERE user_id = ? ORDER BY created_at DESC, id DESC", userId).map(
        toToken,
      );
    },
    async revoke(userId, tokenId) {
      const result = run(
        "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL",
        nowIso(),
        tokenId,
        userId,
      );
      return result.changes > 0;
    },
  };

  const sessions: Sessions = {
    async create({ hash, userId, csrfToken, expiresAt }) {
      run(
        "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        hash,
        userId,
        csrfToken,
        nowIso(),
        expiresAt,
      );
      return toSession(one("SELECT * FROM sessions WHERE id_hash = ?", hash) ?? {});
    },
    async get(hash, now) {
      const row = one("SELECT * FROM sessions WHERE id_hash = ? AND expires_at > ?", hash, now);
      if (!row) return null;
      const user = one("SELECT * FROM users WHERE id = ?", String(row.user_id));
      return user ? { session: toSession(row), user: toUser(user) } : null;
    },
    async delete(hash) {
      run("DELETE FROM sessions WHERE id_hash = ?", hash);
    },
  };

  const projects: Projects = {
    async create(input, maxPerUser = 0) {
      const id = newId();
      const at = nowIso();
      const keys = Object.keys(PROJECT_COLUMNS) as (keyof ProjectSettings)[];
      const columns = [
        "id",
        "user_id",
        "created_at",
        "updated_at",
        "domain_token",
        ...keys.map((k) => PROJECT_COLUMNS[k]),
      ];
      const values: Params = [id, input.userId, at, at, newDomainToken(), ...keys.map((k) => input[k])];
      // The count and the insert in one transaction: concurrent creations cannot both take the last place.
      const insert = db.transaction(() => {
        const owned = Number(one("SELECT count(*) AS n FROM projects WHERE user_id = ?", input.userId)?.n);
        if (maxPerUser > 0 && owned >= maxPerUser) throw projectLimit(maxPerUser);
        run(
          `INSERT INTO projects (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
          ...values,
        );
      });
      try {
        insert.immediate();
      } catch (e) {
        uniqueViolation(e);
      }
      return toProject(one("SELECT * FROM projects WHERE id = ?", id) ?? {});
    },
    async get(userId, id) {
      const row = one("SELECT * FROM projects WHERE id = ? AND user_id = ?", id, userId);
      return row ? toProject(row) : null;
    },
    async list(userId, { limit, cursor }) {
      const after = decodeCursor(cursor);
      const rows = after
        ? all(
            `SELECT * FROM projects WHERE user_id = ? AND (created_at < ? OR (created_at = ? AND id < ?))
             ORDER BY created_at DESC, id DESC LIMIT ?`,
            userId,
            after.createdAt,
            after.createdAt,
            after.id,
            limit + 1,
          )
        : all(
            "SELECT * FROM projects WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT ?",
            userId,
            limit + 1,
          );
      return toPage(rows.map(toProject), limit);
    },
    async update(userId, id, patch) {
      const keys = (Object.keys(patch) as (keyof ProjectSettings)[]).filter((k) => k in PROJECT_COLUMNS);
      // Column names come from the fixed PROJECT_COLUMNS map, never from input.
      const sets = [...keys.map((k) => `${PROJECT_COLUMNS[k]} = ?`), "updated_at = ?"];
      const values: Params = [...keys.map((k) => patch[k] ?? null), nowIso(), id, userId];
      try {
        const result = run(`UPDATE projects SET ${sets.join(", ")} WHERE id = ? AND user_id = ?`, ...values);
        if (result.changes === 0) return null;
      } catch (e) {
        uniqueViolation(e);
      }
      return this.get(userId, id);
    },
    async delete(userId, id) {
      return run("DELETE FROM projects WHERE id = ? AND user_id = ?", id, userId).changes > 0;
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
      const row = one(
        `UPDATE projects SET previous_production_deployment_id = production_deployment_id,
           production_deployment_id = ?, updated_at = ?
         WHERE id = ? AND production_deployment_id IS NOT ?
           AND EXISTS (SELECT 1 FROM deployments d WHERE d.id = ? AND d.project_id = ? AND d.status = 'READY'
             AND d.expired_at IS NULL)
         RETURNING *`,
        deploymentId,
        nowIso(),
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
      const row = one(
        `UPDATE projects SET production_deployment_id = previous_production_deployment_id,
           previous_production_deployment_id = production_deployment_id, updated_at = ?
         WHERE id = ? AND previous_production_deployment_id IS NOT NULL RETURNING *`,
        nowIso(),
        projectId,
      );
      return row ? toProject(row) : null;
    },
    async markDomainVerified(projectId, domain) {
      const row = one(
        `UPDATE projects SET verified_domain = custom_domain, domain_verified_at = ?
         WHERE id = ? AND custom_domain = ? RETURNING *`,
        nowIso(),
        projectId,
        domain,
      );
      return row ? toProject(row) : null;
    },
  };

  const deployments: Deployments = {
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
        `SELECT d.* FROM deployments d JOIN projects p ON p.id = d.project_id WHERE d.id = ? AND p.user_id = ?`,
        id,
        userId,
      );
      return row ? toDeployment(row) : null;
    },
    async list(userId, projectId, { limit, cursor }) {
      const after = decodeCursor(cursor);
      const base = `SELECT d.* FROM deployments d JOIN projects p ON p.id = d.project_id
                    WHERE d.project_id = ? AND p.user_id = ?`;
      const rows = after
        ? all(
            `${base} AND (d.created_at < ? OR (d.created_at = ? AND d.id < ?)) ORDER BY d.created_at DESC, d.id DESC LIMIT ?`,
            projectId,
            userId,
            after.createdAt,
            after.createdAt,
            after.id,
            limit + 1,
          )
        : all(`${base} ORDER BY d.created_at DESC, d.id DESC LIMIT ?`, projectId, userId, limit + 1);
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
          const project = one("SELECT * FROM projects WHERE id = ?", String(row.project_id));
          return project ? { deployment: toDeployment(row), project: toProject(project) } : null;
        })
        .immediate();
    },
    async recordCommit(id, sha) {
      run("UPDATE deployments SET commit_sha = ? WHERE id = ? AND commit_sha IS NULL", sha, id);
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
                 production_deployment_id = ?, updated_at = ?
             WHERE id = ? AND (production_deployment_id IS NULL OR NOT EXISTS (
               SELECT 1 FROM deployments cur WHERE cur.id = projects.production_deployment_id
                 AND (cur.created_at > ? OR (cur.created_at = ? AND cur.id > ?))))`,
              ready.id,
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

  const env: ProjectEnv = {
    async set(projectId, key, valueEncrypted) {
      const at = nowIso();
      run(
        `INSERT INTO project_env (project_id, key, value_encrypted, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (project_id, key) DO UPDATE SET value_encrypted = excluded.value_encrypted, updated_at = excluded.updated_at`,
        projectId,
        key,
        valueEncrypted,
        at,
        at,
      );
    },
    async list(projectId) {
      return all("SELECT * FROM project_env WHERE project_id = ? ORDER BY key", projectId).map(toEnvVar);
    },
    async remove(projectId, key) {
      return run("DELETE FROM project_env WHERE project_id = ? AND key = ?", projectId, key).changes > 0;
    },
  };

  const audit: Audit = {
    async recordRejected(e) {
      run(
        "INSERT INTO rejected_events (id, at, source, claimed_deployment_id, reason, excerpt) VALUES (?, ?, ?, ?, ?, ?)",
        newId(),
        nowIso(),
        e.source,
        e.claimedDeploymentId,
        e.reason.slice(0, 1000),
        e.excerpt.slice(0, 1000),
      );
    },
    async recentRejected(limit) {
      return all("SELECT * FROM rejected_events ORDER BY at DESC LIMIT ?", limit).map(toRejected);
    },
  };

  const webhooks: Webhooks = {
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
    async recordDelivery(projectId, deliveryId) {
      return (
        run(
          "INSERT INTO webhook_deliveries (project_id, delivery_id, received_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
          projectId,
          deliveryId,
          nowIso(),
        ).changes > 0
      );
    },
    async forgetDelivery(projectId, deliveryId) {
      run("DELETE FROM webhook_deliveries WHERE project_id = ? AND delivery_id = ?", projectId, deliveryId);
    },
  };

  return {
    users,
    tokens,
    sessions,
    projects,
    deployments,
    env,
    audit,
    webhooks,
    certificates: sqliteCertificates(db),
    loginAttempts: sqliteLoginAttempts(db),
    async migrate() {
      db.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
      );
      const current = Number(one("SELECT coalesce(max(version), 0) AS v FROM schema_migrations")?.v ?? 0);
      assertNotNewer(current, SQLITE_MIGRATIONS);
      const applied: number[] = [];
      for (const m of SQLITE_MIGRATIONS) {
        if (m.version <= current) continue;
        db.transaction(() => {
          db.exec(m.sql);
          run("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", m.version, nowIso());
        })();
        applied.push(m.version);
      }
      return applied;
    },
    async close() {
      db.close();
    },
  };
}

// Store on PostgreSQL (the scale-out backend): postgres.js with a small pool, same behaviour as the sqlite store.

import postgres from "postgres";
import { branchSlug } from "../deploy/names.ts";
import { isTerminal, predecessors } from "../deploy/status.ts";
import { type AppError, conflict, projectLimit } from "../errors.ts";
import { postgresCertificates } from "./certs-postgres.ts";
import { postgresLoginAttempts } from "./login-attempts-postgres.ts";
import { assertNotNewer, POSTGRES_MIGRATIONS } from "./migrations.ts";
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

const emailTaken = () => conflict("a user with this email already exists", "email");

/** UNIQUE constraints (Postgres' default names) -> the conflict the user can act on, as in the sqlite store. */
const CONFLICTS: Record<string, () => AppError> = {
  projects_sub_domain_key: () => conflict("subdomain is already taken", "subDomain"),
  projects_custom_domain_key: () => conflict("custom domain is already in use", "customDomain"),
  users_email_key: emailTaken,
};

/** The UNIQUE constraint a statement violated (SQLSTATE 23505), or null for any other error. */
function violatedUnique(error: unknown): string | null {
  if (!(error instanceof postgres.PostgresError) || error.code !== "23505") return null;
  return error.constraint_name ?? null;
}

/** Rethrows a known UNIQUE violation as its conflict, anything else unchanged. */
function uniqueViolation(error: unknown): never {
  const mapped = CONFLICTS[violatedUnique(error) ?? ""];
  throw mapped ? mapped() : error;
}

/** Fixed key for the migration lock, so concurrent starts apply each migration once. */
const MIGRATION_LOCK = "minivercel:migrate";

export function openPostgresStore(url: string): Store {
  const sql = postgres(url, { max: 10, onnotice: () => {} });
  const first = async (query: Promise<Row[]>): Promise<Row | null> => (await query)[0] ?? null;

  const userById = (id: string) => first(sql<Row[]>`SELECT * FROM users WHERE id = ${id}`);

  const users: Users = {
    async create({ email, passwordHash }) {
      try {
        const [row] = await sql<Row[]>`
          INSERT INTO users (id, email, password_hash, created_at)
          VALUES (${newId()}, ${email}, ${passwordHash}, ${nowIso()}) RETURNING *`;
        return toUser(row ?? {});
      } catch (e) {
        uniqueViolation(e);
      }
    },
    async byEmail(email) {
      const row = await first(sql<Row[]>`SELECT * FROM users WHERE email = ${email}`);
      return row ? toUser(row) : null;
    },
    async byId(id) {
      const row = await userById(id);
      return row ? toUser(row) : null;
    },
    async upsertExternal({ issuer, subject, email }) {
      const find = () =>
        first(
          sql<Row[]>`SELECT * FROM users WHERE external_issuer = ${issuer} AND external_subject = ${subject}`,
        );
      // An external user without a usable email gets a unique placeholder so emails stay unique.
      const addresses = [...(email ? [email] : []), `${subject}@${new URL(issuer).host}`];
      for (const address of addresses) {
        const found = await find();
        if (found) return toUser(found);
        try {
          // A concurrent login of the same identity inserts nothing here and finds the winner's row below.
          await sql`
            INSERT INTO users (id, email, external_issuer, external_subject, created_at)
            VALUES (${newId()}, ${address}, ${issuer}, ${subject}, ${nowIso()})
            ON CONFLICT (external_issuer, external_subject) DO NOTHING`;
        } catch (e) {
          // The email belongs to someone else (or to the racing winner): re-check, then try the next address.
          if (violatedUnique(e) !== "users_email_key") throw e;
        }
      }
      const row = await find();
      if (row) return toUser(row);
      throw emailTaken();
    },
    async count() {
      const row = await first(sql<Row[]>`SELECT count(*) AS n FROM users`);
      return Number(row?.n ?? 0);
    },
  };

  const tokens: Tokens = {
    async create({ userId, name, prefix, hash }) {
      const [row] = await sql<Row[]>`
        INSERT INTO api_tokens (id, user_id, name, prefix, token_hash, created_at)
        VALUES (${newId()}, ${userId}, ${name}, ${prefix}, ${hash}, ${nowIso()}) RETURNING *`;
      return toToken(row ?? {});
    },
    async use(hash, at) {
      const row = await first(sql<Row[]>`
        UPDATE api_tokens SET last_used_at = ${at} WHERE token_hash = ${hash} AND revoked_at IS NULL RETURNING *`);
      if (!row) return null;
      const user = await userById(String(row.user_id));
      return user ? { token: toToken(row), user: toUser(user) } : null;
    },
    async list(userId) {
      const rows = await sql<Row[]>`
        SELECT * FROM api_tokens WHERE user_id = ${userId} ORDER BY created_at DESC, id DESC`;
      return rows.map(toToken);
    },
    async revoke(userId, tokenId) {
      const result = await sql`
        UPDATE api_tokens SET revoked_at = ${nowIso()}
        WHERE id = ${tokenId} AND user_id = ${userId} AND revoked_at IS NULL`;
      return result.count > 0;
    },
  };

  const sessions: Sessions = {
    async create({ hash, userId, csrfToken, expiresAt }) {
      const [row] = await sql<Row[]>`
        INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at)
        VALUES (${hash}, ${userId}, ${csrfToken}, ${nowIso()}, ${expiresAt}) RETURNING *`;
      return toSession(row ?? {});
    },
    async get(hash, now) {
      const row = await first(
        sql<Row[]>`SELECT * FROM sessions WHERE id_hash = ${hash} AND expires_at > ${now}`,
      );
      if (!row) return null;
      const user = await userById(String(row.user_id));
      return user ? { session: toSession(row), user: toUser(user) } : null;
    },
    async delete(hash) {
      await sql`DELETE FROM sessions WHERE id_hash = ${hash}`;
    },
  };

  /** Settings (camelCase) plus fixed columns -> an insert/update helper; names come from PROJECT_COLUMNS only. */
  const projectColumns = (settings: Partial<ProjectSettings>, fixed: Record<string, string>) => {
    const values: Record<string, string | number | boolean | null> = { ...fixed };
    for (const k of Object.keys(settings) as (keyof ProjectSettings)[]) {
      if (k in PROJECT_COLUMNS) values[PROJECT_COLUMNS[k]] = settings[k] ?? null;
    }
    return sql(values, ...Object.keys(values));
  };

  const projects: Projects = {
    async create({ userId, ...input }, maxPerUser = 0) {
      const at = nowIso();
      const columns = projectColumns(input, {
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
          const [row] = await tx<Row[]>`INSERT INTO projects ${columns} RETURNING *`;
          return toProject(row ?? {});
        });
      } catch (e) {
        uniqueViolation(e);
      }
    },
    async get(userId, id) {
      const row = await first(sql<Row[]>`SELECT * FROM projects WHERE id = ${id} AND user_id = ${userId}`);
      return row ? toProject(row) : null;
    },
    async list(userId, { limit, cursor }) {
      const after = decodeCursor(cursor);
      const rows = await sql<Row[]>`
        SELECT * FROM projects WHERE user_id = ${userId}
        ${after ? sql`AND (created_at < ${after.createdAt} OR (created_at = ${after.createdAt} AND id < ${after.id}))` : sql``}
        ORDER BY created_at DESC, id DESC LIMIT ${limit + 1}`;
      return toPage(rows.map(toProject), limit);
    },
    async update(userId, id, patch) {
      const columns = projectColumns(patch, { updated_at: nowIso() });
      try {
        const row = await first(sql<Row[]>`
          UPDATE projects SET ${columns}
          WHERE id = ${id} AND user_id = ${userId} RETURNING *`);
        return row ? toProject(row) : null;
      } catch (e) {
        uniqueViolation(e);
      }
    },
    async delete(userId, id) {
      const result = await sql`DELETE FROM projects WHERE id = ${id} AND user_id = ${userId}`;
      return result.count > 0;
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
        const row = await first(tx<Row[]>`
          UPDATE projects SET previous_production_deployment_id = production_deployment_id,
            production_deployment_id = ${deploymentId}, updated_at = ${nowIso()}
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
      const row = await first(sql<Row[]>`
        UPDATE projects SET production_deployment_id = previous_production_deployment_id,
          previous_production_deployment_id = production_deployment_id, updated_at = ${nowIso()}
        WHERE id = ${projectId} AND previous_production_deployment_id IS NOT NULL RETURNING *`);
      return row ? toProject(row) : null;
    },
    async markDomainVerified(projectId, domain) {
      const row = await first(sql<Row[]>`
        UPDATE projects SET verified_domain = custom_domain, domain_verified_at = ${nowIso()}
        WHERE id = ${projectId} AND custom_domain = ${domain} RETURNING *`);
      return row ? toProject(row) : null;
    },
  };

  const deployments: Deployments = {
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
        WHERE d.id = ${id} AND p.user_id = ${userId}`);
      return row ? toDeployment(row) : null;
    },
    async list(userId, projectId, { limit, cursor }) {
      const after = decodeCursor(cursor);
      const rows = await sql<Row[]>`
        SELECT d.* FROM deployments d JOIN projects p ON p.id = d.project_id
        WHERE d.project_id = ${projectId} AND p.user_id = ${userId}
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
          const project = await first(tx<Row[]>`SELECT * FROM projects WHERE id = ${projectId}`);
          if (project) return { deployment: toDeployment(row), project: toProject(project) };
        }
        return null;
      });
    },
    async recordCommit(id, sha) {
      await sql`UPDATE deployments SET commit_sha = ${sha} WHERE id = ${id} AND commit_sha IS NULL`;
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
              production_deployment_id = ${ready.id}, updated_at = ${at}
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

  const env: ProjectEnv = {
    async set(projectId, key, valueEncrypted) {
      const at = nowIso();
      await sql`
        INSERT INTO project_env (project_id, key, value_encrypted, created_at, updated_at)
        VALUES (${projectId}, ${key}, ${valueEncrypted}, ${at}, ${at})
        ON CONFLICT (project_id, key) DO UPDATE SET value_encrypted = EXCLUDED.value_encrypted, updated_at = EXCLUDED.updated_at`;
    },
    async list(projectId) {
      const rows = await sql<Row[]>`SELECT * FROM project_env WHERE project_id = ${projectId} ORDER BY key`;
      return rows.map(toEnvVar);
    },
    async remove(projectId, key) {
      const result = await sql`DELETE FROM project_env WHERE project_id = ${projectId} AND key = ${key}`;
      return result.count > 0;
    },
  };

  const audit: Audit = {
    async recordRejected(e) {
      await sql`
        INSERT INTO rejected_events (id, at, source, claimed_deployment_id, reason, excerpt)
        VALUES (${newId()}, ${nowIso()}, ${e.source}, ${e.claimedDeploymentId}, ${e.reason.slice(0, 1000)}, ${e.excerpt.slice(0, 1000)})`;
    },
    async recentRejected(limit) {
      const rows = await sql<Row[]>`SELECT * FROM rejected_events ORDER BY at DESC LIMIT ${limit}`;
      return rows.map(toRejected);
    },
  };

  /** Applies the next pending migration under the lock; null when none is left. */
  const migrateOne = () =>
    sql.begin(async (tx) => {
      // The lock comes first: even CREATE TABLE IF NOT EXISTS races between sessions.
      await tx`SELECT pg_advisory_xact_lock(hashtext(${MIGRATION_LOCK}))`;
      await tx`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)`;
      const [row] = await tx<Row[]>`SELECT coalesce(max(version), 0) AS v FROM schema_migrations`;
      const current = Number(row?.v ?? 0);
      assertNotNewer(current, POSTGRES_MIGRATIONS);
      const next = POSTGRES_MIGRATIONS.find((m) => m.version > current);
      if (!next) return null;
      await tx.unsafe(next.sql);
      await tx`INSERT INTO schema_migrations (version, applied_at) VALUES (${next.version}, ${nowIso()})`;
      return next.version;
    });

  const webhooks: Webhooks = {
    async secret(projectId) {
      const row = await first(
        sql<Row[]>`SELECT secret_sealed FROM webhook_secrets WHERE project_id = ${projectId}`,
      );
      return row ? String(row.secret_sealed) : null;
    },
    async initSecret(projectId, sealed) {
      await sql`
        INSERT INTO webhook_secrets (project_id, secret_sealed, created_at) VALUES (${projectId}, ${sealed}, ${nowIso()})
        ON CONFLICT DO NOTHING`;
      const row = await first(
        sql<Row[]>`SELECT secret_sealed FROM webhook_secrets WHERE project_id = ${projectId}`,
      );
      if (!row) throw new Error("store: webhook secret vanished (project deleted?)");
      return String(row.secret_sealed);
    },
    async recordDelivery(projectId, deliveryId) {
      const result = await sql`
        INSERT INTO webhook_deliveries (project_id, delivery_id, received_at)
        VALUES (${projectId}, ${deliveryId}, ${nowIso()}) ON CONFLICT DO NOTHING`;
      return result.count > 0;
    },
    async forgetDelivery(projectId, deliveryId) {
      await sql`DELETE FROM webhook_deliveries WHERE project_id = ${projectId} AND delivery_id = ${deliveryId}`;
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
    certificates: postgresCertificates(sql),
    loginAttempts: postgresLoginAttempts(sql),
    async migrate() {
      const applied: number[] = [];
      let version = await migrateOne();
      while (version !== null) {
        applied.push(version);
        version = await migrateOne();
      }
      return applied;
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}

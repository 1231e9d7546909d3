// Store on PostgreSQL (the scale-out backend): postgres.js with a small pool, same behaviour as the sqlite store.

import postgres from "postgres";
import { postgresAccounts } from "./accounts-postgres.ts";
import { postgresAnalyticsSalts } from "./analytics-salts-postgres.ts";
import { postgresAuditLog } from "./audit-log-postgres.ts";
import { postgresAudit } from "./audit-postgres.ts";
import { postgresBlobClaims } from "./blob-claims-postgres.ts";
import { postgresCertificates } from "./certs-postgres.ts";
import { postgresCronRuns } from "./cron-runs-postgres.ts";
import { postgresDeployments } from "./deployments-postgres.ts";
import { postgresDomains } from "./domains-postgres.ts";
import { postgresEnv } from "./env-postgres.ts";
import { postgresGitReports } from "./git-reports-postgres.ts";
import { postgresLoginAttempts } from "./login-attempts-postgres.ts";
import { assertNotNewer, POSTGRES_MIGRATIONS } from "./migrations.ts";
import { postgresOutgoingHooks } from "./outgoing-hooks-postgres.ts";
import { postgresProjects } from "./projects-postgres.ts";
import { postgresProtection } from "./protection-postgres.ts";
import { postgresRateBuckets } from "./rate-buckets-postgres.ts";
import { nowIso, type Row } from "./rows.ts";
import type { Store } from "./store.ts";
import { postgresTeams } from "./teams-postgres.ts";
import { postgresWebhooks } from "./webhooks-postgres.ts";

/** Fixed key for the migration lock, so concurrent starts apply each migration once. */
const MIGRATION_LOCK = "minivercel:migrate";

export function openPostgresStore(url: string): Store {
  const sql = postgres(url, { max: 10, onnotice: () => {} });

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

  return {
    ...postgresAccounts(sql),
    projects: postgresProjects(sql),
    domains: postgresDomains(sql),
    deployments: postgresDeployments(sql),
    env: postgresEnv(sql),
    audit: postgresAudit(sql),
    webhooks: postgresWebhooks(sql),
    certificates: postgresCertificates(sql),
    loginAttempts: postgresLoginAttempts(sql),
    cronRuns: postgresCronRuns(sql),
    blobClaims: postgresBlobClaims(sql),
    rateBuckets: postgresRateBuckets(sql),
    protection: postgresProtection(sql),
    outgoingHooks: postgresOutgoingHooks(sql),
    teams: postgresTeams(sql),
    auditLog: postgresAuditLog(sql),
    gitReports: postgresGitReports(sql),
    analyticsSalts: postgresAnalyticsSalts(sql),
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

// Store on bun:sqlite (the embedded default): one WAL file in the data dir, or :memory: in tests.

import { Database } from "bun:sqlite";
import { AppError } from "../errors.ts";
import { sqliteAccounts } from "./accounts-sqlite.ts";
import { sqliteAnalyticsSalts } from "./analytics-salts-sqlite.ts";
import { sqliteAuditLog } from "./audit-log-sqlite.ts";
import { sqliteAudit } from "./audit-sqlite.ts";
import { sqliteBlobClaims } from "./blob-claims-sqlite.ts";
import { sqliteCertificates } from "./certs-sqlite.ts";
import { sqliteCronRuns } from "./cron-runs-sqlite.ts";
import { sqliteDeployments } from "./deployments-sqlite.ts";
import { sqliteDomains } from "./domains-sqlite.ts";
import { sqliteEnv } from "./env-sqlite.ts";
import { sqliteGitReports } from "./git-reports-sqlite.ts";
import { sqliteLoginAttempts } from "./login-attempts-sqlite.ts";
import { assertNotNewer, type Migration, SQLITE_MIGRATIONS } from "./migrations.ts";
import { sqliteOutgoingHooks } from "./outgoing-hooks-sqlite.ts";
import { sqliteProjects } from "./projects-sqlite.ts";
import { sqliteProtection } from "./protection-sqlite.ts";
import { sqliteQueries } from "./query-sqlite.ts";
import { sqliteRateBuckets } from "./rate-buckets-sqlite.ts";
import { nowIso } from "./rows.ts";
import type { Store } from "./store.ts";
import { sqliteTeams } from "./teams-sqlite.ts";
import { sqliteWebhooks } from "./webhooks-sqlite.ts";

export function openSqliteStore(path: string): Store {
  const db = new Database(path, { create: true, strict: true });
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA foreign_keys = ON");
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec("PRAGMA synchronous = NORMAL");

  return {
    ...sqliteAccounts(db),
    projects: sqliteProjects(db),
    domains: sqliteDomains(db),
    deployments: sqliteDeployments(db),
    env: sqliteEnv(db),
    audit: sqliteAudit(db),
    webhooks: sqliteWebhooks(db),
    certificates: sqliteCertificates(db),
    loginAttempts: sqliteLoginAttempts(db),
    cronRuns: sqliteCronRuns(db),
    blobClaims: sqliteBlobClaims(db),
    rateBuckets: sqliteRateBuckets(db),
    protection: sqliteProtection(db),
    outgoingHooks: sqliteOutgoingHooks(db),
    teams: sqliteTeams(db),
    auditLog: sqliteAuditLog(db),
    gitReports: sqliteGitReports(db),
    analyticsSalts: sqliteAnalyticsSalts(db),
    async migrate() {
      return migrateSqlite(db, SQLITE_MIGRATIONS);
    },
    async close() {
      db.close();
    },
  };
}

/**
 * Applies the pending `migrations` in order, each in a transaction of its own; returns the versions applied.
 * Foreign keys are off meanwhile: a migration may rebuild a table (sqlite's "generalized ALTER TABLE procedure",
 * as 011 does), and with them on, dropping the old table would cascade-delete every row referencing it. So each
 * migration must leave every reference intact (PRAGMA foreign_key_check) or it is rolled back.
 */
export function migrateSqlite(db: Database, migrations: Migration[]): number[] {
  const { one, all, run } = sqliteQueries(db);
  db.exec(
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
  );
  const current = Number(one("SELECT coalesce(max(version), 0) AS v FROM schema_migrations")?.v ?? 0);
  assertNotNewer(current, SQLITE_MIGRATIONS);
  const pending = migrations.filter((m) => m.version > current);
  if (pending.length === 0) return [];
  // The pragma is a no-op inside a transaction, so it wraps them all.
  const foreignKeys = Number(one("PRAGMA foreign_keys")?.foreign_keys ?? 0);
  db.exec("PRAGMA foreign_keys = OFF");
  const applied: number[] = [];
  try {
    for (const m of pending) {
      db.transaction(() => {
        db.exec(m.sql);
        const broken = all("PRAGMA foreign_key_check");
        if (broken.length > 0) {
          throw new AppError(
            "internal",
            `schema migration ${m.version} would break ${broken.length} references (first: ${JSON.stringify(broken[0])}); it was rolled back`,
          );
        }
        run("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", m.version, nowIso());
      })();
      applied.push(m.version);
    }
  } finally {
    db.exec(`PRAGMA foreign_keys = ${foreignKeys === 1 ? "ON" : "OFF"}`);
  }
  return applied;
}

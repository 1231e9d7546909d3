// Store on bun:sqlite (the embedded default): one WAL file in the data dir, or :memory: in tests.

import { Database } from "bun:sqlite";
import { sqliteAccounts } from "./accounts-sqlite.ts";
import { sqliteAudit } from "./audit-sqlite.ts";
import { sqliteCertificates } from "./certs-sqlite.ts";
import { sqliteDeployments } from "./deployments-sqlite.ts";
import { sqliteEnv } from "./env-sqlite.ts";
import { sqliteLoginAttempts } from "./login-attempts-sqlite.ts";
import { assertNotNewer, SQLITE_MIGRATIONS } from "./migrations.ts";
import { sqliteProjects } from "./projects-sqlite.ts";
import { sqliteQueries } from "./query-sqlite.ts";
import { nowIso } from "./rows.ts";
import type { Store } from "./store.ts";
import { sqliteWebhooks } from "./webhooks-sqlite.ts";

export function openSqliteStore(path: string): Store {
  const db = new Database(path, { create: true, strict: true });
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA foreign_keys = ON");
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec("PRAGMA synchronous = NORMAL");

  const { one, run } = sqliteQueries(db);

  return {
    ...sqliteAccounts(db),
    projects: sqliteProjects(db),
    deployments: sqliteDeployments(db),
    env: sqliteEnv(db),
    audit: sqliteAudit(db),
    webhooks: sqliteWebhooks(db),
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

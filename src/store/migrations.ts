// Versioned migrations per backend, embedded as text so the compiled binary carries its schema.

import pg001 from "../../schema/postgres/001_init.sql" with { type: "text" };
import pg002 from "../../schema/postgres/002_build_queue.sql" with { type: "text" };
import pg003 from "../../schema/postgres/003_routing.sql" with { type: "text" };
import pg004 from "../../schema/postgres/004_rejected_events.sql" with { type: "text" };
import pg006 from "../../schema/postgres/006_preview_expiry.sql" with { type: "text" };
import pg007 from "../../schema/postgres/007_webhooks.sql" with { type: "text" };
import pg008 from "../../schema/postgres/008_domain_verification.sql" with { type: "text" };
import pg009 from "../../schema/postgres/009_certificates.sql" with { type: "text" };
import pg010 from "../../schema/postgres/010_limits.sql" with { type: "text" };
import pg011 from "../../schema/postgres/011_verified_domains.sql" with { type: "text" };
import pg012 from "../../schema/postgres/012_webhook_payloads.sql" with { type: "text" };
import pg013 from "../../schema/postgres/013_cron_runs.sql" with { type: "text" };
import pg014 from "../../schema/postgres/014_env_targets.sql" with { type: "text" };
import pg015 from "../../schema/postgres/015_dashboard.sql" with { type: "text" };
import pg016 from "../../schema/postgres/016_app_servers.sql" with { type: "text" };
import pg017 from "../../schema/postgres/017_blob_claims.sql" with { type: "text" };
import pg018 from "../../schema/postgres/018_rate_buckets.sql" with { type: "text" };
import pg019 from "../../schema/postgres/019_deployment_protection.sql" with { type: "text" };
import pg020 from "../../schema/postgres/020_token_expiry.sql" with { type: "text" };
import pg021 from "../../schema/postgres/021_outgoing_hooks.sql" with { type: "text" };
import pg022 from "../../schema/postgres/022_token_scope.sql" with { type: "text" };
import pg023 from "../../schema/postgres/023_teams.sql" with { type: "text" };
import pg024 from "../../schema/postgres/024_project_domains.sql" with { type: "text" };
import pg025 from "../../schema/postgres/025_analytics_salts.sql" with { type: "text" };
import pg026 from "../../schema/postgres/026_git_provider.sql" with { type: "text" };
import pg027 from "../../schema/postgres/027_build_reuse.sql" with { type: "text" };
import sqlite001 from "../../schema/sqlite/001_init.sql" with { type: "text" };
import sqlite002 from "../../schema/sqlite/002_build_queue.sql" with { type: "text" };
import sqlite003 from "../../schema/sqlite/003_routing.sql" with { type: "text" };
import sqlite004 from "../../schema/sqlite/004_rejected_events.sql" with { type: "text" };
import sqlite006 from "../../schema/sqlite/006_preview_expiry.sql" with { type: "text" };
import sqlite007 from "../../schema/sqlite/007_webhooks.sql" with { type: "text" };
import sqlite008 from "../../schema/sqlite/008_domain_verification.sql" with { type: "text" };
import sqlite009 from "../../schema/sqlite/009_certificates.sql" with { type: "text" };
import sqlite010 from "../../schema/sqlite/010_limits.sql" with { type: "text" };
import sqlite011 from "../../schema/sqlite/011_verified_domains.sql" with { type: "text" };
import sqlite012 from "../../schema/sqlite/012_webhook_payloads.sql" with { type: "text" };
import sqlite013 from "../../schema/sqlite/013_cron_runs.sql" with { type: "text" };
import sqlite014 from "../../schema/sqlite/014_env_targets.sql" with { type: "text" };
import sqlite015 from "../../schema/sqlite/015_dashboard.sql" with { type: "text" };
import sqlite016 from "../../schema/sqlite/016_app_servers.sql" with { type: "text" };
import sqlite017 from "../../schema/sqlite/017_blob_claims.sql" with { type: "text" };
import sqlite018 from "../../schema/sqlite/018_rate_buckets.sql" with { type: "text" };
import sqlite019 from "../../schema/sqlite/019_deployment_protection.sql" with { type: "text" };
import sqlite020 from "../../schema/sqlite/020_token_expiry.sql" with { type: "text" };
import sqlite021 from "../../schema/sqlite/021_outgoing_hooks.sql" with { type: "text" };
import sqlite022 from "../../schema/sqlite/022_token_scope.sql" with { type: "text" };
import sqlite023 from "../../schema/sqlite/023_teams.sql" with { type: "text" };
import sqlite024 from "../../schema/sqlite/024_project_domains.sql" with { type: "text" };
import sqlite025 from "../../schema/sqlite/025_analytics_salts.sql" with { type: "text" };
import sqlite026 from "../../schema/sqlite/026_git_provider.sql" with { type: "text" };
import sqlite027 from "../../schema/sqlite/027_build_reuse.sql" with { type: "text" };
import { VERSION } from "../config/version.ts";
import { AppError } from "../errors.ts";

export interface Migration {
  version: number;
  sql: string;
}

export const SQLITE_MIGRATIONS: Migration[] = [
  { version: 1, sql: sqlite001 },
  { version: 2, sql: sqlite002 },
  { version: 3, sql: sqlite003 },
  { version: 4, sql: sqlite004 },
  { version: 6, sql: sqlite006 },
  { version: 7, sql: sqlite007 },
  { version: 8, sql: sqlite008 },
  { version: 9, sql: sqlite009 },
  { version: 10, sql: sqlite010 },
  { version: 11, sql: sqlite011 },
  { version: 12, sql: sqlite012 },
  { version: 13, sql: sqlite013 },
  { version: 14, sql: sqlite014 },
  { version: 15, sql: sqlite015 },
  { version: 16, sql: sqlite016 },
  { version: 17, sql: sqlite017 },
  { version: 18, sql: sqlite018 },
  { version: 19, sql: sqlite019 },
  { version: 20, sql: sqlite020 },
  { version: 21, sql: sqlite021 },
  { version: 22, sql: sqlite022 },
  { version: 23, sql: sqlite023 },
  { version: 24, sql: sqlite024 },
  { version: 25, sql: sqlite025 },
  { version: 26, sql: sqlite026 },
  { version: 27, sql: sqlite027 },
];
export const POSTGRES_MIGRATIONS: Migration[] = [
  { version: 1, sql: pg001 },
  { version: 2, sql: pg002 },
  { version: 3, sql: pg003 },
  { version: 4, sql: pg004 },
  { version: 6, sql: pg006 },
  { version: 7, sql: pg007 },
  { version: 8, sql: pg008 },
  { version: 9, sql: pg009 },
  { version: 10, sql: pg010 },
  { version: 11, sql: pg011 },
  { version: 12, sql: pg012 },
  { version: 13, sql: pg013 },
  { version: 14, sql: pg014 },
  { version: 15, sql: pg015 },
  { version: 16, sql: pg016 },
  { version: 17, sql: pg017 },
  { version: 18, sql: pg018 },
  { version: 19, sql: pg019 },
  { version: 20, sql: pg020 },
  { version: 21, sql: pg021 },
  { version: 22, sql: pg022 },
  { version: 23, sql: pg023 },
  { version: 24, sql: pg024 },
  { version: 25, sql: pg025 },
  { version: 26, sql: pg026 },
  { version: 27, sql: pg027 },
];

/** Refuses to run against a database that a newer minivercel already migrated. */
export function assertNotNewer(applied: number, known: Migration[]): void {
  const latest = known.reduce((max, m) => Math.max(max, m.version), 0);
  if (applied > latest) {
    throw new AppError(
      "internal",
      `database schema version ${applied} is newer than this binary, minivercel ${VERSION}, supports ` +
        `(${latest} at most): a newer minivercel migrated it; upgrade minivercel`,
    );
  }
}

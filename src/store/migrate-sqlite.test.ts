// sqlite schema upgrades on a database with data: 011 rebuilds the projects table, which with foreign keys on
// would cascade-delete every deployment, env var and webhook row; nothing may be lost, and references still hold.
// A migration that would leave broken references behind is rolled back. 024 moves each project's custom domain
// into project_domains.

import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { join } from "node:path";
import { AppError } from "../errors.ts";
import { tempDir } from "../testing/deps.ts";
import { sqliteAccounts } from "./accounts-sqlite.ts";
import { sqliteAudit } from "./audit-sqlite.ts";
import { sqliteCertificates } from "./certs-sqlite.ts";
import { sqliteDeployments } from "./deployments-sqlite.ts";
import { sqliteDomains } from "./domains-sqlite.ts";
import { sqliteEnv } from "./env-sqlite.ts";
import { sqliteLoginAttempts } from "./login-attempts-sqlite.ts";
import { SQLITE_MIGRATIONS } from "./migrations.ts";
import { sqliteProjects } from "./projects-sqlite.ts";
import { toProject } from "./rows.ts";
import { settings } from "./store.contract.ts";

import { migrateSqlite, openSqliteStore } from "./store-sqlite.ts";
import { sqliteWebhooks } from "./webhooks-sqlite.ts";

/** A project row as an older schema (10 to 22) wrote it, with `columns` set as given. */
function oldProject(
  db: Database,
  userId: string,
  subDomain: string,
  columns: Record<string, string | number>,
) {
  const at = new Date().toISOString();
  const row: Record<string, string | number> = {
    id: crypto.randomUUID(),
    name: subDomain,
    sub_domain: subDomain,
    user_id: userId,
    created_at: at,
    updated_at: at,
    domain_token: crypto.randomUUID().replaceAll("-", ""),
    ...columns,
  };
  const names = Object.keys(row);
  db.run(
    `INSERT INTO projects (${names.join(", ")}) VALUES (${names.map(() => "?").join(", ")})`,
    Object.values(row),
  );
  return { id: String(row.id) };
}

/** A database file as openSqliteStore opens it. */
function openDb(path: string): Database {
  const db = new Database(path, { create: true, strict: true });
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA foreign_keys = ON");
  return db;
}

type Rows = Record<string, unknown>[];

/** Every row of every table (sorted, so row order does not matter), every index, and the projects columns. */
function snapshot(db: Database) {
  const tables = db
    .query<{ name: string }, []>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .all()
    .map((t) => t.name);
  const rows: Record<string, string[]> = {};
  for (const table of tables) {
    rows[table] = db
      .query<Record<string, unknown>, []>(`SELECT * FROM "${table}"`)
      .all()
      .map((r) => JSON.stringify(r))
      .sort();
  }
  const indexes = db
    .query<{ name: string; tbl_name: string; sql: string | null }, []>(
      "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name",
    )
    .all();
  const columns: Rows = db.query<Record<string, unknown>, []>("PRAGMA table_info(projects)").all();
  return { rows, indexes, columns };
}

test("011 keeps every row, index and column across the projects table rebuild, and references still hold", async () => {
  const path = join(tempDir("minivercel-upgrade-"), "minivercel.db");
  const db = openDb(path);
  const upTo10 = SQLITE_MIGRATIONS.filter((m) => m.version <= 10);
  expect(migrateSqlite(db, upTo10)).toEqual(upTo10.map((m) => m.version));

  // A populated v10 database, written by the repositories themselves.
  const { users, sessions } = sqliteAccounts(db);
  const deployments = sqliteDeployments(db);
  const user = await users.create({ email: "old@example.com", passwordHash: "h" });
  // A token as schema 10 stored it (today's create also writes 020's expiry).
  db.run(
    "INSERT INTO api_tokens (id, user_id, name, prefix, token_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    [crypto.randomUUID(), user.id, "ci", "mv_old", "token-hash", new Date().toISOString()],
  );
  await sessions.create({
    hash: "session-hash",
    userId: user.id,
    csrfToken: "c",
    expiresAt: "2030-01-01T00:00:00.000Z",
  });
  const domain = "www.old-shop.example.com";
  // Projects as schema 10 stored them (one custom domain each, in the projects row; 024 moves it out).
  const site = oldProject(db, user.id, "old-shop", {
    custom_domain: domain,
    verified_domain: domain,
    domain_verified_at: "2026-01-01T00:00:00.000Z",
    build_command: "make",
    spa_fallback: 0,
    build_timeout_seconds: 60,
  });
  // A stale proof of the same domain, as an older version could leave (verified, then moved elsewhere).
  const other = oldProject(db, user.id, "old-blog", {
    custom_domain: "blog.example.com",
    verified_domain: domain,
  });
  const ids: string[] = [];
  for (const target of ["production", "preview", "production"] as const) {
    const d = await deployments.create({
      projectId: site.id,
      userId: user.id,
      status: "QUEUED",
      target,
      branch: target === "preview" ? "feature" : "main",
      commitSha: null,
    });
    await deployments.transition(d.id, "IN_PROGRESS", null);
    // READY and the production pointer as schema 10 wrote them (today's markReady also sets 015's column).
    const at = new Date().toISOString();
    db.run("UPDATE deployments SET status = 'READY', finished_at = ?, updated_at = ? WHERE id = ?", [
      at,
      at,
      d.id,
    ]);
    if (target === "production")
      db.run(
        `UPDATE projects SET previous_production_deployment_id = production_deployment_id,
           production_deployment_id = ?, updated_at = ? WHERE id = ?`,
        [d.id, at, site.id],
      );
    ids.push(d.id);
  }
  db.run(
    `UPDATE projects SET previous_production_deployment_id = production_deployment_id, production_deployment_id = ?
     WHERE id = ?`,
    [ids[0] ?? "missing", site.id],
  );
  await deployments.create({
    projectId: other.id,
    userId: user.id,
    status: "QUEUED",
    target: "production",
    branch: "main",
    commitSha: null,
  });
  // Variables as schema 10 stored them: one per key, for every deployment (014 gives them targets).
  for (const [projectId, value] of [
    [site.id, "sealed-value"],
    [other.id, "other-sealed-value"],
  ] as const) {
    const at = new Date().toISOString();
    db.run(
      "INSERT INTO project_env (project_id, key, value_encrypted, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
      [projectId, "API_KEY", value, at, at],
    );
  }
  await sqliteWebhooks(db).initSecret(site.id, "sealed-secret");
  // As schema 10 recorded a delivery (the repository's own method writes the payload table of 12 too).
  db.run("INSERT INTO webhook_deliveries (project_id, delivery_id, received_at) VALUES (?, ?, ?)", [
    site.id,
    "delivery-1",
    new Date().toISOString(),
  ]);
  await sqliteAudit(db).recordRejected({
    source: "bus",
    claimedDeploymentId: ids[1] ?? null,
    reason: "forged",
    excerpt: "{}",
  });
  await sqliteLoginAttempts(db).fail("ip:192.0.2.1", new Date().toISOString(), "2000-01-01T00:00:00.000Z");
  await sqliteCertificates(db).put({
    name: domain,
    certPem: "pem",
    keySealed: "key",
    notAfter: "2030-01-01T00:00:00.000Z",
  });
  const siteBefore = toProject(
    db.query<Record<string, unknown>, [string]>("SELECT * FROM projects WHERE id = ?").get(site.id) ?? {},
  );
  const before = snapshot(db);
  expect(before.rows.deployments).toHaveLength(4);
  db.close();

  const store = openSqliteStore(path);
  const later = SQLITE_MIGRATIONS.filter((m) => m.version > 10).map((m) => m.version);
  expect(later).toContain(11);
  expect(await store.migrate()).toEqual(later);

  const inspect = openDb(path);
  const after = snapshot(inspect);
  const { schema_migrations: versionsBefore, ...rowsBefore } = before.rows;
  const { schema_migrations: versionsAfter, ...rowsAfter } = after.rows;
  // 024 moved the custom domains out of the projects table: one per project that had one, verified where it was
  // proved, and the proofs (the stale one too).
  const parsed = (rows: string[] | undefined) => (rows ?? []).map((r) => JSON.parse(r) as Rows[number]);
  expect(parsed(rowsAfter.project_domains)).toEqual(
    expect.arrayContaining([
      expect.objectContaining({
        project_id: site.id,
        domain,
        position: 0,
        verified_at: "2026-01-01T00:00:00.000Z",
      }),
      expect.objectContaining({ project_id: other.id, domain: "blog.example.com", verified_at: null }),
    ]),
  );
  expect(
    parsed(rowsAfter.project_domain_proofs)
      .map((r) => [r.project_id, r.domain])
      .sort(),
  ).toEqual(
    [
      [site.id, domain],
      [other.id, domain],
    ].sort(),
  );
  delete rowsAfter.project_domains;
  delete rowsAfter.project_domain_proofs;
  // Tables of later migrations (e.g. 012's webhook_payloads) are new and empty; every older one is unchanged.
  const added = Object.keys(rowsAfter).filter((table) => !(table in rowsBefore));
  // 025: web analytics' daily salts start empty (the first proxy to count a request makes the day's).
  expect(added).toContain("analytics_salts");
  for (const table of added) expect(rowsAfter[table]).toEqual([]);
  for (const table of added) delete rowsAfter[table];
  // 014 rebuilt project_env: every variable kept, now applying to both targets.
  expect(parsed(rowsAfter.project_env)).toEqual(
    parsed(rowsBefore.project_env).map((r) => ({ ...r, production: 1, preview: 1 })),
  );
  delete rowsAfter.project_env;
  delete rowsBefore.project_env;
  // 015 gave every deployment a commit subject and author, unknown (null) for the ones built before.
  expect(parsed(rowsAfter.deployments)).toEqual(
    parsed(rowsBefore.deployments).map((r) => ({
      ...r,
      commit_message: null,
      commit_author: null,
      // 027: no build key for the ones built before (their output is never reused).
      build_key: null,
    })),
  );
  // ... and every project the time production started serving its deployment, estimated by its finish;
  // 016 added the app server columns, empty on every existing project; 019 deployment protection: every
  // existing project keeps serving as before ('none', no password); 023 teams: every project stays in its
  // owner's personal scope; 024 dropped the single-domain columns.
  const finished = new Map(parsed(rowsBefore.deployments).map((d) => [d.id, d.finished_at ?? null]));
  expect(parsed(rowsAfter.projects)).toEqual(
    parsed(rowsBefore.projects).map(({ custom_domain, verified_domain, domain_verified_at, ...p }) => ({
      ...p,
      production_since: finished.get(p.production_deployment_id) ?? null,
      start_command: null,
      idle_timeout_minutes: null,
      max_instances: null,
      protection: "none",
      protection_password_hash: null,
      team_id: null,
    })),
  );
  delete rowsAfter.projects;
  delete rowsBefore.projects;
  // 020 gave every API token an expiry, none for the tokens made before; 022 a scope, 'full' for them.
  expect(parsed(rowsAfter.api_tokens)).toEqual(
    parsed(rowsBefore.api_tokens).map((r) => ({ ...r, expires_at: null, scope: "full" })),
  );
  delete rowsAfter.api_tokens;
  delete rowsBefore.api_tokens;
  delete rowsAfter.deployments;
  delete rowsBefore.deployments;
  expect(rowsAfter).toEqual(rowsBefore);
  expect(versionsAfter).toHaveLength((versionsBefore?.length ?? 0) + later.length);
  // Indexes: all kept, but custom_domain's UNIQUE (sqlite's third automatic index of projects) is gone; 011's
  // claim indexes went with the columns in 024, whose project_domains indexes are new.
  const name = (i: { name: string }) => i.name;
  const expected = before.indexes.filter((i) => i.name !== "sqlite_autoindex_projects_3");
  expect(after.indexes.filter((i) => expected.some((e) => e.name === i.name))).toEqual(expected);
  expect(after.indexes.filter((i) => !expected.some((e) => e.name === i.name)).map(name)).toEqual(
    expect.arrayContaining([
      "project_domains_domain",
      "project_domains_verified",
      "project_domain_proofs_domain",
    ]),
  );
  expect(after.indexes.map(name)).not.toContain("projects_custom_domain");
  expect(after.indexes.map(name)).not.toContain("projects_verified_domain");
  expect(after.indexes.some((i) => i.name === "sqlite_autoindex_projects_3")).toBe(false);
  // Every column kept; 015's production_since, 016's app server columns, 019's protection and 023's team are the new ones.
  const NEW_COLUMNS = [
    "production_since",
    "start_command",
    "idle_timeout_minutes",
    "max_instances",
    "protection",
    "protection_password_hash",
    "team_id",
  ];
  const isNew = (c: Record<string, unknown>) => NEW_COLUMNS.includes(String(c.name));
  // (Without the column numbers: dropping 024's columns renumbers the ones after them.)
  const DROPPED = ["custom_domain", "verified_domain", "domain_verified_at"];
  const described = (c: Record<string, unknown>) => ({ ...c, cid: undefined });
  expect(after.columns.filter((c) => !isNew(c)).map(described)).toEqual(
    before.columns.filter((c) => !DROPPED.includes(String(c.name))).map(described),
  );
  expect(after.columns.filter(isNew).map((c) => c.name)).toEqual(NEW_COLUMNS);
  expect(inspect.query("PRAGMA foreign_key_check").all()).toEqual([]);
  expect(inspect.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });

  // The stored project reads back the same, production pointer, verified domain and all.
  const upgraded = await store.projects.find(site.id);
  const productionFinished = (await store.deployments.find(ids[0] ?? "missing"))?.finishedAt ?? null;
  expect(upgraded).toEqual(
    siteBefore && {
      ...siteBefore,
      productionSince: productionFinished,
      startCommand: null,
      idleTimeoutMinutes: null,
      maxInstances: null,
    },
  );
  expect(productionFinished).not.toBeNull();
  expect(upgraded?.productionDeploymentId).toBe(ids[0] ?? "missing");
  expect(upgraded?.customDomainVerifiedAt).not.toBeNull();
  expect(upgraded?.buildCommand).toBe("make");
  // The references point at the rebuilt table: foreign keys are on again, and deleting cascades.
  await expect(
    store.deployments.create({
      projectId: crypto.randomUUID(),
      userId: user.id,
      status: "QUEUED",
      target: "production",
      branch: "main",
      commitSha: null,
    }),
  ).rejects.toThrow(/FOREIGN KEY/);
  expect(await store.projects.delete(user.id, site.id)).toBe(true);
  const count = (table: string) =>
    Number(inspect.query<{ n: number }, []>(`SELECT count(*) AS n FROM ${table}`).get()?.n);
  expect([
    count("deployments"),
    count("project_env"),
    count("webhook_secrets"),
    count("webhook_deliveries"),
  ]).toEqual([1, 1, 0, 0]);
  // And the new rule holds: unverified claims of one domain coexist.
  const a = await store.projects.create({
    userId: user.id,
    ...settings({ customDomain: "new.example.com" }),
  });
  const b = await store.projects.create({
    userId: user.id,
    ...settings({ customDomain: "new.example.com" }),
  });
  expect([a.customDomain, b.customDomain]).toEqual(["new.example.com", "new.example.com"]);
  inspect.close();
  await store.close();
});

test("014 keeps every variable, for both targets, and then holds a value per target", async () => {
  const db = openDb(":memory:");
  const upTo12 = SQLITE_MIGRATIONS.filter((m) => m.version <= 12);
  migrateSqlite(db, upTo12);
  const user = await sqliteAccounts(db).users.create({ email: "env@example.com", passwordHash: null });
  const site = oldProject(db, user.id, "env-site", {});
  const at = "2026-01-02T03:04:05.000Z";
  for (const [key, value] of [
    ["DATABASE_URL", "sealed-db"],
    ["API_KEY", "sealed-key"],
  ] as const) {
    db.run(
      "INSERT INTO project_env (project_id, key, value_encrypted, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
      [site.id, key, value, at, at],
    );
  }
  expect(migrateSqlite(db, SQLITE_MIGRATIONS)).toContain(14);
  const env = sqliteEnv(db);
  expect(await env.list(site.id)).toEqual([
    { key: "API_KEY", targets: ["production", "preview"], valueEncrypted: "sealed-key", updatedAt: at },
    { key: "DATABASE_URL", targets: ["production", "preview"], valueEncrypted: "sealed-db", updatedAt: at },
  ]);
  await env.set(site.id, "DATABASE_URL", ["preview"], "sealed-preview-db");
  expect((await env.list(site.id)).map((v) => [v.key, v.targets, v.valueEncrypted])).toEqual([
    ["API_KEY", ["production", "preview"], "sealed-key"],
    ["DATABASE_URL", ["production"], "sealed-db"],
    ["DATABASE_URL", ["preview"], "sealed-preview-db"],
  ]);
  // The table itself refuses a second value for one target, and a variable for no target.
  expect(() =>
    db.run(
      "INSERT INTO project_env (project_id, key, production, preview, value_encrypted, created_at, updated_at) VALUES (?, 'API_KEY', 0, 1, 'x', ?, ?)",
      [site.id, at, at],
    ),
  ).toThrow(/UNIQUE/);
  expect(() =>
    db.run(
      "INSERT INTO project_env (project_id, key, production, preview, value_encrypted, created_at, updated_at) VALUES (?, 'NONE', 0, 0, 'x', ?, ?)",
      [site.id, at, at],
    ),
  ).toThrow(/CHECK/);
  db.close();
});

test("024 moves each project's custom domain and proofs into project_domains", async () => {
  const db = openDb(":memory:");
  migrateSqlite(
    db,
    SQLITE_MIGRATIONS.filter((m) => m.version <= 22),
  );
  const user = await sqliteAccounts(db).users.create({ email: "domains@example.com", passwordHash: null });
  // One holds Shop verified; a copy claims it unverified and once proved old.example; one has no domain.
  const shop = oldProject(db, user.id, "shop", {
    custom_domain: "WWW.Shop.example",
    verified_domain: "WWW.Shop.example",
    domain_verified_at: "2026-01-01T00:00:00.000Z",
  });
  const copy = oldProject(db, user.id, "copy", {
    custom_domain: "www.shop.example",
    verified_domain: "old.example",
    domain_verified_at: "2026-01-02T00:00:00.000Z",
  });
  const bare = oldProject(db, user.id, "bare", {});
  expect(migrateSqlite(db, SQLITE_MIGRATIONS)).toEqual(
    SQLITE_MIGRATIONS.filter((m) => m.version > 22).map((m) => m.version),
  );
  const projects = sqliteProjects(db);
  const domains = sqliteDomains(db);
  const held = await projects.find(shop.id);
  expect([held?.customDomain, held?.customDomainVerifiedAt]).toEqual([
    "www.shop.example",
    "2026-01-01T00:00:00.000Z",
  ]);
  expect((await domains.list(copy.id)).map((d) => [d.name, d.verifiedAt])).toEqual([
    ["www.shop.example", null],
  ]);
  expect(await domains.list(bare.id)).toEqual([]);
  const columns = db
    .query<{ name: string }, []>("PRAGMA table_info(projects)")
    .all()
    .map((c) => c.name);
  expect(columns).not.toContain("custom_domain");
  expect(columns).not.toContain("verified_domain");
  expect(columns).not.toContain("domain_verified_at");
  // The proof came along: going back to old.example is verified at once; the held domain stays held.
  const back = await projects.update(user.id, copy.id, { customDomain: "old.example" });
  expect(back?.customDomainVerifiedAt).not.toBeNull();
  await expect(domains.add(bare.id, { name: "www.shop.example" })).rejects.toThrow(
    "custom domain is already verified by another project",
  );
  expect(db.query("PRAGMA foreign_key_check").all()).toEqual([]);
  db.close();
});

test("a migration that would break references is rolled back, and foreign keys are on again", () => {
  const db = openDb(":memory:");
  migrateSqlite(db, SQLITE_MIGRATIONS);
  db.run(
    "INSERT INTO users (id, email, created_at) VALUES ('u1', 'a@example.com', '2026-01-01T00:00:00.000Z')",
  );
  db.run(
    `INSERT INTO projects (id, name, sub_domain, user_id, created_at, updated_at)
     VALUES ('p1', 'Site', 'site', 'u1', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')`,
  );
  // With foreign keys off, this delete leaves the project pointing at nobody.
  const bad = { version: 1000, sql: "DELETE FROM users" };
  let error: unknown = null;
  try {
    migrateSqlite(db, [...SQLITE_MIGRATIONS, bad]);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(AppError);
  expect(String(error)).toContain("schema migration 1000 would break 1 references");
  expect(db.query("SELECT count(*) AS n FROM users").get()).toEqual({ n: 1 });
  expect(db.query("SELECT max(version) AS v FROM schema_migrations").get()).toEqual({
    v: Math.max(...SQLITE_MIGRATIONS.map((m) => m.version)),
  });
  expect(db.query("PRAGMA foreign_keys").get()).toEqual({ foreign_keys: 1 });
  db.close();
});

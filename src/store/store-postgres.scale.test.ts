// Runs the store contract on a real PostgreSQL, in a fresh database per run; scripts/services.sh starts one if needed.

import { afterAll, beforeAll, expect, test } from "bun:test";
import postgres from "postgres";
import { testService } from "../testing/services.ts";
import { blobClaimsContract } from "./blob-claims.contract.ts";
import { cronRunsContract } from "./cron-runs.contract.ts";
import { deploymentsContract } from "./deployments.contract.ts";
import { domainsContract } from "./domains.contract.ts";
import { envContract } from "./env.contract.ts";
import { gitReportsContract } from "./git-reports.contract.ts";
import { limitsContract } from "./limits.contract.ts";
import { POSTGRES_MIGRATIONS } from "./migrations.ts";
import { deliveriesUse, outboxContract, reportsUse } from "./outbox.contract.ts";
import { outgoingHooksContract } from "./outgoing-hooks.contract.ts";
import { protectionContract } from "./protection.contract.ts";
import { routingContract } from "./routing.contract.ts";
import { storeContract } from "./store.contract.ts";
import type { Store } from "./store.ts";
import { openPostgresStore } from "./store-postgres.ts";
import { teamsContract } from "./teams.contract.ts";
import { webhooksContract } from "./webhooks.contract.ts";

interface Server {
  admin: postgres.Sql;
  /** Creates a uniquely named database (dropped in afterAll) and returns its URL. */
  createDatabase(): Promise<string>;
}

const created: string[] = [];
// Setup errors are kept and rethrown by every test, so a missing server fails the run instead of skipping it.
let server: Server | Error = new Error("beforeAll did not run");
let shared: Promise<Store> | null = null;

async function connect(): Promise<Server> {
  const url = testService("postgres");
  const admin = postgres(url, { max: 2, onnotice: () => {} });
  await admin`SELECT 1`.catch(async (e: unknown) => {
    await admin.end();
    throw new Error(
      `no PostgreSQL for the store tests at ${url}: ${e instanceof Error ? e.message : String(e)}`,
    );
  });
  return {
    admin,
    async createDatabase() {
      const name = `mv_test_${crypto.randomUUID().replaceAll("-", "")}`;
      await admin`CREATE DATABASE ${admin(name)}`;
      created.push(name);
      const database = new URL(url);
      database.pathname = `/${name}`;
      return database.href;
    },
  };
}

function ready(): Server {
  if (server instanceof Error) throw server;
  return server;
}

beforeAll(async () => {
  server = await connect().catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
}, 600_000);

afterAll(async () => {
  if (shared) await (await shared.catch(() => null))?.close();
  if (limitsStore) await (await limitsStore.catch(() => null))?.close();
  if (server instanceof Error) return;
  // FORCE: a failed test may have left a pool connected.
  for (const name of created) await server.admin`DROP DATABASE IF EXISTS ${server.admin(name)} WITH (FORCE)`;
  await server.admin.end();
});

/** One migrated store for the contracts that share it (each case makes its own users), opened on first use. */
function sharedStore(): Promise<Store> {
  shared ??= ready()
    .createDatabase()
    .then(async (url) => {
      const store = openPostgresStore(url);
      await store.migrate();
      return store;
    });
  return shared;
}

storeContract("postgres", sharedStore);
deploymentsContract("postgres", sharedStore);
routingContract("postgres", sharedStore);
webhooksContract("postgres", sharedStore);
domainsContract("postgres", sharedStore);
protectionContract("postgres", sharedStore);
blobClaimsContract("postgres", sharedStore);
cronRunsContract("postgres", sharedStore);
envContract("postgres", sharedStore);
outgoingHooksContract("postgres", sharedStore);
teamsContract("postgres", sharedStore);
gitReportsContract("postgres", sharedStore);
// The outbox both share, once per use.
outboxContract("postgres", sharedStore, deliveriesUse());
outboxContract("postgres", sharedStore, reportsUse());

// A database of their own: a claim takes the oldest QUEUED deployment of all, so no other case may leave any.
let limitsStore: Promise<Store> | null = null;
limitsContract("postgres", () => {
  limitsStore ??= ready()
    .createDatabase()
    .then(async (url) => {
      const store = openPostgresStore(url);
      await store.migrate();
      return store;
    });
  return limitsStore;
});

test("postgres: concurrent migrations of one fresh database apply each version once", async () => {
  const url = await ready().createDatabase();
  const stores = [openPostgresStore(url), openPostgresStore(url), openPostgresStore(url)];
  try {
    const applied = await Promise.all(stores.map((s) => s.migrate()));
    const versions = POSTGRES_MIGRATIONS.map((m) => m.version);
    expect(applied.flat().sort((a, b) => a - b)).toEqual(versions);
    const check = postgres(url, { max: 1, onnotice: () => {} });
    const rows = await check`SELECT version FROM schema_migrations ORDER BY version`;
    await check.end();
    expect(rows.map((r) => Number(r.version))).toEqual(versions);
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
});

test("postgres: 011 upgrades a database with claimed and verified domains, old proofs included", async () => {
  const url = await ready().createDatabase();
  const db = postgres(url, { max: 1, onnotice: () => {} });
  const store = openPostgresStore(url);
  try {
    // Version 10, as an older minivercel left it: the runner's bookkeeping, by hand.
    await db`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)`;
    for (const m of POSTGRES_MIGRATIONS.filter((m) => m.version <= 10)) {
      await db.unsafe(m.sql);
      await db`INSERT INTO schema_migrations (version, applied_at) VALUES (${m.version}, now())`;
    }
    await db`INSERT INTO users (id, email, created_at) VALUES ('u1', 'old@example.com', now())`;
    // p1 holds shop verified; p2 proved it too, earlier, then moved to blog (unverified): both allowed before 11.
    await db`INSERT INTO projects (id, name, sub_domain, custom_domain, user_id, domain_token, verified_domain, domain_verified_at)
      VALUES ('p1', 'Shop', 'shop', 'www.shop.example', 'u1', 't1', 'www.shop.example', now()),
             ('p2', 'Blog', 'blog', 'blog.example', 'u1', 't2', 'www.shop.example', now())`;
    await db`INSERT INTO deployments (id, project_id, user_id, created_at, updated_at) VALUES ('d1', 'p1', 'u1', now(), now())`;

    expect(await store.migrate()).toEqual(
      POSTGRES_MIGRATIONS.filter((m) => m.version > 10).map((m) => m.version),
    );
    expect((await store.projects.find("p1"))?.customDomainVerifiedAt).not.toBeNull();
    expect((await store.deployments.find("d1"))?.projectId).toBe("p1");
    // 019: projects made before deployment protection keep serving as they did.
    expect((await store.projects.find("p1"))?.protection).toBe("none");
    const constraints =
      await db`SELECT conname FROM pg_constraint WHERE conrelid = 'projects'::regclass ORDER BY conname`;
    expect(constraints.map((c) => c.conname)).toEqual([
      "projects_pkey",
      // 019: the protection mode is one of none, previews, all.
      "projects_protection_check",
      "projects_sub_domain_key",
      // 023: a project may belong to a team.
      "projects_team_id_fkey",
      "projects_user_id_fkey",
    ]);
    // The verified domain stays held; unverified claims of one domain now coexist.
    await expect(store.projects.update("u1", "p2", { customDomain: "www.shop.example" })).rejects.toThrow(
      "custom domain is already verified by another project",
    );
    for (const id of ["p1", "p2"]) await store.projects.update("u1", id, { customDomain: "new.example" });
    const claims = await Promise.all(["p1", "p2"].map((id) => store.projects.find(id)));
    expect(claims.map((p) => [p?.customDomain, p?.customDomainVerifiedAt])).toEqual([
      ["new.example", null],
      ["new.example", null],
    ]);
  } finally {
    await store.close();
    await db.end();
  }
});

test("postgres: 024 moves each project's custom domain and proofs into project_domains", async () => {
  const url = await ready().createDatabase();
  const db = postgres(url, { max: 1, onnotice: () => {} });
  const store = openPostgresStore(url);
  try {
    // Version 22, as the minivercel before several domains left it.
    await db`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)`;
    for (const m of POSTGRES_MIGRATIONS.filter((m) => m.version <= 22)) {
      await db.unsafe(m.sql);
      await db`INSERT INTO schema_migrations (version, applied_at) VALUES (${m.version}, now())`;
    }
    await db`INSERT INTO users (id, email, created_at) VALUES ('u1', 'old@example.com', now())`;
    // p1 holds Shop verified; p2 claims it unverified and once proved old.example; p3 has no domain.
    await db`INSERT INTO projects (id, name, sub_domain, custom_domain, user_id, domain_token, verified_domain, domain_verified_at)
      VALUES ('p1', 'Shop', 'shop', 'WWW.Shop.example', 'u1', 't1', 'WWW.Shop.example', '2026-01-01T00:00:00Z'),
             ('p2', 'Copy', 'copy', 'www.shop.example', 'u1', 't2', 'old.example', '2026-01-02T00:00:00Z'),
             ('p3', 'Bare', 'bare', NULL, 'u1', 't3', NULL, NULL)`;
    expect(await store.migrate()).toEqual(
      POSTGRES_MIGRATIONS.filter((m) => m.version > 22).map((m) => m.version),
    );
    const shop = await store.projects.find("p1");
    expect([shop?.customDomain, shop?.customDomainVerifiedAt]).toEqual([
      "www.shop.example",
      "2026-01-01T00:00:00.000Z",
    ]);
    expect((await store.domains.list("p2")).map((d) => [d.name, d.verifiedAt])).toEqual([
      ["www.shop.example", null],
    ]);
    expect(await store.domains.list("p3")).toEqual([]);
    const columns = await db`
      SELECT column_name FROM information_schema.columns WHERE table_name = 'projects'
        AND column_name IN ('custom_domain', 'verified_domain', 'domain_verified_at')`;
    expect(columns).toHaveLength(0);
    // The proof came along: p2 going back to old.example is verified at once; the held domain stays held.
    const back = await store.projects.update("u1", "p2", { customDomain: "old.example" });
    expect(back?.customDomainVerifiedAt).not.toBeNull();
    await expect(store.domains.add("p3", { name: "www.shop.example" })).rejects.toThrow(
      "custom domain is already verified by another project",
    );
    const routes = await store.projects.routes();
    expect(routes.find((r) => r.id === "p1")?.domains).toEqual([
      { name: "www.shop.example", redirectTo: null, redirectStatus: null },
    ]);
  } finally {
    await store.close();
    await db.end();
  }
});

test("postgres: 014 keeps every variable, for both targets, and then holds a value per target", async () => {
  const url = await ready().createDatabase();
  const db = postgres(url, { max: 1, onnotice: () => {} });
  const store = openPostgresStore(url);
  try {
    // Version 12, as an older minivercel left it, with variables (one per key, for every deployment).
    await db`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)`;
    for (const m of POSTGRES_MIGRATIONS.filter((m) => m.version <= 12)) {
      await db.unsafe(m.sql);
      await db`INSERT INTO schema_migrations (version, applied_at) VALUES (${m.version}, now())`;
    }
    await db`INSERT INTO users (id, email, created_at) VALUES ('u1', 'old@example.com', now())`;
    await db`INSERT INTO projects (id, name, sub_domain, user_id) VALUES ('p1', 'Shop', 'shop', 'u1')`;
    await db`INSERT INTO project_env (project_id, key, value_encrypted)
      VALUES ('p1', 'DATABASE_URL', 'sealed-db'), ('p1', 'API_KEY', 'sealed-key')`;

    expect(await store.migrate()).toContain(14);
    expect((await store.env.list("p1")).map((v) => [v.key, v.targets, v.valueEncrypted])).toEqual([
      ["API_KEY", ["production", "preview"], "sealed-key"],
      ["DATABASE_URL", ["production", "preview"], "sealed-db"],
    ]);
    await store.env.set("p1", "DATABASE_URL", ["preview"], "sealed-preview-db");
    expect((await store.env.list("p1")).map((v) => [v.key, v.targets, v.valueEncrypted])).toEqual([
      ["API_KEY", ["production", "preview"], "sealed-key"],
      ["DATABASE_URL", ["production"], "sealed-db"],
      ["DATABASE_URL", ["preview"], "sealed-preview-db"],
    ]);
    // The table itself refuses a second value for one target, and a variable for no target.
    await expect(
      db`INSERT INTO project_env (project_id, key, production, preview, value_encrypted)
        VALUES ('p1', 'API_KEY', FALSE, TRUE, 'x')`,
    ).rejects.toThrow(/project_env_preview/);
    await expect(
      db`INSERT INTO project_env (project_id, key, production, preview, value_encrypted)
        VALUES ('p1', 'NONE', FALSE, FALSE, 'x')`,
    ).rejects.toThrow(/project_env_some_target/);
  } finally {
    await store.close();
    await db.end();
  }
});

// Runs the store contract on a real PostgreSQL, in a fresh database per run; scripts/services.sh starts one if needed.

import { afterAll, beforeAll, expect, test } from "bun:test";
import postgres from "postgres";
import { testService } from "../testing-services.ts";
import { domainsContract } from "./domains.contract.ts";
import { limitsContract } from "./limits.contract.ts";
import { POSTGRES_MIGRATIONS } from "./migrations.ts";
import { storeContract } from "./store.contract.ts";
import type { Store } from "./store.ts";
import { openPostgresStore } from "./store-postgres.ts";

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

// One migrated store for all cases (each case makes its own users), opened on first use.
storeContract("postgres", () => {
  shared ??= ready()
    .createDatabase()
    .then(async (url) => {
      const store = openPostgresStore(url);
      await store.migrate();
      return store;
    });
  return shared;
});

domainsContract("postgres", () => {
  shared ??= ready()
    .createDatabase()
    .then(async (url) => {
      const store = openPostgresStore(url);
      await store.migrate();
      return store;
    });
  return shared;
});

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

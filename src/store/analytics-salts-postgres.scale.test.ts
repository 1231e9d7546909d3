// Runs the analytics salts contract on a real PostgreSQL, in a fresh database.

import { afterAll } from "bun:test";
import postgres from "postgres";
import { testPostgresUrl } from "../testing/pebble.ts";
import { saltsContract } from "./analytics-salts.contract.ts";
import type { Store } from "./store.ts";
import { openPostgresStore } from "./store-postgres.ts";

const name = `mv_salts_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
let admin: postgres.Sql | null = null;
let opened: Promise<Store> | null = null;

async function open(): Promise<Store> {
  const url = testPostgresUrl();
  admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const database = new URL(url);
  database.pathname = `/${name}`;
  const store = openPostgresStore(database.href);
  await store.migrate();
  return store;
}

afterAll(async () => {
  if (opened) await (await opened.catch(() => null))?.close();
  if (admin) {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
});

saltsContract("postgres", () => {
  opened ??= open();
  return opened;
});

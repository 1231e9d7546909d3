// sqlite schema upgrades: a migration runs with foreign keys off (so it may rebuild a table), and one that would
// leave broken references behind is rolled back.

import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { AppError } from "../errors.ts";
import { SQLITE_MIGRATIONS } from "./migrations.ts";
import { migrateSqlite } from "./store-sqlite.ts";

/** A database file as openSqliteStore opens it. */
function openDb(path: string): Database {
  const db = new Database(path, { create: true, strict: true });
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA foreign_keys = ON");
  return db;
}

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

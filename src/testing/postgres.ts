// Test support: a fresh database on the test PostgreSQL server (src/testing/services.ts), dropped when done.

import postgres from "postgres";
import { testService } from "./services.ts";

export interface TestDatabase {
  /** The database's URL, for DATABASE_URL. */
  url: string;
  /** Drops it, even with connections still open (a failed test may leave a pool behind). */
  drop(): Promise<void>;
}

async function asAdmin<T>(run: (admin: postgres.Sql) => Promise<T>): Promise<T> {
  const admin = postgres(testService("postgres"), { max: 1, onnotice: () => {} });
  try {
    return await run(admin);
  } finally {
    await admin.end();
  }
}

export async function testDatabase(): Promise<TestDatabase> {
  const name = `mv_test_${crypto.randomUUID().replaceAll("-", "")}`;
  await asAdmin((admin) => admin`CREATE DATABASE ${admin(name)}`);
  const url = new URL(testService("postgres"));
  url.pathname = `/${name}`;
  return {
    url: url.href,
    drop: () => asAdmin((admin) => admin`DROP DATABASE IF EXISTS ${admin(name)} WITH (FORCE)`).then(() => {}),
  };
}

// Versioned migrations per backend, embedded as text so the compiled binary carries its schema.

import pg001 from "../../schema/postgres/001_init.sql" with { type: "text" };
import sqlite001 from "../../schema/sqlite/001_init.sql" with { type: "text" };
import { AppError } from "../errors.ts";

export interface Migration {
  version: number;
  sql: string;
}

export const SQLITE_MIGRATIONS: Migration[] = [{ version: 1, sql: sqlite001 }];
export const POSTGRES_MIGRATIONS: Migration[] = [{ version: 1, sql: pg001 }];

/** Refuses to run against a database that a newer minivercel already migrated. */
export function assertNotNewer(applied: number, known: Migration[]): void {
  const latest = known.reduce((max, m) => Math.max(max, m.version), 0);
  if (applied > latest) {
    throw new AppError(
      "internal",
      `database schema version ${applied} is newer than this binary supports (${latest}); upgrade minivercel`,
    );
  }
}

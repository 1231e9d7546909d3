// Store on bun:sqlite: the query wrappers and UNIQUE-violation mapping shared by its repositories.

import type { Database, SQLQueryBindings } from "bun:sqlite";
import { conflict, domainTaken } from "../errors.ts";
import type { Row } from "./rows.ts";

export type Params = SQLQueryBindings[];

/** Maps a UNIQUE violation on a known column to a conflict the user can act on. */
export function uniqueViolation(error: unknown): never {
  const message = error instanceof Error ? error.message : "";
  if (message.includes("projects.sub_domain")) throw conflict("subdomain is already taken", "subDomain");
  // The unique index on verified claims (schema v24): another project verified the domain first.
  if (message.includes("index 'project_domains_verified'")) throw domainTaken();
  if (message.includes("users.email")) throw conflict("a user with this email already exists", "email");
  throw error;
}

/** get / all / run of one statement on `db`, rows as plain records. */
export function sqliteQueries(db: Database) {
  const one = (sql: string, ...params: Params): Row | null => db.query<Row, Params>(sql).get(...params);
  const all = (sql: string, ...params: Params): Row[] => db.query<Row, Params>(sql).all(...params);
  const run = (sql: string, ...params: Params) => db.query<Row, Params>(sql).run(...params);
  return { one, all, run };
}

// Store on PostgreSQL: the first-row helper and UNIQUE-violation mapping shared by its repositories.

import postgres from "postgres";
import { type AppError, conflict, domainTaken } from "../errors.ts";
import type { Row } from "./rows.ts";

/** The first row of a query, or null. */
export const first = async (query: Promise<Row[]>): Promise<Row | null> => (await query)[0] ?? null;

export const emailTaken = () => conflict("a user with this email already exists", "email");

/** UNIQUE constraints (Postgres' default names) -> the conflict the user can act on, as in the sqlite store. */
const CONFLICTS: Record<string, () => AppError> = {
  projects_sub_domain_key: () => conflict("subdomain is already taken", "subDomain"),
  // The unique index on verified claims (schema v24): another project verified the domain first.
  project_domains_verified: () => domainTaken(),
  users_email_key: emailTaken,
};

/** The UNIQUE constraint a statement violated (SQLSTATE 23505), or null for any other error. */
export function violatedUnique(error: unknown): string | null {
  if (!(error instanceof postgres.PostgresError) || error.code !== "23505") return null;
  return error.constraint_name ?? null;
}

/** Rethrows a known UNIQUE violation as its conflict, anything else unchanged. */
export function uniqueViolation(error: unknown): never {
  const mapped = CONFLICTS[violatedUnique(error) ?? ""];
  throw mapped ? mapped() : error;
}

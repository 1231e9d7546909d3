// Store port for the audit log: who changed what in a scope (a team or a personal account), when, from where.

import type { Page, PageRequest } from "./store.ts";

/** A scope's key in the log: `team:<id>` or `user:<id>` (a personal scope). */
export type AuditScope = `team:${string}` | `user:${string}`;

export interface AuditEvent {
  id: string;
  scope: AuditScope;
  /** The account that acted (null for the platform itself), and its email as it was then. */
  actorId: string | null;
  actorEmail: string | null;
  /** What happened, e.g. `project.create`, `deployment.promote`, `env.set`, `member.remove`. */
  action: string;
  /** What it happened to: a project, deployment, variable or member, in words. */
  target: string | null;
  /** Further facts, e.g. the new role or the changed settings' names. */
  detail: string | null;
  /** The client address the request came from (src/identity/client-address.ts). */
  address: string | null;
  createdAt: string;
}

/**
 * Append-only: there is no way to change or remove an entry (the tables refuse UPDATE and DELETE). Distinct from
 * `Audit` (src/store/store.ts), the operator's record of rejected bus events.
 */
export interface AuditLog {
  append(event: Omit<AuditEvent, "id" | "createdAt">): Promise<AuditEvent>;
  /** Newest first, keyset-paged. */
  list(scope: AuditScope, page: PageRequest): Promise<Page<AuditEvent>>;
}

// Row <-> domain mapping and keyset cursors, shared by the sqlite and Postgres stores.

import { badRequest } from "../errors.ts";
import {
  DEFAULT_REDIRECT_STATUS,
  type ProjectDomain,
  REDIRECT_STATUSES,
  type RedirectStatus,
  type RouteDomain,
} from "../model/domains.ts";
import {
  type ApiToken,
  DEPLOYMENT_TARGETS,
  type Deployment,
  type DeploymentTarget,
  PROTECTION_MODES,
  type Project,
  type ProjectRoute,
  type ProtectionMode,
  type Session,
  type TokenScope,
  type User,
} from "../model/entities.ts";
import { isStatus } from "../model/status.ts";
import type { CronRun } from "./cron-runs.ts";
import type { Page, RejectedEvent, StoredEnvVar, WebhookLogEntry } from "./store.ts";

/** A raw row as either driver returns it: text, numbers, Dates (Postgres timestamptz) or null. */
export type Row = Record<string, unknown>;

export const newId = (): string => crypto.randomUUID();
export const nowIso = (): string => new Date().toISOString();
/** A project's domain verification token: 128 random bits in hex, published by the owner in DNS. */
export const newDomainToken = (): string =>
  Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("hex");

export function str(row: Row, key: string): string {
  const v = row[key];
  if (typeof v === "string") return v;
  if (v instanceof Date) return v.toISOString();
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  throw new Error(`store: column ${key} is not text`);
}

export function optStr(row: Row, key: string): string | null {
  return row[key] === null || row[key] === undefined ? null : str(row, key);
}

function optInt(row: Row, key: string): number | null {
  const v = row[key];
  return v === null || v === undefined ? null : Number(v);
}

export function toUser(row: Row): User {
  return {
    id: str(row, "id"),
    email: str(row, "email"),
    passwordHash: optStr(row, "password_hash"),
    externalIssuer: optStr(row, "external_issuer"),
    externalSubject: optStr(row, "external_subject"),
    createdAt: str(row, "created_at"),
  };
}

export function toToken(row: Row): ApiToken {
  return {
    id: str(row, "id"),
    userId: str(row, "user_id"),
    name: str(row, "name"),
    prefix: str(row, "prefix"),
    createdAt: str(row, "created_at"),
    lastUsedAt: optStr(row, "last_used_at"),
    revokedAt: optStr(row, "revoked_at"),
    expiresAt: optStr(row, "expires_at"),
    scope: tokenScopeOf(row),
  };
}

/** A token's scope; anything unknown reads as the narrowest, 'read' (a newer binary's scope, say). */
function tokenScopeOf(row: Row): TokenScope {
  const value = row.scope ?? "full";
  return value === "full" || value === "deploy" ? value : "read";
}

export function toSession(row: Row): Session {
  return {
    userId: str(row, "user_id"),
    csrfToken: str(row, "csrf_token"),
    createdAt: str(row, "created_at"),
    expiresAt: str(row, "expires_at"),
  };
}

/**
 * Projects as the repositories read them: every column, plus the first (primary) custom domain of
 * project_domains as custom_domain and its verified_at as domain_verified_at. Append a WHERE on `p`.
 */
export const PROJECT_SELECT = `SELECT p.*, d.domain AS custom_domain, d.verified_at AS domain_verified_at
  FROM projects p LEFT JOIN project_domains d ON d.project_id = p.id
    AND d.position = (SELECT min(e.position) FROM project_domains e WHERE e.project_id = p.id)`;

export function toDomain(row: Row): ProjectDomain {
  const status = optInt(row, "redirect_status");
  const redirectTo = optStr(row, "redirect_to");
  return {
    name: str(row, "domain"),
    verifiedAt: optStr(row, "verified_at"),
    redirectTo,
    redirectStatus:
      redirectTo === null
        ? null
        : (REDIRECT_STATUSES as readonly number[]).includes(status ?? 0)
          ? (status as RedirectStatus)
          : DEFAULT_REDIRECT_STATUS,
    createdAt: str(row, "created_at"),
  };
}

/** The stored protection mode; a value this binary does not know protects everything (fails closed). */
export function protectionOf(row: Row): ProtectionMode {
  const mode = row.protection ?? "none";
  return (PROTECTION_MODES as readonly unknown[]).includes(mode) ? (mode as ProtectionMode) : "all";
}

export function toProject(row: Row): Project {
  return {
    id: str(row, "id"),
    userId: str(row, "user_id"),
    teamId: optStr(row, "team_id"),
    name: str(row, "name"),
    gitUrl: optStr(row, "git_url"),
    subDomain: str(row, "sub_domain"),
    customDomain: optStr(row, "custom_domain"),
    customDomainVerifiedAt: optStr(row, "domain_verified_at"),
    domainToken: str(row, "domain_token"),
    productionBranch: str(row, "production_branch"),
    rootDirectory: optStr(row, "root_directory"),
    installCommand: optStr(row, "install_command"),
    buildCommand: optStr(row, "build_command"),
    outputDirectory: optStr(row, "output_directory"),
    buildTimeoutSeconds: optInt(row, "build_timeout_seconds"),
    spaFallback: row.spa_fallback === true || Number(row.spa_fallback) === 1,
    startCommand: optStr(row, "start_command"),
    idleTimeoutMinutes: optInt(row, "idle_timeout_minutes"),
    maxInstances: optInt(row, "max_instances"),
    productionDeploymentId: optStr(row, "production_deployment_id"),
    previousProductionDeploymentId: optStr(row, "previous_production_deployment_id"),
    productionSince: optStr(row, "production_since"),
    protection: protectionOf(row),
    protectionPassword: typeof row.protection_password_hash === "string",
    createdAt: str(row, "created_at"),
    updatedAt: str(row, "updated_at"),
  };
}

export function toRejected(row: Row): RejectedEvent {
  return {
    at: str(row, "at"),
    source: str(row, "source"),
    claimedDeploymentId: optStr(row, "claimed_deployment_id"),
    reason: str(row, "reason"),
    excerpt: str(row, "excerpt"),
  };
}

/** A project's routing fields; `domains` are its verified custom domains, in order. */
export function toRoute(row: Row, domains: RouteDomain[]): ProjectRoute {
  return {
    id: str(row, "id"),
    subDomain: str(row, "sub_domain"),
    domains,
    productionDeploymentId: optStr(row, "production_deployment_id"),
    spaFallback: row.spa_fallback === true || Number(row.spa_fallback) === 1,
  };
}

/** Verified domains (rows with project_id, in order) grouped by project, as routes carry them. */
export function routeDomains(rows: Row[]): Map<string, RouteDomain[]> {
  const byProject = new Map<string, RouteDomain[]>();
  for (const row of rows) {
    const { name, redirectTo, redirectStatus } = toDomain(row);
    const id = str(row, "project_id");
    byProject.set(id, [...(byProject.get(id) ?? []), { name, redirectTo, redirectStatus }]);
  }
  return byProject;
}

export function toWebhookLogEntry(row: Row): WebhookLogEntry {
  let ids: unknown;
  try {
    ids = JSON.parse(str(row, "deployment_ids"));
  } catch {
    ids = [];
  }
  return {
    id: str(row, "id"),
    provider: str(row, "provider"),
    event: optStr(row, "event"),
    status: Number(row.status),
    outcome: str(row, "outcome"),
    deploymentIds: Array.isArray(ids) ? ids.filter((id): id is string => typeof id === "string") : [],
    receivedAt: str(row, "received_at"),
  };
}

export function toDeployment(row: Row): Deployment {
  const status = str(row, "status");
  if (!isStatus(status)) throw new Error(`store: unknown deployment status ${status}`);
  const target = str(row, "target");
  return {
    id: str(row, "id"),
    projectId: str(row, "project_id"),
    userId: str(row, "user_id"),
    status,
    statusReason: optStr(row, "status_reason"),
    target: (target === "production" ? "production" : "preview") satisfies DeploymentTarget,
    branch: optStr(row, "branch"),
    branchSlug: optStr(row, "branch_slug"),
    commitSha: optStr(row, "commit_sha"),
    commitMessage: optStr(row, "commit_message"),
    commitAuthor: optStr(row, "commit_author"),
    claimedBy: optStr(row, "claimed_by"),
    heartbeatAt: optStr(row, "heartbeat_at"),
    startedAt: optStr(row, "started_at"),
    finishedAt: optStr(row, "finished_at"),
    expiredAt: optStr(row, "expired_at"),
    createdAt: str(row, "created_at"),
    updatedAt: str(row, "updated_at"),
  };
}

export function toCronRun(row: Row): CronRun {
  return {
    id: str(row, "id"),
    projectId: str(row, "project_id"),
    deploymentId: str(row, "deployment_id"),
    path: str(row, "path"),
    schedule: str(row, "schedule"),
    trigger: str(row, "trigger") === "manual" ? "manual" : "schedule",
    scheduledAt: str(row, "scheduled_at"),
    startedAt: str(row, "started_at"),
    claimedBy: str(row, "claimed_by"),
    finishedAt: optStr(row, "finished_at"),
    status: optInt(row, "status"),
    durationMs: optInt(row, "duration_ms"),
    error: optStr(row, "error"),
  };
}

export function toEnvVar(row: Row): StoredEnvVar {
  return {
    key: str(row, "key"),
    // One column per target: 0/1 in sqlite, a boolean in Postgres.
    targets: DEPLOYMENT_TARGETS.filter((target) => row[target] === true || Number(row[target]) === 1),
    valueEncrypted: str(row, "value_encrypted"),
    updatedAt: str(row, "updated_at"),
  };
}

/** Project settings (camelCase) -> column names, for INSERT and partial UPDATE. */
export const PROJECT_COLUMNS = {
  name: "name",
  gitUrl: "git_url",
  subDomain: "sub_domain",
  productionBranch: "production_branch",
  rootDirectory: "root_directory",
  installCommand: "install_command",
  buildCommand: "build_command",
  outputDirectory: "output_directory",
  buildTimeoutSeconds: "build_timeout_seconds",
  spaFallback: "spa_fallback",
  startCommand: "start_command",
  idleTimeoutMinutes: "idle_timeout_minutes",
  maxInstances: "max_instances",
} as const;

/** A 12-hex host id -> the LIKE pattern of the uuid it abbreviates ("0123456789ab" -> "01234567-89ab%"). */
export function hostIdPattern(hostId: string): string | null {
  return /^[0-9a-f]{12}$/.test(hostId) ? `${hostId.slice(0, 8)}-${hostId.slice(8)}%` : null;
}

export interface Cursor {
  createdAt: string;
  id: string;
}

export function encodeCursor(item: { createdAt: string; id: string }): string {
  return Buffer.from(JSON.stringify([item.createdAt, item.id])).toString("base64url");
}

export function decodeCursor(cursor: string | null): Cursor | null {
  if (cursor === null) return null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      typeof parsed[0] === "string" &&
      typeof parsed[1] === "string"
    ) {
      if (!Number.isNaN(Date.parse(parsed[0]))) return { createdAt: parsed[0], id: parsed[1] };
    }
  } catch {
    // fall through to the error below
  }
  throw badRequest("invalid cursor", "cursor");
}

/** Rows fetched with limit + 1 -> a page and the cursor of its last item when more exist. */
export function toPage<T extends { createdAt: string; id: string }>(items: T[], limit: number): Page<T> {
  if (items.length <= limit) return { items, nextCursor: null };
  const page = items.slice(0, limit);
  const last = page[page.length - 1];
  return { items: page, nextCursor: last ? encodeCursor(last) : null };
}

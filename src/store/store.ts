// Store port: projects, deployments, users, sessions, tokens, env vars. One interface, two backends.

import type { StoreConfig } from "../config/config.ts";
import type {
  ApiToken,
  Deployment,
  DeploymentTarget,
  Project,
  ProjectRoute,
  ProjectSettings,
  ProtectionMode,
  Session,
  TokenScope,
  User,
} from "../model/entities.ts";
import type { DeploymentStatus } from "../model/status.ts";
import type { AnalyticsSalts } from "./analytics-salts.ts";
import type { AuditLog } from "./audit-log.ts";
import type { BlobClaims } from "./blob-claims.ts";
import type { Certificates } from "./certs.ts";
import type { CronRuns } from "./cron-runs.ts";
import type { ProjectDomains } from "./domains.ts";
import type { GitReports } from "./git-reports.ts";
import type { LoginAttempts } from "./login-attempts.ts";
import type { OutgoingHooks } from "./outgoing-hooks.ts";
import type { Protection } from "./protection.ts";
import type { RateBuckets } from "./rate-buckets.ts";
import type { Teams } from "./teams.ts";

/** A project environment variable as stored: the value is ciphertext (see src/deploy/env.ts). */
export interface StoredEnvVar {
  key: string;
  /** The deployments it applies to: production, preview or both (in that order); never empty. */
  targets: DeploymentTarget[];
  valueEncrypted: string;
  updatedAt: string;
}

/** Keyset page request: newest first, `cursor` is the opaque value returned as `nextCursor`. */
export interface PageRequest {
  limit: number;
  cursor: string | null;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Users {
  create(input: { email: string; passwordHash: string | null }): Promise<User>;
  byEmail(email: string): Promise<User | null>;
  byId(id: string): Promise<User | null>;
  /** Finds or creates the local user for a verified external identity (issuer + subject). */
  upsertExternal(input: { issuer: string; subject: string; email: string | null }): Promise<User>;
  count(): Promise<number>;
  /** Replaces a password user's hash; false for an unknown user or one without a password (external). */
  setPassword(userId: string, passwordHash: string): Promise<boolean>;
}

export interface Tokens {
  create(input: {
    userId: string;
    name: string;
    prefix: string;
    hash: string;
    expiresAt?: string | null;
    /** Default 'full'. */
    scope?: TokenScope;
  }): Promise<ApiToken>;
  /** Resolves a live (not revoked, not expired at `at`) token by its hash, recording the use. */
  use(hash: string, at: string): Promise<{ token: ApiToken; user: User } | null>;
  list(userId: string): Promise<ApiToken[]>;
  /** Returns false when the token does not exist or belongs to someone else. */
  revoke(userId: string, tokenId: string): Promise<boolean>;
}

export interface Sessions {
  create(input: { hash: string; userId: string; csrfToken: string; expiresAt: string }): Promise<Session>;
  get(hash: string, now: string): Promise<{ session: Session; user: User } | null>;
  delete(hash: string): Promise<void>;
  /** A user's live sessions, newest first, each with the hash that names it. */
  list(userId: string, now: string): Promise<{ hash: string; session: Session }[]>;
  /** Ends one of the user's sessions; false when it is not theirs (or gone). */
  deleteOwn(userId: string, hash: string): Promise<boolean>;
  /** Ends every session of the user but `keepHash` (after a password change); returns how many ended. */
  deleteOthers(userId: string, keepHash: string): Promise<number>;
}

/** How saving a project (create, update) treats the custom domain it sets. */
export interface ProjectSave {
  /** DOMAIN_VERIFICATION=off: the saved custom domain counts as verified at once, in the same transaction. */
  trustDomain?: boolean;
  /** The most custom domains a project may hold (0: no limit); setting the first one past it is a conflict. */
  maxDomains?: number;
}

/** A project whose custom domain is now verified, and the projects whose claims of that domain it displaced. */
export interface DomainVerified {
  project: Project;
  displaced: string[];
}

/**
 * A project's `customDomain` is its first (primary) custom domain (src/store/domains.ts holds them all, with the
 * claim rules): saving one replaces the primary domain, saving null removes it. Custom domains compare
 * case-insensitively. Several projects may claim one domain unverified, but only one may hold it verified:
 * saving a domain another project holds verified is a conflict. A claim that becomes verified (markDomainVerified,
 * a trusted save, or a project going back to a domain it proved before) displaces in the same transaction the
 * other projects' unverified claims of that domain and their older proofs of it. So nobody can block a domain's
 * owner by saving it first, and of two projects verifying one domain at once exactly one wins.
 */
export interface Projects {
  /**
   * Throws a conflict AppError when the subdomain or custom domain is taken, and a project_limit one when
   * `maxPerUser` > 0 and the user already has that many projects (checked atomically with the insert).
   */
  create(
    /** `protection` defaults to none (the platform's default for new projects is applied by src/deploy/projects.ts). */
    input: { userId: string; protection?: ProtectionMode; teamId?: string | null } & ProjectSettings,
    maxPerUser?: number,
    options?: ProjectSave,
  ): Promise<Project>;
  /**
   * Scoped to whom the project is visible (its owner while personal, its team's members): anyone else's project
   * is indistinguishable from a missing one. (Roles are checked in src/deploy/access.ts.)
   */
  get(userId: string, id: string): Promise<Project | null>;
  /** The user's personal projects, or with `teamId` the team's (none unless the user is a member). */
  list(userId: string, page: PageRequest, teamId?: string | null): Promise<Page<Project>>;
  /**
   * Moves a project to a team (`teamId`), or to `userId`'s personal scope (`teamId` null); callers check that the
   * user owns both scopes. Null when there is no such project. With `maxPerScope` > 0, a destination holding that
   * many projects already refuses it (project_limit), counted and moved atomically as in create.
   */
  transfer(
    id: string,
    to: { teamId: string | null; userId: string },
    maxPerScope?: number,
  ): Promise<Project | null>;
  /** Throws a conflict AppError when the subdomain or custom domain is taken (as create). */
  update(
    userId: string,
    id: string,
    patch: Partial<ProjectSettings>,
    options?: ProjectSave,
  ): Promise<Project | null>;
  delete(userId: string, id: string): Promise<boolean>;
  /**
   * How many projects count against MAX_PROJECTS_PER_USER in a scope: a team's projects (whoever created them)
   * when `teamId` is given, else the user's personal projects (not the team projects they created).
   */
  count(userId: string, teamId?: string | null): Promise<number>;
  /** Unscoped read, for the platform's own roles (worker, proxy); never for a user's request. */
  find(id: string): Promise<Project | null>;
  /** Every project's routing fields, for the proxy's route table. */
  routes(): Promise<ProjectRoute[]>;
  /**
   * Points production at `deploymentId` (a READY, not expired deployment of the project) and remembers the
   * previous one; one atomic update. Null when the deployment is not READY or not the project's.
   */
  promote(projectId: string, deploymentId: string): Promise<Project | null>;
  /** Swaps production and previous production; null when there is nothing to roll back to. */
  rollback(projectId: string): Promise<Project | null>;
  /**
   * Marks `domain` verified, if it is still the project's custom domain (else null), displacing the other
   * projects' claims of it. Throws a conflict AppError when another project holds it verified (it won a race).
   */
  markDomainVerified(projectId: string, domain: string): Promise<DomainVerified | null>;
}

/**
 * Per-project environment variables, per target (callers check ownership of the project first). A key has at
 * most one value per target; one stored variable may hold it for both.
 */
export interface ProjectEnv {
  /**
   * Sets `key` to one value for each of `targets` (not empty), atomically. The key's value for any other target
   * stays: a variable that applied to both keeps applying to the target not named.
   */
  set(projectId: string, key: string, targets: DeploymentTarget[], valueEncrypted: string): Promise<void>;
  /** By key; a key's production variable before its preview-only one. */
  list(projectId: string): Promise<StoredEnvVar[]>;
  /** Removes `key` for each of `targets` (others keep theirs); false when it had a value for none of them. */
  remove(projectId: string, key: string, targets: DeploymentTarget[]): Promise<boolean>;
}

/** What a deployment list can be narrowed to (src/dashboard's filters). */
export interface DeploymentFilter {
  branch?: string;
  target?: DeploymentTarget;
  status?: DeploymentStatus;
}

/** A commit's subject line and author, as the build read them. */
export interface CommitDetails {
  message: string | null;
  author: string | null;
}

export interface Deployments {
  create(input: {
    /** A fresh id chosen by the caller (a rebuild is named before it is created); by default a new one. */
    id?: string;
    projectId: string;
    userId: string;
    status: DeploymentStatus;
    target: DeploymentTarget;
    branch: string | null;
    commitSha: string | null;
  }): Promise<Deployment>;
  /** Scoped to whom the deployment's project is visible (as Projects.get). */
  get(userId: string, id: string): Promise<Deployment | null>;
  /** Newest first; `filter` narrows to a branch, a target and/or a status (all must match). */
  list(
    userId: string,
    projectId: string,
    page: PageRequest,
    filter?: DeploymentFilter,
  ): Promise<Page<Deployment>>;
  /**
   * Compare-and-set transition: applies only if the current status is a legal predecessor of `to`.
   * Returns the updated deployment, or null when the transition was refused (already further along).
   */
  transition(id: string, to: DeploymentStatus, reason: string | null): Promise<Deployment | null>;
  /** Unscoped read, for the platform's own roles. */
  find(id: string): Promise<Deployment | null>;
  /** A project's deployments, newest first, unscoped: for the platform's own work (never a user's request). */
  ofProject(projectId: string, page: PageRequest): Promise<Page<Deployment>>;
  /** The READY deployment of a project whose id starts with these 12 hex digits (its immutable host). */
  findByHostId(projectId: string, hostId: string): Promise<Deployment | null>;
  /**
   * The newest READY deployment of a project's branch, by its slug; a slug cut short to fit a host name
   * (`truncated`) matches branch slugs that start with it.
   */
  latestForBranch(projectId: string, slug: string, truncated: boolean): Promise<Deployment | null>;
  /**
   * Claims the oldest QUEUED deployment whose project has no build IN_PROGRESS and moves it to IN_PROGRESS,
   * exclusively: two workers (even in two processes on one Postgres) never claim the same one. With
   * `maxPerUser` > 0, a deployment whose user already has that many builds IN_PROGRESS waits (others go first).
   */
  claimNext(
    workerId: string,
    at: string,
    maxPerUser?: number,
  ): Promise<{ deployment: Deployment; project: Project } | null>;
  /**
   * Records the commit a branch deployment resolved to, and its subject and author when the build read them
   * (each only the first time: a redeploy of a known commit still learns its subject).
   */
  recordCommit(id: string, sha: string, details?: CommitDetails): Promise<void>;
  /** Records what a build is made from (src/worker/reuse.ts): a digest, never the variables themselves. */
  recordBuildKey(id: string, key: string): Promise<void>;
  /** The project's newest READY deployment built with this key, or null (what a new build may reuse). */
  findBuilt(projectId: string, key: string): Promise<Deployment | null>;
  /** Records a sign of life of a running build (ignored unless IN_PROGRESS). */
  heartbeat(id: string, at: string): Promise<void>;
  /**
   * IN_PROGRESS -> READY, and for a production deployment moves the project's production pointer to it
   * unless a newer deployment is already production; one atomic update. Null when not IN_PROGRESS.
   */
  markReady(id: string): Promise<Deployment | null>;
  /** Cancels QUEUED deployments of the same project and branch created before `newer` (a newer push wins). */
  supersede(newer: Deployment): Promise<string[]>;
  /** IN_PROGRESS deployments whose last sign of life is older than `before`, or claimed by `claimedBy`. */
  stale(before: string, claimedBy?: string): Promise<Deployment[]>;
  /**
   * NOT_STARTED deployments last changed before `before`, oldest first: the process creating them (an upload, a
   * rebuild) stopped before it queued or published them, so nothing else will move them on.
   */
  abandoned(before: string): Promise<Deployment[]>;
  /**
   * Preview deployments past their retention: READY, not expired, created before `before`, and neither the
   * project's production or previous production deployment nor the newest READY deployment of their branch.
   * Oldest first, at most `limit`.
   */
  expirable(before: string, limit: number): Promise<Deployment[]>;
  /**
   * Marks a deployment expired (its files go next), unless it is by now its project's production or previous
   * production deployment: one atomic check-and-set against a concurrent promote. True when this call expired it.
   */
  expire(id: string): Promise<boolean>;
  /** How many deployments have this status now, across all projects (the build queue depth for /metrics). */
  countWithStatus(status: DeploymentStatus): Promise<number>;
}

/** A build event the platform refused, as recorded for the operator. */
export interface RejectedEvent {
  at: string;
  /** Who sent it: "build-api", "bus". */
  source: string;
  /** The deployment the event claimed to be about, when it named one. */
  claimedDeploymentId: string | null;
  reason: string;
  /** The start of the refused payload, for forensics. */
  excerpt: string;
}

export interface Audit {
  recordRejected(event: Omit<RejectedEvent, "at">): Promise<void>;
  recentRejected(limit: number): Promise<RejectedEvent[]>;
}

/** Git webhook state per project (callers check ownership, or verify a delivery's signature, first). */
export interface Webhooks {
  /** The project's sealed webhook secret, or null before one was made. */
  secret(projectId: string): Promise<string | null>;
  /** Stores `sealed` unless the project already has a secret; returns the one stored (first writer wins). */
  initSecret(projectId: string, sealed: string): Promise<string>;
  /**
   * Records a delivery under both its keys, atomically: false, recording nothing, when this project already has
   * either (a provider's redelivery, or a captured body resent under a new id). Kept as long as the project: a
   * record expiring would let that old body be replayed, and only deliveries that act add one.
   */
  recordDelivery(projectId: string, delivery: DeliveryKeys): Promise<boolean>;
  /** Forgets both keys of a delivery whose handling failed, so a redelivery is handled. */
  forgetDelivery(projectId: string, delivery: DeliveryKeys): Promise<void>;
  /** Notes a delivery that reached the project, keeping only its newest `keep` notes (the dashboard shows them). */
  logDelivery(
    projectId: string,
    entry: Omit<WebhookLogEntry, "id" | "receivedAt">,
    keep: number,
  ): Promise<void>;
  /** The project's noted deliveries, newest first. */
  recentDeliveries(projectId: string, limit: number): Promise<WebhookLogEntry[]>;
}

/** One webhook delivery as the project's Git page shows it: what came, and what it triggered. */
export interface WebhookLogEntry {
  id: string;
  provider: string;
  /** The provider's event name (push, Push Hook, pull_request…), when it sent one. */
  event: string | null;
  /** The HTTP status it was answered with. */
  status: number;
  /** What happened, in words: "deployed main", "ignored: …", "duplicate", "signature does not match". */
  outcome: string;
  deploymentIds: string[];
  receivedAt: string;
}

/** What identifies a webhook delivery: the provider's id (old GitLab sends none) and the sha256 of its body. */
export interface DeliveryKeys {
  id: string | null;
  bodySha256: string;
}

export interface Store {
  users: Users;
  tokens: Tokens;
  sessions: Sessions;
  projects: Projects;
  /** A project's custom domains, their verification and redirects (src/store/domains.ts). */
  domains: ProjectDomains;
  deployments: Deployments;
  env: ProjectEnv;
  audit: Audit;
  webhooks: Webhooks;
  loginAttempts: LoginAttempts;
  /** Automatic HTTPS: certificates, ACME account and challenges, issuance leases (src/store/certs.ts). */
  certificates: Certificates;
  /** Runs of deployments' cron jobs (src/store/cron-runs.ts). */
  cronRuns: CronRuns;
  /** Which uploaded blobs each scope has proved to hold (src/store/blob-claims.ts). */
  blobClaims: BlobClaims;
  /** The API's request budgets, shared by every api process (src/store/rate-buckets.ts). */
  rateBuckets: RateBuckets;
  /** Deployment protection: modes, passwords and bypass tokens per project (src/store/protection.ts). */
  protection: Protection;
  /** Outgoing webhooks: hooks, the delivery outbox and its attempt log (src/store/outgoing-hooks.ts). */
  outgoingHooks: OutgoingHooks;
  /** Teams, their members and invitations (src/store/teams.ts). */
  teams: Teams;
  /** The append-only audit log of each team and personal scope (src/store/audit-log.ts). */
  auditLog: AuditLog;
  /** Commit statuses and pull-request comments: provider settings and their outbox (src/store/git-reports.ts). */
  gitReports: GitReports;
  /** Web analytics' daily salts, shared by every proxy (src/store/analytics-salts.ts). */
  analyticsSalts: AnalyticsSalts;
  /** Applies pending migrations; refuses a schema newer than this binary. Returns versions applied. */
  migrate(): Promise<number[]>;
  close(): Promise<void>;
}

/** Opens the configured store; the Postgres client is loaded only when it is used. */
export async function openStore(config: StoreConfig): Promise<Store> {
  switch (config.kind) {
    case "sqlite": {
      const { openSqliteStore } = await import("./store-sqlite.ts");
      return openSqliteStore(config.path);
    }
    case "postgres": {
      const { openPostgresStore } = await import("./store-postgres.ts");
      return openPostgresStore(config.url);
    }
  }
}

// Store port: projects, deployments, users, sessions, tokens, env vars. One interface, two backends.

import type { DeploymentStatus } from "../deploy/status.ts";

export interface User {
  id: string;
  email: string;
  passwordHash: string | null;
  externalIssuer: string | null;
  externalSubject: string | null;
  createdAt: string;
}

export interface ApiToken {
  id: string;
  userId: string;
  name: string;
  /** First characters of the token, shown in listings so users can tell tokens apart. */
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface Session {
  userId: string;
  csrfToken: string;
  createdAt: string;
  expiresAt: string;
}

export interface Project {
  id: string;
  userId: string;
  name: string;
  gitUrl: string | null;
  subDomain: string;
  customDomain: string | null;
  productionBranch: string;
  rootDirectory: string | null;
  installCommand: string | null;
  buildCommand: string | null;
  outputDirectory: string | null;
  buildTimeoutSeconds: number | null;
  productionDeploymentId: string | null;
  createdAt: string;
  updatedAt: string;
}

export type ProjectSettings = Pick<
  Project,
  | "name"
  | "gitUrl"
  | "subDomain"
  | "customDomain"
  | "productionBranch"
  | "rootDirectory"
  | "installCommand"
  | "buildCommand"
  | "outputDirectory"
  | "buildTimeoutSeconds"
>;

export type DeploymentTarget = "production" | "preview";

export interface Deployment {
  id: string;
  projectId: string;
  userId: string;
  status: DeploymentStatus;
  statusReason: string | null;
  target: DeploymentTarget;
  branch: string | null;
  commitSha: string | null;
  createdAt: string;
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
}

export interface Tokens {
  create(input: { userId: string; name: string; prefix: string; hash: string }): Promise<ApiToken>;
  /** Resolves a live (not revoked) token by its hash, recording the use. */
  use(hash: string, at: string): Promise<{ token: ApiToken; user: User } | null>;
  list(userId: string): Promise<ApiToken[]>;
  /** Returns false when the token does not exist or belongs to someone else. */
  revoke(userId: string, tokenId: string): Promise<boolean>;
}

export interface Sessions {
  create(input: { hash: string; userId: string; csrfToken: string; expiresAt: string }): Promise<Session>;
  get(hash: string, now: string): Promise<{ session: Session; user: User } | null>;
  delete(hash: string): Promise<void>;
}

export interface Projects {
  /** Throws a conflict AppError when the subdomain or custom domain is taken. */
  create(input: { userId: string } & ProjectSettings): Promise<Project>;
  /** Scoped to the owner: another user's project is indistinguishable from a missing one. */
  get(userId: string, id: string): Promise<Project | null>;
  list(userId: string, page: PageRequest): Promise<Page<Project>>;
  update(userId: string, id: string, patch: Partial<ProjectSettings>): Promise<Project | null>;
  delete(userId: string, id: string): Promise<boolean>;
}

export interface Deployments {
  create(input: {
    projectId: string;
    userId: string;
    status: DeploymentStatus;
    target: DeploymentTarget;
    branch: string | null;
    commitSha: string | null;
  }): Promise<Deployment>;
  /** Scoped to the owner of the deployment's project. */
  get(userId: string, id: string): Promise<Deployment | null>;
  list(userId: string, projectId: string, page: PageRequest): Promise<Page<Deployment>>;
  /**
   * Compare-and-set transition: applies only if the current status is a legal predecessor of `to`.
   * Returns the updated deployment, or null when the transition was refused (already further along).
   */
  transition(id: string, to: DeploymentStatus, reason: string | null): Promise<Deployment | null>;
}

export interface Store {
  users: Users;
  tokens: Tokens;
  sessions: Sessions;
  projects: Projects;
  deployments: Deployments;
  /** Applies pending migrations; refuses a schema newer than this binary. Returns versions applied. */
  migrate(): Promise<number[]>;
  close(): Promise<void>;
}

export type StoreConfig = { kind: "sqlite"; path: string } | { kind: "postgres"; url: string };

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

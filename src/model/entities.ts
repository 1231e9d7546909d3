// The platform's entities as the domain sees them: accounts, tokens, sessions, projects and deployments. Every
// layer (store rows, API views, dashboard pages, the builder's events) speaks of them in these shapes.

import type { DeploymentStatus } from "./status.ts";

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
  /** When the current custom domain passed the DNS ownership check; null: not verified (not served). */
  customDomainVerifiedAt: string | null;
  /** The value the domain's `_minivercel` TXT record must carry (`minivercel-verify=<token>`). */
  domainToken: string;
  productionBranch: string;
  rootDirectory: string | null;
  installCommand: string | null;
  buildCommand: string | null;
  outputDirectory: string | null;
  buildTimeoutSeconds: number | null;
  /** Serve /index.html for unknown paths when the site has no 404.html (single-page apps). */
  spaFallback: boolean;
  productionDeploymentId: string | null;
  /** Where `rollback` goes: the production deployment before the current one. */
  previousProductionDeploymentId: string | null;
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
  | "spaFallback"
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
  /** The branch as it appears in preview host names (see branchSlug). */
  branchSlug: string | null;
  commitSha: string | null;
  /** Worker process that claimed the build, and its last sign of life. */
  claimedBy: string | null;
  heartbeatAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** Set when a preview outlived PREVIEW_RETENTION_DAYS: its files are deleted and it is no longer served. */
  expiredAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export type ProjectRoute = Pick<
  Project,
  "id" | "subDomain" | "customDomain" | "customDomainVerifiedAt" | "productionDeploymentId" | "spaFallback"
>;

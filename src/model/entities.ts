// The platform's entities as the domain sees them: accounts, tokens, sessions, projects and deployments. Every
// layer (store rows, API views, dashboard pages, the builder's events) speaks of them in these shapes; projects
// and deployments are TypeBox schemas (the schema is the type), which the API's views derive from.

import { type Static, type TSchema, Type } from "@sinclair/typebox";
import type { RouteDomain } from "./domains.ts";
import { DeploymentStatusSchema } from "./status.ts";

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
  /** After this it authenticates nothing (null: never expires). */
  expiresAt: string | null;
  /** What it may do (src/identity/token-scope.ts). */
  scope: TokenScope;
}

/** 'full': all its account may; 'deploy': what a CI job needs; 'read': reading only. */
export type TokenScope = "full" | "deploy" | "read";
export const TOKEN_SCOPES: readonly TokenScope[] = ["full", "deploy", "read"];

export interface Session {
  userId: string;
  csrfToken: string;
  createdAt: string;
  expiresAt: string;
}

const Nullable = <S extends TSchema>(schema: S) => Type.Union([schema, Type.Null()]);

const Text = (maxLength: number, options: { minLength?: number; description?: string } = {}) =>
  Type.String({ maxLength, ...options });
const Time = (description?: string) =>
  Type.String({ format: "date-time", ...(description && { description }) });

/**
 * What an owner sets on a project. The same fields, and limits, validate the API's create and update bodies
 * (src/api/schemas.ts); src/model/settings.ts checks what a schema cannot (names, hosts, paths).
 */
export const ProjectSettingsSchema = Type.Object({
  name: Text(100, { minLength: 1 }),
  gitUrl: Nullable(Text(2048)),
  subDomain: Text(48, { minLength: 1, description: "defaults to a slug of the name" }),
  customDomain: Nullable(Text(253)),
  productionBranch: Text(255, { minLength: 1, description: "defaults to main" }),
  rootDirectory: Nullable(Text(255)),
  installCommand: Nullable(Text(1000)),
  buildCommand: Nullable(Text(1000)),
  outputDirectory: Nullable(Text(255)),
  buildTimeoutSeconds: Nullable(Type.Integer({ minimum: 10, maximum: 21600 })),
  spaFallback: Type.Boolean({
    description: "serve /index.html for unknown paths when there is no 404.html (default true)",
  }),
  startCommand: Nullable(
    Text(1000, {
      description: "runs the deployment as an app server (PORT set); empty: detected after the build, if any",
    }),
  ),
  idleTimeoutMinutes: Nullable(
    Type.Integer({
      minimum: 0,
      maximum: 1440,
      description: "an app server stops after this long without a request (default 15; 0: always on)",
    }),
  ),
  maxInstances: Nullable(
    Type.Integer({
      minimum: 1,
      maximum: 20,
      description: "app server instances per deployment when busy (default 1)",
    }),
  ),
});
export type ProjectSettings = Static<typeof ProjectSettingsSchema>;

/**
 * Deployment protection (Vercel's Deployment Protection): which of a project's hosts require access. `previews`:
 * immutable deployment and branch hosts; `all`: production (subdomain and custom domain) too.
 */
export const PROTECTION_MODES = ["none", "previews", "all"] as const;
export const ProtectionModeSchema = Type.Union(
  [Type.Literal("none"), Type.Literal("previews"), Type.Literal("all")],
  {
    description: "which hosts require access: none, previews (deployment and branch URLs) or all",
  },
);
export type ProtectionMode = (typeof PROTECTION_MODES)[number];

export const ProjectSchema = Type.Composite([
  Type.Object({
    id: Type.String(),
    /** The account that owns a personal project, or that created a team's project. */
    userId: Type.String(),
    /** The team the project belongs to; null for a project of its owner's personal scope. */
    teamId: Nullable(Type.String()),
  }),
  ProjectSettingsSchema,
  Type.Object({
    customDomainVerifiedAt: Nullable(
      Time("when the custom domain passed its DNS check; it is served only after that"),
    ),
    /** The value the domain's `_minivercel` TXT record must carry (`minivercel-verify=<token>`). */
    domainToken: Type.String(),
    productionDeploymentId: Nullable(Type.String()),
    /** When production started serving its current deployment (a build going READY, a promote or rollback). */
    productionSince: Nullable(Time()),
    /** Where `rollback` goes: the production deployment before the current one. */
    previousProductionDeploymentId: Nullable(Type.String()),
    protection: ProtectionModeSchema,
    /** Whether a password opens the project's protected hosts (the hash itself never leaves the store). */
    protectionPassword: Type.Boolean(),
    createdAt: Time(),
    updatedAt: Time(),
  }),
]);
export type Project = Static<typeof ProjectSchema>;

export const DeploymentSchema = Type.Object({
  id: Type.String(),
  projectId: Type.String(),
  userId: Type.String(),
  status: DeploymentStatusSchema,
  statusReason: Nullable(Type.String()),
  target: Type.Union([Type.Literal("production"), Type.Literal("preview")]),
  branch: Nullable(Type.String()),
  /** The branch as it appears in preview host names (see branchSlug). */
  branchSlug: Nullable(Type.String()),
  commitSha: Nullable(Type.String()),
  /** The commit's subject line and author name, as the build read them from its checkout (untrusted text). */
  commitMessage: Nullable(Type.String()),
  commitAuthor: Nullable(Type.String()),
  /** Worker process that claimed the build, and its last sign of life. */
  claimedBy: Nullable(Type.String()),
  heartbeatAt: Nullable(Type.String()),
  startedAt: Nullable(Type.String()),
  finishedAt: Nullable(Type.String()),
  /** Set when a preview outlived PREVIEW_RETENTION_DAYS: its files are deleted and it is no longer served. */
  expiredAt: Nullable(Type.String()),
  createdAt: Time(),
  updatedAt: Time(),
});
export type Deployment = Static<typeof DeploymentSchema>;
export type DeploymentTarget = Deployment["target"];
/** Every target, in display order: what a project's environment variables apply to by default. */
export const DEPLOYMENT_TARGETS = ["production", "preview"] as const satisfies readonly DeploymentTarget[];

/** What the proxy routes by: the project's hosts (its verified custom domains) and production pointer. */
export type ProjectRoute = Pick<Project, "id" | "subDomain" | "productionDeploymentId" | "spaFallback"> & {
  domains: RouteDomain[];
};

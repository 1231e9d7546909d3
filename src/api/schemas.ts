// API schemas: TypeBox definitions that validate requests, shape responses and generate the OpenAPI document.

import { t } from "elysia";
import { STATUSES } from "../model/status.ts";

const nullableText = (maxLength: number) => t.Union([t.String({ maxLength }), t.Null()]);

export const ErrorBody = t.Object(
  {
    error: t.Object({
      code: t.String({ description: "stable machine-readable code, e.g. not_found, validation_failed" }),
      message: t.String({ description: "what was wrong, for people" }),
      field: t.Optional(t.String({ description: "the request field at fault, when there is one" })),
    }),
  },
  { description: "Every error response has this shape." },
);

/** The `:id` of a route: a project, deployment or token id (also the dashboard's routes). */
export const Id = t.Object({ id: t.String({ minLength: 1, maxLength: 64 }) });

/** `:id` and an environment variable's `:key`. */
export const IdAndKey = t.Object({ id: Id.properties.id, key: t.String({ minLength: 1, maxLength: 200 }) });

/** `:id` and a blob's `:hash`. */
export const IdAndHash = t.Object({ id: Id.properties.id, hash: t.String({ minLength: 1, maxLength: 64 }) });

export const PageQuery = t.Object({
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 100, default: 20, description: "page size (1-100)" })),
  cursor: t.Optional(t.String({ maxLength: 512, description: "nextCursor of the previous page" })),
});

const settingsFields = {
  name: t.String({ minLength: 1, maxLength: 100 }),
  gitUrl: nullableText(2048),
  subDomain: t.String({ minLength: 1, maxLength: 48, description: "defaults to a slug of the name" }),
  customDomain: nullableText(253),
  productionBranch: t.String({ minLength: 1, maxLength: 255, description: "defaults to main" }),
  rootDirectory: nullableText(255),
  installCommand: nullableText(1000),
  buildCommand: nullableText(1000),
  outputDirectory: nullableText(255),
  buildTimeoutSeconds: t.Union([t.Integer({ minimum: 10, maximum: 21600 }), t.Null()]),
  spaFallback: t.Boolean({
    description: "serve /index.html for unknown paths when there is no 404.html (default true)",
  }),
};

export const ProjectCreate = t.Object(
  {
    name: settingsFields.name,
    gitUrl: t.Optional(settingsFields.gitUrl),
    subDomain: t.Optional(settingsFields.subDomain),
    customDomain: t.Optional(settingsFields.customDomain),
    productionBranch: t.Optional(settingsFields.productionBranch),
    rootDirectory: t.Optional(settingsFields.rootDirectory),
    installCommand: t.Optional(settingsFields.installCommand),
    buildCommand: t.Optional(settingsFields.buildCommand),
    outputDirectory: t.Optional(settingsFields.outputDirectory),
    buildTimeoutSeconds: t.Optional(settingsFields.buildTimeoutSeconds),
    spaFallback: t.Optional(settingsFields.spaFallback),
  },
  { additionalProperties: false },
);

export const ProjectPatch = t.Partial(t.Object(settingsFields), {
  additionalProperties: false,
  minProperties: 1,
});

export const Project = t.Object({
  id: t.String(),
  name: t.String(),
  gitUrl: t.Union([t.String(), t.Null()]),
  subDomain: t.String(),
  customDomain: t.Union([t.String(), t.Null()]),
  customDomainVerifiedAt: t.Union([t.String({ format: "date-time" }), t.Null()], {
    description: "when the custom domain passed its DNS check; it is served only after that",
  }),
  domainVerification: t.Union(
    [t.Object({ type: t.Literal("TXT"), name: t.String(), value: t.String() }), t.Null()],
    { description: "the DNS record that proves control of the custom domain" },
  ),
  productionBranch: t.String(),
  rootDirectory: t.Union([t.String(), t.Null()]),
  installCommand: t.Union([t.String(), t.Null()]),
  buildCommand: t.Union([t.String(), t.Null()]),
  outputDirectory: t.Union([t.String(), t.Null()]),
  buildTimeoutSeconds: t.Union([t.Integer(), t.Null()]),
  spaFallback: t.Boolean(),
  productionDeploymentId: t.Union([t.String(), t.Null()]),
  previousProductionDeploymentId: t.Union([t.String(), t.Null()]),
  productionUrl: t.String({ description: "where the production deployment is served" }),
  createdAt: t.String({ format: "date-time" }),
  updatedAt: t.String({ format: "date-time" }),
});

export const Deployment = t.Object({
  id: t.String(),
  projectId: t.String(),
  status: t.UnionEnum(STATUSES),
  statusReason: t.Union([t.String(), t.Null()]),
  target: t.Union([t.Literal("production"), t.Literal("preview")]),
  branch: t.Union([t.String(), t.Null()]),
  commitSha: t.Union([t.String(), t.Null()]),
  url: t.String({ description: "this deployment's own immutable URL" }),
  branchUrl: t.Union([t.String(), t.Null()], {
    description: "the preview URL of its branch's latest deployment",
  }),
  startedAt: t.Union([t.String(), t.Null()]),
  finishedAt: t.Union([t.String(), t.Null()]),
  createdAt: t.String({ format: "date-time" }),
  updatedAt: t.String({ format: "date-time" }),
});

export const DeployRequest = t.Object(
  {
    projectId: t.String({ minLength: 1, maxLength: 64 }),
    branch: t.Optional(
      t.String({ minLength: 1, maxLength: 255, description: "defaults to the production branch" }),
    ),
    commitSha: t.Optional(t.String({ minLength: 7, maxLength: 40 })),
  },
  { additionalProperties: false },
);

export const LogQuery = t.Object({
  after: t.Optional(t.Integer({ minimum: 0, description: "return lines with a sequence number above this" })),
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 5000, default: 1000 })),
});

export const LogLine = t.Object({
  seq: t.Integer(),
  stream: t.Union([t.Literal("stdout"), t.Literal("stderr"), t.Literal("system")]),
  text: t.String(),
  at: t.String({ format: "date-time" }),
});

export const LogPage = t.Object({
  items: t.Array(LogLine),
  nextAfter: t.Union([t.Integer(), t.Null()], {
    description: "pass as `after` for the next page; null at the end",
  }),
});

export const TokenCreate = t.Object(
  { name: t.String({ minLength: 1, maxLength: 100 }) },
  { additionalProperties: false },
);

export const Token = t.Object({
  id: t.String(),
  name: t.String(),
  prefix: t.String(),
  createdAt: t.String({ format: "date-time" }),
  lastUsedAt: t.Union([t.String(), t.Null()]),
  revokedAt: t.Union([t.String(), t.Null()]),
});

export const TokenList = t.Object({ items: t.Array(Token) });

export const CreatedToken = t.Object({
  token: t.String({ description: "the secret; shown only in this response" }),
  record: Token,
});

export const Me = t.Object({ id: t.String(), email: t.String(), createdAt: t.String() });

export const pageOf = <T extends Parameters<typeof t.Array>[0]>(item: T) =>
  t.Object({ items: t.Array(item), nextCursor: t.Union([t.String(), t.Null()]) });

// API schemas: TypeBox definitions that validate requests, shape responses and generate the OpenAPI document.

import type { TProperties, TSchema } from "@sinclair/typebox";
import { t } from "elysia";
import {
  DeploymentSchema,
  ProjectSchema,
  ProjectSettingsSchema,
  ProtectionModeSchema,
} from "../model/entities.ts";

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

/** An error a route answers: the one ErrorBody shape, described for what its status means there. */
export const errorResponse = (description: string) => t.Object(ErrorBody.properties, { description });

/** A success without a body (204). */
export const NoContent = t.Void({ description: "Done; no body." });

/**
 * Marks a response schema whose body is not JSON: the OpenAPI document files it under this media type instead of
 * application/json (src/api/docs-responses.ts), e.g. `{ [MEDIA_TYPE]: "text/event-stream" }`.
 */
export const MEDIA_TYPE = "x-media-type";

/**
 * Marks a JSON response schema whose operation may also answer in other media types (content negotiation):
 * `{ [ALSO_AS]: { "text/csv": { type: "string" } } }` files those schemas beside application/json.
 */
export const ALSO_AS = "x-also-as";

/** A raw file as a response body (sent as a Response, which Elysia does not validate: the schema documents it). */
export const BinaryResponse = t.Unknown({
  type: "string",
  format: "binary",
  [MEDIA_TYPE]: "application/octet-stream",
  description: "The file's bytes.",
});

/** A raw file as the request body of a route that reads it itself (`parse: "none"`): for its `detail`. */
export const BinaryBody = {
  required: true,
  description: "The file's bytes.",
  content: { "application/octet-stream": { schema: { type: "string" as const, format: "binary" } } },
};

/** The `:id` of a route: a project, deployment or token id (also the dashboard's routes). */
export const Id = t.Object({ id: t.String({ minLength: 1, maxLength: 64 }) });

/** `:id` and an environment variable's `:key`. */
export const IdAndKey = t.Object({ id: Id.properties.id, key: t.String({ minLength: 1, maxLength: 200 }) });

/** `:id` and a blob's `:hash`. */
export const IdAndHash = t.Object({ id: Id.properties.id, hash: t.String({ minLength: 1, maxLength: 64 }) });

// t.Integer also accepts a numeric string (query values are strings); the document shows it as the integer it is.
export const PageQuery = t.Object({
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 100, default: 20, description: "page size (1-100)" })),
  cursor: t.Optional(t.String({ maxLength: 512, description: "nextCursor of the previous page" })),
});

/** What a paged route answers for a `cursor` it did not give out (the store cannot read it). */
export const BadCursor = errorResponse("The cursor is not one a previous page gave.");

// Requests and views of projects and deployments derive from the entities' schemas (src/model/entities.ts).
const settings = ProjectSettingsSchema.properties;

export const ProjectCreate = t.Object(
  { ...t.Partial(t.Omit(ProjectSettingsSchema, ["name"])).properties, name: settings.name },
  { additionalProperties: false },
);

export const ProjectPatch = t.Partial(t.Object({ ...settings, protection: ProtectionModeSchema }), {
  additionalProperties: false,
  minProperties: 1,
});

/** A project as the API shows it: no owner id or verification token; its URL and DNS record added. */
export const Project = t.Object({
  ...t.Omit(ProjectSchema, ["userId", "domainToken"]).properties,
  domainVerification: t.Union(
    [t.Object({ type: t.Literal("TXT"), name: t.String(), value: t.String() }), t.Null()],
    { description: "the DNS record that proves control of the custom domain" },
  ),
  productionUrl: t.String({ description: "where the production deployment is served" }),
});

/** A deployment as the API shows it: no owner, slug or worker bookkeeping; its URLs added. */
export const Deployment = t.Object({
  ...t.Omit(DeploymentSchema, ["userId", "branchSlug", "claimedBy", "heartbeatAt", "expiredAt"]).properties,
  url: t.String({ description: "this deployment's own immutable URL" }),
  branchUrl: t.Union([t.String(), t.Null()], {
    description: "the preview URL of its branch's latest deployment",
  }),
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
  after: t.Optional(
    t.Integer({
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      description: "return lines with a sequence number above this",
    }),
  ),
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 5000, default: 1000 })),
});

export const LogLine = t.Object({
  seq: t.Integer({ minimum: 1 }),
  stream: t.Union([t.Literal("stdout"), t.Literal("stderr"), t.Literal("system")]),
  text: t.String(),
  at: t.String({ format: "date-time" }),
});

export const LogPage = t.Object({
  items: t.Array(LogLine),
  nextAfter: t.Union([t.Integer({ minimum: 1 }), t.Null()], {
    description: "pass as `after` for the next page; null at the end",
  }),
});

/** One Server-Sent Event as a client reads it (`event`, `data`, `id`): `data` carries JSON described by `json`. */
const sse = <P extends TProperties>(event: string, json: TSchema, fields: P) =>
  t.Object({
    event: t.Literal(event),
    data: t.String({ contentMediaType: "application/json", contentSchema: json }),
    ...fields,
  });

/** The events of a live build log (log-stream.ts); the OpenAPI document describes each event with this schema. */
export const LogStreamEvent = t.Union(
  [
    sse("status", Deployment, {}),
    sse("log", LogLine, {
      id: t.String({ pattern: "^[0-9]+$", description: "the line's seq: Last-Event-ID resumes after it" }),
    }),
    sse("restarting", t.Object({ reason: t.String(), lastEventId: t.Integer({ minimum: 0 }) }), {
      retry: t.Integer({ minimum: 0, description: "milliseconds to wait before reconnecting" }),
    }),
  ],
  { [MEDIA_TYPE]: "text/event-stream", description: "A stream of these events." },
);

export const TokenCreate = t.Object(
  {
    name: t.String({ minLength: 1, maxLength: 100 }),
    expiresInDays: t.Optional(
      t.Integer({ minimum: 1, maximum: 3650, description: "the token stops working after this many days" }),
    ),
    scope: t.Optional(
      t.Union([t.Literal("full"), t.Literal("deploy"), t.Literal("read")], {
        default: "full",
        description:
          "full: everything your account may; deploy: read, deploy, upload, cancel, promote, roll back; read: read only (neither narrower scope reads secrets)",
      }),
    ),
  },
  { additionalProperties: false },
);

export const Token = t.Object({
  id: t.String(),
  name: t.String(),
  prefix: t.String(),
  createdAt: t.String({ format: "date-time" }),
  lastUsedAt: t.Union([t.String(), t.Null()]),
  revokedAt: t.Union([t.String(), t.Null()]),
  expiresAt: t.Union([t.String(), t.Null()], { description: "null: never expires" }),
  scope: t.Union([t.Literal("full"), t.Literal("deploy"), t.Literal("read")]),
});

export const TokenList = t.Object({ items: t.Array(Token) });

export const CreatedToken = t.Object({
  token: t.String({ description: "the secret; shown only in this response" }),
  record: Token,
});

export const Me = t.Object({ id: t.String(), email: t.String(), createdAt: t.String() });

export const pageOf = <T extends Parameters<typeof t.Array>[0]>(item: T) =>
  t.Object({ items: t.Array(item), nextCursor: t.Union([t.String(), t.Null()]) });

/**
 * An integer in a query string. Elysia converts it before checking it, and then no longer knows its name: the
 * title carries it, for the error that names the field (src/api/errors.ts).
 */
const queryInteger = (name: string, options: Parameters<typeof t.Integer>[0]) =>
  t.Integer({ ...options, title: name });

/** Unix milliseconds up to the year 9999 (what an ISO time with a 4-digit year can say). */
const unixMs = (name: string, description: string) =>
  queryInteger(name, { minimum: 0, maximum: 253_402_300_799_999, description });

export const RuntimeLogQuery = t.Object({
  since: t.Optional(unixMs("since", "only lines printed at or after this time (Unix milliseconds)")),
  until: t.Optional(unixMs("until", "only lines printed before this time (Unix milliseconds)")),
  function: t.Optional(
    t.String({
      minLength: 1,
      maxLength: 4096,
      description: "only this function's lines: its path, e.g. /api/hello",
    }),
  ),
  limit: t.Optional(
    queryInteger("limit", { minimum: 1, maximum: 1000, default: 100, description: "page size (1-1000)" }),
  ),
  cursor: t.Optional(t.String({ maxLength: 200, description: "nextCursor of the previous page" })),
});

export const RuntimeLogStreamQuery = t.Object({
  since: t.Optional(
    unixMs("since", "history from this time (Unix milliseconds); default: the last 15 minutes"),
  ),
  function: RuntimeLogQuery.properties.function,
});

export const RuntimeLogLine = t.Object({
  id: t.String({ description: "this line's id; with `at`, its place in the log" }),
  at: t.String({ format: "date-time", description: "when the function printed it" }),
  function: t.String({ description: "the function's path; \"\" for the platform's own notes" }),
  requestId: t.Union([t.String(), t.Null()], {
    description: "the request it was printed under (the proxy's X-Request-Id); null outside a request",
  }),
  stream: t.Union([t.Literal("stdout"), t.Literal("stderr"), t.Literal("system")]),
  text: t.String(),
});

export const RuntimeLogPage = t.Object({
  items: t.Array(RuntimeLogLine, { description: "newest first" }),
  nextCursor: t.Union([t.String(), t.Null()], {
    description: "pass as `cursor` for the next (older) page; null at the end",
  }),
});

/** The events of a live runtime log (runtime-log-stream.ts). */
export const RuntimeLogStreamEvent = t.Union(
  [
    sse("log", RuntimeLogLine, {
      id: t.String({ description: "the line's cursor: Last-Event-ID resumes after it" }),
    }),
    sse(
      "ready",
      t.Object({
        history: t.Integer({ minimum: 0, description: "lines sent from history" }),
        more: t.Boolean({ description: "older lines in range were left out (page the API for them)" }),
      }),
      {},
    ),
    sse("restarting", t.Object({ reason: t.String(), lastEventId: t.Union([t.String(), t.Null()]) }), {
      retry: t.Integer({ minimum: 0, description: "milliseconds to wait before reconnecting" }),
    }),
  ],
  { [MEDIA_TYPE]: "text/event-stream", description: "A stream of these events; it stays open." },
);

const nullable = <T extends Parameters<typeof t.Union>[0][number]>(schema: T, description: string) =>
  t.Union([schema, t.Null()], { description });

export const CronRun = t.Object({
  id: t.String(),
  deploymentId: t.String({ description: "the production deployment that ran it" }),
  path: t.String({ description: "what was requested (GET), with its query" }),
  schedule: t.String({ description: "the job's cron expression (UTC)" }),
  trigger: t.Union([t.Literal("schedule"), t.Literal("manual")]),
  scheduledAt: t.String({ format: "date-time", description: "the minute it was due" }),
  startedAt: t.String({ format: "date-time" }),
  finishedAt: nullable(t.String({ format: "date-time" }), "null while it runs"),
  status: nullable(t.Integer(), "the HTTP status the deployment answered; null when none came (see error)"),
  durationMs: nullable(t.Integer({ minimum: 0 }), "null while it runs"),
  error: nullable(t.String(), "why no answer came"),
});

export const ProjectCrons = t.Object({
  deploymentId: nullable(t.String(), "the production deployment whose jobs these are; null before the first"),
  jobs: t.Array(
    t.Object({
      path: t.String(),
      schedule: t.String({ description: "five cron fields, UTC" }),
      nextRunAt: nullable(t.String({ format: "date-time" }), "null for a schedule that never fires"),
      lastRun: nullable(CronRun, "its latest run"),
    }),
  ),
  runs: t.Array(CronRun, { description: "the latest 50 runs, newest first" }),
});

// The OpenAPI document, step 3: every operation's responses complete. Routes declare their own statuses; the ones
// middleware answers on any route it guards are declared here, once each, and added to every operation they can
// affect, decided from the operation's traits by the predicates the middleware itself uses.

import type { OpenAPIV3_1 } from "openapi-types";
import { SAFE_METHODS } from "./auth.ts";
import { streamsBody } from "./body-limit.ts";
import { isRecord, plainSchemas } from "./docs-schemas.ts";
import { classify } from "./rate-limit.ts";
import { ALSO_AS, ErrorBody, MEDIA_TYPE } from "./schemas.ts";

const ERROR_BODY_REF = "#/components/schemas/ErrorBody";
const errorContent = { "application/json": { schema: { $ref: ERROR_BODY_REF } } };

/** What the middleware looks at when it decides whether it can answer a request. */
interface Traits {
  method: string;
  /** The path with every parameter filled in: what the middleware's path patterns see. */
  samplePath: string;
  /** The operation takes a request body. */
  body: boolean;
  /** …as JSON, which is parsed (400 when it is not JSON) and validated. */
  json: boolean;
  /** Elysia validates its path or query parameters (422). */
  validatedParameters: boolean;
  /** public: `security: []`; user: the default (auth.ts requireUser); own: a scheme of its own (builds). */
  auth: "public" | "user" | "own";
}

interface Common {
  status: string;
  /** Its name under components.responses. */
  name: string;
  response: OpenAPIV3_1.ResponseObject;
  answers(traits: Traits): boolean;
}

/** Reads that only a project's or team's owners may make (src/deploy/access.ts): a viewer or member gets 403. */
const OWNER_READS = [
  /^\/api\/projects\/[^/]+\/(hooks|webhook|protection)(\/|$)/,
  /^\/api\/teams\/[^/]+\/(audit|invitations)$/,
];

const COMMON: Common[] = [
  {
    // Elysia's JSON parser (errors.ts maps its PARSE error).
    status: "400",
    name: "MalformedJson",
    response: { description: "The request body is not valid JSON.", content: errorContent },
    answers: (op) => op.json,
  },
  {
    // auth.ts requireUser, or a route's own credential check.
    status: "401",
    name: "Unauthorized",
    response: {
      description: "No credentials, or ones that are invalid, expired or revoked.",
      content: errorContent,
    },
    answers: (op) => op.auth !== "public",
  },
  {
    // auth.ts requireUser: a session cookie rides along on cross-site requests, so its writes need more proof.
    status: "403",
    name: "Forbidden",
    response: {
      description:
        "Refused: the caller's role in the project's scope (viewer, member, owner) or the token's scope does not allow this, " +
        "or a dashboard session (cookie) wrote without its X-CSRF-Token header or from another origin.",
      content: errorContent,
    },
    answers: (op) =>
      op.auth === "user" && (!SAFE_METHODS.has(op.method) || OWNER_READS.some((r) => r.test(op.samplePath))),
  },
  {
    // body-limit.ts bodyLimits: only routes that read their body themselves may stream it.
    status: "411",
    name: "LengthRequired",
    response: {
      description: "The body was sent chunked: send it with a Content-Length header.",
      content: errorContent,
    },
    answers: (op) => op.body && !streamsBody(op.method, op.samplePath),
  },
  {
    // body-limit.ts bodyLimits and readCapped.
    status: "413",
    name: "PayloadTooLarge",
    response: {
      description:
        "The body is larger than this route takes: 1 MB of JSON, 32 MB for hash lists, manifests and file sets, MAX_UPLOAD_MB for an uploaded file, 100 MB for a build's file.",
      content: errorContent,
    },
    answers: (op) => op.body,
  },
  {
    // Elysia's validation of the route's schemas (errors.ts maps it); domain rules answer it too.
    status: "422",
    name: "ValidationFailed",
    response: {
      description: "A parameter or body field is invalid; `field` names it.",
      content: errorContent,
    },
    answers: (op) => op.json || op.validatedParameters,
  },
  {
    // rate-limit.ts: the per-address and per-user budgets, and the routes exempt from them.
    status: "429",
    name: "RateLimited",
    response: {
      description: "Over a rate limit; try again after Retry-After seconds.",
      headers: {
        "Retry-After": { required: true, schema: { type: "integer", minimum: 1 }, description: "seconds" },
        "RateLimit-Limit": { schema: { type: "integer", minimum: 1 }, description: "requests a minute" },
        "RateLimit-Remaining": { schema: { type: "integer", minimum: 0 } },
        "RateLimit-Reset": { schema: { type: "integer", minimum: 1 }, description: "seconds" },
      },
      content: errorContent,
    },
    answers: (op) => classify(op.method, op.samplePath) !== null,
  },
];

/** The document's components for the responses above and the one error shape they all use. */
export function commonComponents(): { responses: Record<string, unknown>; schemas: Record<string, unknown> } {
  return {
    responses: Object.fromEntries(COMMON.map((c) => [c.name, c.response])),
    schemas: { ErrorBody: plainSchemas(JSON.parse(JSON.stringify(ErrorBody))) },
  };
}

const errorProperties = JSON.stringify(ErrorBody.properties);
const isErrorBody = (schema: unknown): boolean =>
  isRecord(schema) && JSON.stringify(schema.properties) === errorProperties;

/**
 * One response as Elysia generated it, made standard: no content for a bodiless one (it writes `{ type: "void" }`
 * there), a body marked with MEDIA_TYPE under that media type, and the error shape by reference.
 */
function standardResponse(response: unknown): unknown {
  if (!isRecord(response) || !isRecord(response.content)) return response;
  const { content, ...rest } = response;
  const entries = Object.entries(content).flatMap(([type, media]) => {
    if (!type.includes("/") || !isRecord(media)) return [];
    const { schema } = media;
    if (isErrorBody(schema)) return [[type, { ...media, schema: { $ref: ERROR_BODY_REF } }]];
    if (isRecord(schema) && typeof schema[MEDIA_TYPE] === "string") {
      const { [MEDIA_TYPE]: mediaType, ...plain } = schema;
      return [[mediaType, { ...media, schema: plain }]];
    }
    if (isRecord(schema) && isRecord(schema[ALSO_AS])) {
      const { [ALSO_AS]: others, ...plain } = schema;
      const more = isRecord(others) ? Object.entries(others).map(([other, s]) => [other, { schema: s }]) : [];
      return [[type, { ...media, schema: plain }], ...more];
    }
    return [[type, media]];
  });
  return entries.length > 0 ? { ...rest, content: Object.fromEntries(entries) } : rest;
}

function traitsOf(method: string, path: string, operation: Record<string, unknown>): Traits {
  const { requestBody, parameters, security } = operation;
  const content = isRecord(requestBody) && isRecord(requestBody.content) ? requestBody.content : null;
  // Query schemas refuse unknown keys too; a path parameter fails only a constraint (Elysia writes `{ type }` alone
  // for a route without a params schema).
  const annotations = new Set(["type", "description", "default"]);
  const validated = (parameter: unknown) =>
    isRecord(parameter) &&
    (parameter.in === "query" ||
      (isRecord(parameter.schema) && Object.keys(parameter.schema).some((key) => !annotations.has(key))));
  return {
    method: method.toUpperCase(),
    samplePath: path.replace(/\{[^}]+\}/g, "x"),
    body: content !== null,
    json: content !== null && "application/json" in content,
    validatedParameters: Array.isArray(parameters) && parameters.some(validated),
    auth:
      security === undefined ? "user" : Array.isArray(security) && security.length === 0 ? "public" : "own",
  };
}

/** An operation with its responses standard and the common ones it can get added (a route's own win). */
function completeOperation(method: string, path: string, operation: unknown): unknown {
  if (!isRecord(operation)) return operation;
  const declared = isRecord(operation.responses) ? operation.responses : {};
  const responses: Record<string, unknown> = Object.fromEntries(
    Object.entries(declared).map(([status, response]) => [status, standardResponse(response)]),
  );
  const traits = traitsOf(method, path, operation);
  for (const common of COMMON) {
    if (!(common.status in responses) && common.answers(traits))
      responses[common.status] = { $ref: `#/components/responses/${common.name}` };
  }
  const sorted = Object.keys(responses).sort();
  return { ...operation, responses: Object.fromEntries(sorted.map((status) => [status, responses[status]])) };
}

/** The generated `paths` with every operation complete (see completeOperation). */
export function completePaths(paths: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(paths).map(([path, item]) => [
      path,
      isRecord(item)
        ? Object.fromEntries(
            Object.entries(item).map(([method, operation]) => [
              method,
              completeOperation(method, path, operation),
            ]),
          )
        : item,
    ]),
  );
}

// Typed errors: domain code throws these; the API and dashboard map them to responses in one place each.

/** Machine-readable error codes, stable across versions (clients may switch on them). */
export type ErrorCode =
  | "bad_request"
  | "validation_failed"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "method_not_allowed"
  | "conflict"
  | "payload_too_large"
  | "rate_limited"
  | "project_limit"
  | "internal";

const statusOf: Record<ErrorCode, number> = {
  bad_request: 400,
  validation_failed: 422,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  // The user's state (how many projects they own) is what conflicts: deleting one makes room.
  project_limit: 409,
  internal: 500,
};

/** An error that is safe to show to the client: its message never contains internals. */
export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = "AppError";
    this.status = statusOf[code];
  }
}

export const badRequest = (message: string, field?: string) => new AppError("bad_request", message, field);
export const invalid = (message: string, field?: string) => new AppError("validation_failed", message, field);
export const unauthorized = (message = "authentication required") => new AppError("unauthorized", message);
export const notFound = (what: string) => new AppError("not_found", `${what} not found`);
export const conflict = (message: string, field?: string) => new AppError("conflict", message, field);
/** Only one project may hold a custom domain verified (src/store/store.ts, Projects); others may only claim it. */
export const domainTaken = (field = "customDomain") =>
  new AppError("conflict", "custom domain is already verified by another project", field);
/** A project holds MAX_DOMAINS_PER_PROJECT custom domains already (src/model/domains.ts). */
export const domainLimit = (max: number) =>
  new AppError("conflict", `a project may have at most ${max} custom domains; remove one first`, "name");
/** MAX_PROJECTS_PER_USER, counted per scope: a user's personal projects, or a team's (whoever created them). */
export const projectLimit = (max: number, inTeam = false) =>
  new AppError(
    "project_limit",
    inTeam
      ? `the team has reached the limit of ${max} projects; delete one to make room`
      : `you have reached the limit of ${max} projects; delete one to make room`,
  );

/** Too many requests: `retryAfterSeconds` becomes the response's Retry-After header. */
export class RateLimited extends AppError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    /** The budget that ran out (requests per minute), for the RateLimit-Limit header; null for lockouts. */
    readonly limit: number | null = null,
  ) {
    super("rate_limited", message);
    this.name = "RateLimited";
  }
}

/** A known path asked with a method it does not answer: `allow` becomes the response's Allow header. */
export class MethodNotAllowed extends AppError {
  constructor(
    method: string,
    readonly allow: readonly string[],
  ) {
    super("method_not_allowed", `${method} is not allowed here; use ${allow.join(", ")}`);
    this.name = "MethodNotAllowed";
  }
}

/** A bad configuration value: the process prints the message (naming the variable) and exits 2. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = "ConfigError";
  }
}

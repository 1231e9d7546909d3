// Build events: the messages a builder sends about its deployment. Defined once, validated on receipt (the bus is a trust boundary).

import { type Static, Type } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";

/** Longest log line kept; the builder cuts longer lines and says so in the line itself. */
export const MAX_LINE_CHARS = 4096;
/** A commit subject or author name longer than this is cut (they are shown, never parsed). */
export const MAX_COMMIT_TEXT = 500;
/** Most log lines kept per deployment; the builder stops forwarding after this and says so once. */
export const MAX_LOG_LINES = 20_000;

export const DeploymentId = Type.String({
  pattern: "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
});
const At = Type.String({ minLength: 20, maxLength: 40, description: "ISO-8601 time" });

export const LogEvent = Type.Object(
  {
    type: Type.Literal("log"),
    deploymentId: DeploymentId,
    /** 1, 2, 3... per deployment: the order of lines and the key that makes re-delivery harmless. */
    seq: Type.Integer({ minimum: 1, maximum: MAX_LOG_LINES + 1 }),
    stream: Type.Union([Type.Literal("stdout"), Type.Literal("stderr"), Type.Literal("system")]),
    text: Type.String({ maxLength: MAX_LINE_CHARS + 64 }),
    at: At,
  },
  { additionalProperties: false },
);

export const StatusEvent = Type.Object(
  {
    type: Type.Literal("status"),
    deploymentId: DeploymentId,
    status: Type.Union([
      Type.Literal("IN_PROGRESS"),
      Type.Literal("READY"),
      Type.Literal("FAIL"),
      Type.Literal("CANCELED"),
    ]),
    reason: Type.Optional(Type.String({ maxLength: 1000 })),
    /** The commit actually built (the builder resolves branches to a commit). */
    commitSha: Type.Optional(Type.String({ pattern: "^[0-9a-f]{40}$" })),
    /** Its subject line and author name (shown in the dashboard, as text). */
    commitMessage: Type.Optional(Type.String({ maxLength: MAX_COMMIT_TEXT })),
    commitAuthor: Type.Optional(Type.String({ maxLength: MAX_COMMIT_TEXT })),
    at: At,
  },
  { additionalProperties: false },
);

export const HeartbeatEvent = Type.Object(
  { type: Type.Literal("heartbeat"), deploymentId: DeploymentId, at: At },
  { additionalProperties: false },
);

export const BuildEvent = Type.Union([LogEvent, StatusEvent, HeartbeatEvent]);

export type LogEvent = Static<typeof LogEvent>;
export type StatusEvent = Static<typeof StatusEvent>;
export type HeartbeatEvent = Static<typeof HeartbeatEvent>;
export type BuildEvent = Static<typeof BuildEvent>;

const check = TypeCompiler.Compile(BuildEvent);

/** Narrows an untrusted value to a build event, or returns why it is not one. */
export function parseBuildEvent(
  value: unknown,
): { ok: true; event: BuildEvent } | { ok: false; problem: string } {
  if (check.Check(value)) return { ok: true, event: value };
  const first = check.Errors(value).First();
  return { ok: false, problem: first ? `${first.path || "event"}: ${first.message}` : "not a build event" };
}

/** A project's routes changed (production pointer, previews, hosts, settings): every proxy reloads it. */
export const RouteChange = Type.Object(
  { type: Type.Literal("project"), projectId: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);
export type RouteChange = Static<typeof RouteChange>;

const checkRoute = TypeCompiler.Compile(RouteChange);

export function parseRouteChange(value: unknown): RouteChange | null {
  return checkRoute.Check(value) ? value : null;
}

// Build events: the messages a builder sends about its deployment. Defined once, validated on receipt (the bus is a trust boundary).

import { type Static, Type } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { chunksByWeight } from "../src/utils/chunks.ts";

/** Longest log line kept; the builder cuts longer lines and says so in the line itself. */
export const MAX_LINE_CHARS = 4096;
/**
 * Bytes of log kept per deployment unless the worker says otherwise (BUILD_LOG_MAX_MB): the builder stops
 * forwarding past it and says so once. A byte cap, so that a million short lines fit.
 */
export const DEFAULT_LOG_BYTES = 16 * 1024 * 1024;
/** The largest line number a log may reach: a 1 GB cap of empty lines, and a margin. */
export const MAX_LOG_SEQ = 2_000_000_000;
/** A commit subject or author name longer than this is cut (they are shown, never parsed). */
export const MAX_COMMIT_TEXT = 500;

export const DeploymentId = Type.String({
  pattern: "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
});
const At = Type.String({ minLength: 20, maxLength: 40, description: "ISO-8601 time" });

export const LogEvent = Type.Object(
  {
    type: Type.Literal("log"),
    deploymentId: DeploymentId,
    /** 1, 2, 3... per deployment: the order of lines and the key that makes re-delivery harmless. */
    seq: Type.Integer({ minimum: 1, maximum: MAX_LOG_SEQ }),
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

/**
 * On the bus a message of `build-events` is one event, or several consecutive events of one deployment in an
 * envelope: a chatty build's lines travel a few thousand to a message, not one message each (a message costs
 * a client far more than a line). The envelope is only transport: each event in it is checked on receipt.
 */
export interface EventBatch {
  type: "batch";
  events: unknown[];
}

/** Bytes of events per envelope (well under a Kafka record's default 1 MB limit). */
export const BATCH_BYTES = 256 * 1024;

/** Packs consecutive events into envelopes of at most `maxBytes` of JSON; a lone event travels as itself. */
export function packEvents(events: unknown[], maxBytes = BATCH_BYTES): unknown[] {
  // Lines are at most a few KB; an estimate from their text keeps this cheaper than serializing twice.
  const weigh = (event: unknown) =>
    200 +
    (typeof event === "object" && event !== null && "text" in event ? String(event.text).length * 3 : 0);
  return chunksByWeight(events, maxBytes, weigh).map((run) =>
    run.length === 1 ? run[0] : ({ type: "batch", events: run } satisfies EventBatch),
  );
}

/** The events of bus messages, envelopes opened, in order. */
export function unpackEvents(values: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const value of values) {
    if (
      typeof value === "object" &&
      value !== null &&
      (value as { type?: unknown }).type === "batch" &&
      Array.isArray((value as { events?: unknown }).events)
    )
      out.push(...(value as EventBatch).events);
    else out.push(value);
  }
  return out;
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

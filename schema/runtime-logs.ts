// Runtime log lines: what a function printed while it ran, as the runtime stores them and as they cross the bus
// (topic `runtime-logs`, keyed by deployment id) to the api processes' live watchers. Validated on receipt.

import { type Static, Type } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { DeploymentId } from "./events.ts";

/** Longest runtime line kept; longer ones are cut, and the cut is said in the line itself. */
export const MAX_RUNTIME_LINE_CHARS = 4096;
/** Most lines in one bus message (one flush of one deployment's lines may take several). */
export const MAX_RUNTIME_BATCH_LINES = 500;

/** The proxy's request ids (src/observe/http.ts), as the launcher prints them: `[<id>] text`. */
export const REQUEST_ID_PATTERN = "^[A-Za-z0-9._:@+=-]{1,128}$";
/** Made by the writer, unique per line; with `at` it orders a deployment's lines. SQL-safe characters only. */
export const LINE_ID_PATTERN = "^[A-Za-z0-9_.:-]{1,64}$";
/** `Date.prototype.toISOString()` exactly: fixed width, so text order is time order. */
export const AT_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$";

export const RuntimeLogEntry = Type.Object(
  {
    id: Type.String({ pattern: LINE_ID_PATTERN }),
    /** The function's path in the manifest ("/api/hello"); "" for the platform's own notes (truncation). */
    function: Type.String({ maxLength: 4096 }),
    /** The request the line was printed under; null outside any request (start-up, timers). */
    requestId: Type.Union([Type.String({ pattern: REQUEST_ID_PATTERN }), Type.Null()]),
    stream: Type.Union([Type.Literal("stdout"), Type.Literal("stderr"), Type.Literal("system")]),
    /** The line without its request id prefix. */
    text: Type.String({ maxLength: MAX_RUNTIME_LINE_CHARS + 64 }),
    at: Type.String({ pattern: AT_PATTERN }),
  },
  { additionalProperties: false },
);
export type RuntimeLogEntry = Static<typeof RuntimeLogEntry>;

export const RuntimeLogBatch = Type.Object(
  {
    type: Type.Literal("runtime-logs"),
    deploymentId: DeploymentId,
    lines: Type.Array(RuntimeLogEntry, { minItems: 1, maxItems: MAX_RUNTIME_BATCH_LINES }),
  },
  { additionalProperties: false },
);
export type RuntimeLogBatch = Static<typeof RuntimeLogBatch>;

const check = TypeCompiler.Compile(RuntimeLogBatch);

/** Narrows an untrusted bus message to a batch of runtime lines, or returns why it is not one. */
export function parseRuntimeLogBatch(
  value: unknown,
): { ok: true; batch: RuntimeLogBatch } | { ok: false; problem: string } {
  if (check.Check(value)) return { ok: true, batch: value };
  const first = check.Errors(value).First();
  return { ok: false, problem: first ? `${first.path || "message"}: ${first.message}` : "not a batch" };
}

// /api/deployments/:id/runtime-logs: what a deployment's functions printed, paged newest first or by time, and
// live over Server-Sent Events. Only the deployment's owner sees them (404 for anyone else).

import { Elysia } from "elysia";
import { AT_PATTERN, LINE_ID_PATTERN } from "../../schema/runtime-logs.ts";
import { getDeployment } from "../deploy/access.ts";
import type { Deps } from "../deps.ts";
import { badRequest } from "../errors.ts";
import type { RuntimeLogCursor } from "../store/runtime-logs.ts";
import { requireUser } from "./auth.ts";
import { runtimeLogStream } from "./runtime-log-stream.ts";
import {
  errorResponse,
  Id,
  RuntimeLogPage,
  RuntimeLogQuery,
  RuntimeLogStreamEvent,
  RuntimeLogStreamQuery,
} from "./schemas.ts";

/** How far back a stream's history goes unless asked otherwise. */
const STREAM_SINCE_MS = 15 * 60_000;
const AT = new RegExp(AT_PATTERN);
const LINE_ID = new RegExp(LINE_ID_PATTERN);

/** A position in a runtime log as an opaque, URL-safe string. */
export function encodeCursor({ at, id }: RuntimeLogCursor): string {
  return Buffer.from(`${at} ${id}`).toString("base64url");
}

/** The position a cursor names; null when it is not one this server made. */
export function decodeCursor(cursor: string): RuntimeLogCursor | null {
  const [at = "", id = "", ...rest] = Buffer.from(cursor, "base64url").toString("utf8").split(" ");
  return rest.length === 0 && AT.test(at) && LINE_ID.test(id) ? { at, id } : null;
}

/** Unix milliseconds as the store's ISO time; undefined stays undefined. */
const isoOf = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

export function runtimeLogRoutes({
  store,
  runtimeLogs,
  runtimeLive,
  auth,
}: Pick<Deps, "store" | "runtimeLogs" | "runtimeLive" | "auth">) {
  // Statuses of these routes' own; authentication, validation and rate limits: docs-responses.ts.
  const missing = { 404: errorResponse("No such deployment, or not yours.") };

  const ownDeployment = async (userId: string, id: string) =>
    (await getDeployment(store, userId, id, "read")).deployment;

  return new Elysia({ tags: ["deployments"] })
    .use(requireUser(auth))
    .get(
      "/deployments/:id/runtime-logs",
      async ({ user, params, query }) => {
        const deployment = await ownDeployment(user.id, params.id);
        if (query.since !== undefined && query.until !== undefined && query.since > query.until)
          throw badRequest("since must not be later than until", "since");
        const before = query.cursor === undefined ? null : decodeCursor(query.cursor);
        if (query.cursor !== undefined && before === null)
          throw badRequest("cursor is not one this API returned", "cursor");
        const limit = query.limit ?? 100;
        const lines = await runtimeLogs.read(deployment.id, {
          since: isoOf(query.since),
          until: isoOf(query.until),
          function: query.function ?? null,
          before,
          limit,
        });
        const last = lines[lines.length - 1];
        return {
          items: lines.map(({ id, at, function: fn, requestId, stream, text }) => ({
            id,
            at,
            function: fn,
            requestId,
            stream,
            text,
          })),
          nextCursor: lines.length === limit && last ? encodeCursor(last) : null,
        };
      },
      {
        params: Id,
        query: RuntimeLogQuery,
        response: {
          200: RuntimeLogPage,
          400: errorResponse("The cursor is not one a previous page gave, or `since` is later than `until`."),
          ...missing,
        },
        detail: {
          summary: "Page through what a deployment's functions printed, newest first",
          description:
            "Each line names its function and the request it was printed under. `since` and `until` bound the " +
            "time; `nextCursor` pages to older lines within the same bounds. Lines are kept " +
            "FUNCTION_LOG_RETENTION_DAYS days.",
        },
      },
    )
    .get(
      "/deployments/:id/runtime-logs/stream",
      async ({ user, params, query, request }) => {
        const deployment = await ownDeployment(user.id, params.id);
        const resume = request.headers.get("last-event-id");
        const after = resume ? decodeCursor(resume) : null;
        if (resume && after === null) throw badRequest("Last-Event-ID is not one this stream sent");
        return runtimeLogStream(
          { runtimeLogs, runtimeLive },
          deployment.id,
          {
            since: isoOf(query.since) ?? new Date(Date.now() - STREAM_SINCE_MS).toISOString(),
            function: query.function ?? null,
            after,
            cursorOf: encodeCursor,
          },
          request.signal,
        );
      },
      {
        params: Id,
        query: RuntimeLogStreamQuery,
        response: {
          200: RuntimeLogStreamEvent,
          400: errorResponse("Last-Event-ID is not one this stream sent."),
          ...missing,
        },
        detail: {
          summary: "Stream what a deployment's functions print (Server-Sent Events)",
          description:
            "Sends `log` events (id: the line's cursor) for the lines since `since` (the newest 500 at most), " +
            "then `ready`, then each line as it is printed. The stream stays open; `restarting` when the " +
            "server shuts down (reconnect: the stream resumes after Last-Event-ID).",
        },
      },
    );
}

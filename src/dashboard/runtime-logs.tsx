// The deployment page's runtime logs: its time filter read from a query, the lines of a range from the runtime log
// store, and the fragment htmx swaps in when the filter changes or older lines are asked for.
/** @jsxImportSource preact */

import { Elysia, t } from "elysia";
import {
  RANGES,
  type RuntimeFilter,
  RuntimeLines,
  RuntimeLogBody,
  type RuntimeRange,
  type RuntimeView,
} from "../../views/components/runtime-log.tsx";
import { decodeCursor, encodeCursor } from "../api/runtime-logs.ts";
import { Id } from "../api/schemas.ts";
import { getDeployment } from "../deploy/access.ts";
import type { Deps } from "../deps.ts";
import type { User } from "../model/entities.ts";
import { APP_LABEL } from "../model/settings.ts";
import type { Artifacts } from "../store/artifacts.ts";
import type { RuntimeLogs } from "../store/runtime-logs.ts";
import { html } from "./respond.ts";
import { requireSession } from "./session.ts";

/** Lines per page of a time range. */
export const RUNTIME_PAGE = 200;
const MINUTE = 60_000;
const SPANS: Partial<Record<RuntimeRange, number>> = {
  "15m": 15 * MINUTE,
  "1h": 60 * MINUTE,
  "1d": 1440 * MINUTE,
};
/** "2025-01-02T03:04" or with seconds: what a datetime-local input sends. */
const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/;

/** The filter's query: all optional strings, read leniently (a bad value falls back, or is said in the body). */
export const RuntimeQuery = t.Object({
  range: t.Optional(t.String({ maxLength: 16 })),
  from: t.Optional(t.String({ maxLength: 32 })),
  to: t.Optional(t.String({ maxLength: 32 })),
  function: t.Optional(t.String({ maxLength: 4096 })),
  tz: t.Optional(t.String({ maxLength: 8 })),
  /** A page's exact bounds (Unix ms) and the line it continues before (older pages). */
  since: t.Optional(t.String({ maxLength: 16 })),
  until: t.Optional(t.String({ maxLength: 16 })),
  before: t.Optional(t.String({ maxLength: 200 })),
});
type RuntimeQuery = typeof RuntimeQuery.static;

export function parseRuntimeFilter(query: RuntimeQuery): RuntimeFilter {
  const range = RANGES.find((r) => r.value === query.range)?.value ?? "live";
  const tz = Number(query.tz ?? 0);
  return {
    range,
    from: query.from ?? "",
    to: query.to ?? "",
    function: query.function ?? "",
    // Time zones are within a day of UTC.
    tz: Number.isInteger(tz) && Math.abs(tz) <= 1440 ? tz : 0,
  };
}

/** A datetime-local value in the browser's zone -> Unix ms; null when it is not one. */
function localToMs(value: string, tz: number): number | null {
  if (!LOCAL_TIME.test(value)) return null;
  const ms = Date.parse(`${value}Z`);
  return Number.isNaN(ms) ? null : ms + tz * MINUTE;
}

/**
 * The end of what a datetime-local "to" names, exclusive: its whole minute, second or millisecond, so that "to
 * 10:15:30" (what the form prefills for now) includes the lines printed during that second.
 */
function localEndToMs(value: string, tz: number): number | null {
  const start = localToMs(value, tz);
  if (start === null) return null;
  const unit = value.includes(".") ? 1 : value.length > "2025-01-02T03:04".length ? 1000 : MINUTE;
  return start + unit;
}

const msOf = (value: string | undefined): number | null =>
  value !== undefined && /^\d{1,15}$/.test(value) ? Number(value) : null;

/** The time bounds a filter names at `now`, or why it names none. */
function bounds(
  filter: RuntimeFilter,
  query: RuntimeQuery,
  now: number,
): { since: number; until: number } | string {
  const since = msOf(query.since);
  const until = msOf(query.until);
  if (since !== null && until !== null) return { since, until };
  const span = SPANS[filter.range];
  if (span !== undefined) return { since: now - span, until: now };
  const from = localToMs(filter.from, filter.tz);
  if (from === null) return "Choose when the range starts (From).";
  const to = filter.to === "" ? now : localEndToMs(filter.to, filter.tz);
  if (to === null) return "“To” is not a date and time.";
  if (from >= to) return "“From” must be before “To”.";
  return { since: from, until: to };
}

/** What the runtime log body shows for a filter; `page` is the fragment route that pages it. */
export async function runtimeView(
  runtimeLogs: RuntimeLogs,
  deploymentId: string,
  filter: RuntimeFilter,
  query: RuntimeQuery,
  now = Date.now(),
): Promise<RuntimeView> {
  const fn = filter.function === "" ? null : filter.function;
  if (filter.range === "live" && query.since === undefined) {
    const params = new URLSearchParams(fn === null ? {} : { function: fn });
    const search = params.size > 0 ? `?${params}` : "";
    return { kind: "live", stream: `/api/deployments/${deploymentId}/runtime-logs/stream${search}` };
  }
  const span = bounds(filter, query, now);
  if (typeof span === "string") return { kind: "invalid", message: span };
  const before = query.before === undefined ? null : decodeCursor(query.before);
  const newest = await runtimeLogs.read(deploymentId, {
    since: new Date(span.since).toISOString(),
    until: new Date(span.until).toISOString(),
    function: fn,
    before,
    limit: RUNTIME_PAGE,
  });
  const oldest = newest[newest.length - 1];
  const older =
    newest.length === RUNTIME_PAGE && oldest
      ? `/deployments/${deploymentId}/runtime-logs?${new URLSearchParams({
          range: filter.range,
          function: filter.function,
          since: String(span.since),
          until: String(span.until),
          before: encodeCursor(oldest),
        })}`
      : null;
  return {
    kind: "range",
    lines: newest.reverse(),
    older,
    since: new Date(span.since).toISOString(),
    until: new Date(span.until).toISOString(),
  };
}

/** The deployment's function paths (none: the page has no runtime logs section). */
export async function functionPaths(artifacts: Pick<Artifacts, "getManifest">, deploymentId: string) {
  const manifest = await artifacts.getManifest(deploymentId);
  // An app server's lines are under its own name beside the functions'.
  return [...Object.keys(manifest?.functions ?? {}).sort(), ...(manifest?.server ? [APP_LABEL] : [])];
}

export function runtimeLogRoutes({
  store,
  runtimeLogs,
  artifacts,
}: Pick<Deps, "store" | "runtimeLogs" | "artifacts">) {
  const own = async (user: User, id: string) => (await getDeployment(store, user.id, id, "read")).deployment;
  return new Elysia().use(requireSession(store)).get(
    "/deployments/:id/runtime-logs",
    async ({ user, params, query }) => {
      const deployment = await own(user, params.id);
      const filter = parseRuntimeFilter(query);
      const view = await runtimeView(runtimeLogs, deployment.id, filter, query);
      // An older page replaces its button: just the lines (and the next button).
      if (query.before !== undefined && view.kind === "range")
        return html(<RuntimeLines lines={view.lines} older={view.older} />);
      const functions = await functionPaths(artifacts, deployment.id);
      return html(
        <RuntimeLogBody deploymentId={deployment.id} functions={functions} filter={filter} view={view} />,
      );
    },
    { params: Id, query: RuntimeQuery },
  );
}

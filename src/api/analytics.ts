// /api/projects/:id/analytics: a project's web analytics for the last hour, day, week or month, optionally for one
// deployment, path or referrer, as JSON or CSV (format=csv, or Accept: text/csv). Owner only: another account's
// project is "not found".

import { Elysia, t } from "elysia";
import { analyticsReport, RANGE_NAMES, type Range, reportCsv } from "../deploy/analytics.ts";
import type { Deps } from "../deps.ts";
import { requireUser } from "./auth.ts";
import { ALSO_AS, errorResponse, Id } from "./schemas.ts";

const RangeParam = t.Union(RANGE_NAMES.map((r) => t.Literal(r)) as [ReturnType<typeof t.Literal<Range>>], {
  description: "hour (1-minute points), day (hourly), week (6-hourly) or month (daily); default day",
});

export const AnalyticsQuery = t.Object({
  range: t.Optional(RangeParam),
  deployment: t.Optional(
    t.String({
      pattern: "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
      description: "a deployment id",
    }),
  ),
  path: t.Optional(t.String({ minLength: 1, maxLength: 512, description: "exactly this path (no query)" })),
  referrer: t.Optional(
    t.String({
      maxLength: 512,
      description: "exactly this referring host; empty: direct visits and the site itself",
    }),
  ),
  format: t.Optional(t.Union([t.Literal("json"), t.Literal("csv")], { description: "default json" })),
});

const Entry = t.Object({ key: t.String(), requests: t.Integer(), visitors: t.Integer() });
const List = (what: string) =>
  t.Array(Entry, { description: `top ${what}, most requests first (10 at most)` });

export const AnalyticsReportSchema = t.Object({
  range: t.String(),
  from: t.String({ format: "date-time" }),
  to: t.String({ format: "date-time" }),
  bucketSeconds: t.Integer(),
  filters: t.Object({
    deploymentId: t.Union([t.String(), t.Null()]),
    path: t.Union([t.String(), t.Null()]),
    referrer: t.Union([t.String(), t.Null()]),
  }),
  totals: t.Object({
    requests: t.Integer({ description: "requests of people's browsers (bots apart)" }),
    visitors: t.Integer({ description: "unique visitors per day, summed over the window's days" }),
    bytes: t.Integer({ description: "body bytes sent" }),
    bots: t.Integer({ description: "requests of bots, crawlers and scripts" }),
    ttfbP50Ms: t.Union([t.Number(), t.Null()], { description: "median time to first byte at the proxy" }),
    ttfbP95Ms: t.Union([t.Number(), t.Null()]),
  }),
  series: t.Array(
    t.Object({ at: t.String({ format: "date-time" }), requests: t.Integer(), visitors: t.Integer() }),
  ),
  pages: List("paths"),
  referrers: List('referring hosts ("" is direct)'),
  countries: List('countries (ISO codes; "" unknown)'),
  browsers: List("browsers"),
  os: List("operating systems"),
  statuses: t.Array(Entry, { description: "status codes, in order" }),
  deployments: List("deployments (ids)"),
});

export function analyticsRoutes({ store, analytics, auth }: Pick<Deps, "store" | "analytics" | "auth">) {
  return new Elysia({ tags: ["projects"] }).use(requireUser(auth)).get(
    "/projects/:id/analytics",
    async ({ user, params, query, request }) => {
      const report = await analyticsReport({ store, analytics }, user.id, params.id, {
        range: query.range ?? "day",
        deploymentId: query.deployment ?? null,
        path: query.path ?? null,
        referrer: query.referrer ?? null,
      });
      const csv =
        query.format === "csv" ||
        (query.format === undefined && (request.headers.get("accept") ?? "").includes("text/csv"));
      if (!csv) return Response.json(report);
      return new Response(reportCsv(report), {
        headers: {
          "content-type": "text/csv; charset=utf-8",
          "content-disposition": `attachment; filename="analytics-${report.range}.csv"`,
        },
      });
    },
    {
      params: Id,
      query: AnalyticsQuery,
      response: {
        200: t.Object(AnalyticsReportSchema.properties, {
          description: "The report as JSON; as CSV with format=csv or Accept: text/csv.",
          [ALSO_AS]: {
            "text/csv": {
              type: "string",
              description: "One row per number: table,key,requests,visitors,value (docs/api.md).",
            },
          },
        }),
        404: errorResponse("No such project, or not yours."),
      },
      detail: {
        summary: "A project's web analytics (JSON, or CSV with format=csv or Accept: text/csv)",
        description:
          "Counted by the proxy for every request a deployment answers: no script in pages, no cookies. " +
          "Visitors are daily-salted hashes (never addresses). The CSV has one row per number: " +
          "`table,key,requests,visitors,value` with table totals, series, pages, referrers, countries, " +
          "browsers, os, statuses or deployments (docs/api.md). Kept ANALYTICS_RETENTION_DAYS days.",
      },
    },
  );
}

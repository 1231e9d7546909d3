// Web analytics, the owner's side: a project's report for a range (last hour, day, week, month), optionally for
// one deployment, path or referrer: totals, a time series, top lists and time-to-first-byte percentiles, made of
// the store's group queries (the same for sqlite and ClickHouse), and the same report as CSV.

import type { Analytics, AnalyticsFilter, Dimension, Group } from "../store/analytics.ts";
import type { Store } from "../store/store.ts";
import { getProject } from "./access.ts";

export const RANGES = {
  hour: { seconds: 3600, bucket: 60 },
  day: { seconds: 86_400, bucket: 3600 },
  week: { seconds: 7 * 86_400, bucket: 6 * 3600 },
  month: { seconds: 30 * 86_400, bucket: 86_400 },
} as const;
export type Range = keyof typeof RANGES;
export const RANGE_NAMES = Object.keys(RANGES) as Range[];

/** Entries of each top list. */
export const TOP = 10;

export interface ReportQuery {
  range: Range;
  deploymentId?: string | null;
  path?: string | null;
  referrer?: string | null;
}

export interface Entry {
  key: string;
  requests: number;
  visitors: number;
}

export interface AnalyticsReport {
  range: Range;
  /** ISO times: the window is [from, to), cut into buckets of `bucketSeconds`. */
  from: string;
  to: string;
  bucketSeconds: number;
  filters: { deploymentId: string | null; path: string | null; referrer: string | null };
  totals: {
    requests: number;
    /** Unique visitors per day, summed over the window's days. */
    visitors: number;
    bytes: number;
    /** Requests of bots, crawlers and scripts (not in any other number). */
    bots: number;
    /** Time to first byte at the proxy, milliseconds; null without requests. */
    ttfbP50Ms: number | null;
    ttfbP95Ms: number | null;
  };
  /** One point per bucket, oldest first, empty buckets included. */
  series: { at: string; requests: number; visitors: number }[];
  pages: Entry[];
  referrers: Entry[];
  countries: Entry[];
  browsers: Entry[];
  os: Entry[];
  statuses: Entry[];
  deployments: Entry[];
}

/** The time at which `share` of the requests had their first byte (steps in µs, as stored) -> ms. */
export function percentile(steps: Group[], share: number): number | null {
  const sorted = steps.map((g) => ({ us: Number(g.key), n: g.requests })).sort((a, b) => a.us - b.us);
  const total = sorted.reduce((sum, s) => sum + s.n, 0);
  if (total === 0) return null;
  let seen = 0;
  for (const step of sorted) {
    seen += step.n;
    if (seen >= share * total) return step.us / 1000;
  }
  return null;
}

const entries = (groups: Group[]): Entry[] =>
  groups.map(({ key, requests, visitors }) => ({ key, requests, visitors }));

export async function analyticsReport(
  deps: { store: Store; analytics: Analytics },
  userId: string,
  projectId: string,
  query: ReportQuery,
  nowMs: number = Date.now(),
): Promise<AnalyticsReport> {
  const project = await getProject(deps.store, userId, projectId, "read");
  const { seconds, bucket } = RANGES[query.range];
  const to = Math.ceil((Math.floor(nowMs / 1000) + 1) / bucket) * bucket;
  const from = to - seconds;
  const filters = {
    deploymentId: query.deploymentId ?? null,
    path: query.path ?? null,
    referrer: query.referrer ?? null,
  };
  const filter: AnalyticsFilter = { projectId: project.id, from, to, bot: false, ...filters };
  const top = (dimension: Dimension) =>
    deps.analytics.group(filter, { kind: "dimension", dimension, limit: TOP }).then(entries);
  const [all, bots, steps, buckets, pages, referrers, countries, browsers, os, statuses, deployments] =
    await Promise.all([
      deps.analytics.group(filter, { kind: "all" }),
      deps.analytics.group({ ...filter, bot: true }, { kind: "all" }),
      deps.analytics.group(filter, { kind: "ttfb" }),
      deps.analytics.group(filter, { kind: "bucket", seconds: bucket }),
      top("path"),
      top("referrer"),
      top("country"),
      top("browser"),
      top("os"),
      top("status"),
      top("deployment"),
    ]);
  const byBucket = new Map(buckets.map((g) => [Number(g.key), g]));
  const series = [];
  for (let at = from; at < to; at += bucket) {
    const g = byBucket.get(at);
    series.push({
      at: new Date(at * 1000).toISOString(),
      requests: g?.requests ?? 0,
      visitors: g?.visitors ?? 0,
    });
  }
  const total = all[0];
  return {
    range: query.range,
    from: new Date(from * 1000).toISOString(),
    to: new Date(to * 1000).toISOString(),
    bucketSeconds: bucket,
    filters,
    totals: {
      requests: total?.requests ?? 0,
      visitors: total?.visitors ?? 0,
      bytes: total?.bytes ?? 0,
      bots: bots[0]?.requests ?? 0,
      ttfbP50Ms: percentile(steps, 0.5),
      ttfbP95Ms: percentile(steps, 0.95),
    },
    series,
    pages,
    referrers,
    countries,
    browsers,
    os,
    statuses: statuses.sort((a, b) => Number(a.key) - Number(b.key)),
    deployments,
  };
}

/** A CSV field: quoted when it holds a comma, quote or line break; formula starters defused for spreadsheets. */
function field(value: string | number | null): string {
  if (value === null) return "";
  let text = String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The report as one CSV table: `table,key,requests,visitors,value` rows (docs/api.md). */
export function reportCsv(report: AnalyticsReport): string {
  const rows: (string | number | null)[][] = [["table", "key", "requests", "visitors", "value"]];
  const t = report.totals;
  rows.push(["totals", "requests", t.requests, null, t.requests]);
  rows.push(["totals", "visitors", null, t.visitors, t.visitors]);
  rows.push(["totals", "bytes", null, null, t.bytes]);
  rows.push(["totals", "bots", null, null, t.bots]);
  rows.push(["totals", "ttfb_p50_ms", null, null, t.ttfbP50Ms]);
  rows.push(["totals", "ttfb_p95_ms", null, null, t.ttfbP95Ms]);
  for (const p of report.series) rows.push(["series", p.at, p.requests, p.visitors, null]);
  const lists = ["pages", "referrers", "countries", "browsers", "os", "statuses", "deployments"] as const;
  for (const name of lists)
    for (const e of report[name]) rows.push([name, e.key, e.requests, e.visitors, null]);
  return `${rows.map((r) => r.map(field).join(",")).join("\r\n")}\r\n`;
}

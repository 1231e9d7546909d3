// Web analytics records: what a proxy counted in one flush, aggregated per minute, deployment, page, referrer,
// country, browser, OS, status, visitor and time-to-first-byte step. They cross the bus (topic `analytics`, keyed
// by project id) from every proxy to the workers, which store them. Validated on receipt: the bus is a trust
// boundary. No field holds an address: `visitor` is a salted hash (src/proxy/analytics.ts).

import { type Static, Type } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { DeploymentId } from "./events.ts";

/** Most records in one bus message (a flush of a busy project takes several). */
export const MAX_ANALYTICS_ROWS = 500;
/** Longest path or referrer kept; longer ones are cut. */
export const MAX_ANALYTICS_TEXT = 512;
/** A visitor: the first 16 hex digits of sha256(day's salt, project, address, user agent). */
export const VISITOR_PATTERN = "^[0-9a-f]{16}$";
/** ISO 3166 alpha-2, or "" when unknown (no GeoIP file, or an address it does not cover). */
export const COUNTRY_PATTERN = "^([A-Z]{2})?$";

const Text = Type.String({ maxLength: MAX_ANALYTICS_TEXT });
const Name = Type.String({ maxLength: 32 });

export const AnalyticsRecord = Type.Object(
  {
    deploymentId: DeploymentId,
    /** The minute's start, seconds since the epoch (a multiple of 60). */
    minute: Type.Integer({ minimum: 0, maximum: 0xffff_ffff, multipleOf: 60 }),
    /** The request's path, without its query. */
    path: Text,
    /** The Referer's host when it is another site's; "" for none or the site itself. */
    referrer: Text,
    country: Type.String({ pattern: COUNTRY_PATTERN }),
    browser: Name,
    os: Name,
    status: Type.Integer({ minimum: 100, maximum: 599 }),
    /** The user agent says it is a bot, crawler or script: counted apart from visitors. */
    bot: Type.Boolean(),
    visitor: Type.String({ pattern: VISITOR_PATTERN }),
    /** Time to first byte, microseconds, rounded to a 5% step (src/proxy/analytics.ts ttfbStep). */
    ttfbUs: Type.Integer({ minimum: 0, maximum: 0xffff_ffff }),
    requests: Type.Integer({ minimum: 1, maximum: 0xffff_ffff }),
    /** Body bytes sent (0 for streamed bodies of unknown length). */
    bytes: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
  },
  { additionalProperties: false },
);
export type AnalyticsRecord = Static<typeof AnalyticsRecord>;

export const AnalyticsBatch = Type.Object(
  {
    type: Type.Literal("analytics"),
    /** Unique per message: a message delivered twice is stored once. */
    id: Type.String({ pattern: "^[0-9a-f-]{36}$" }),
    projectId: DeploymentId,
    records: Type.Array(AnalyticsRecord, { minItems: 1, maxItems: MAX_ANALYTICS_ROWS }),
  },
  { additionalProperties: false },
);
export type AnalyticsBatch = Static<typeof AnalyticsBatch>;

const check = TypeCompiler.Compile(AnalyticsBatch);

/** Narrows an untrusted bus message to an analytics batch, or returns why it is not one. */
export function parseAnalyticsBatch(
  value: unknown,
): { ok: true; batch: AnalyticsBatch } | { ok: false; problem: string } {
  if (check.Check(value)) return { ok: true, batch: value };
  const first = check.Errors(value).First();
  return { ok: false, problem: first ? `${first.path || "message"}: ${first.message}` : "not a batch" };
}

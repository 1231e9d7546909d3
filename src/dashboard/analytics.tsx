// A project's Analytics tab, and its panel alone for htmx's refresh. Owner only (another's project is "not
// found"). The filters come from the address: a wrong one is dropped and said inline, never a 500.
/** @jsxImportSource preact */

import { Elysia, t } from "elysia";
import { type AnalyticsFilters, AnalyticsPage, AnalyticsPanel } from "../../views/pages/analytics.tsx";
import { Id } from "../api/schemas.ts";
import { getProject } from "../deploy/access.ts";
import { analyticsReport, RANGE_NAMES, type Range } from "../deploy/analytics.ts";
import type { Deps } from "../deps.ts";
import { productionUrl } from "../model/urls.ts";
import { chromeFor } from "./assets.ts";
import { html } from "./respond.ts";
import { requireSession } from "./session.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MAX_TEXT = 512;

/** Any text in the address; checked below, so a wrong value is a message, not a validation error page. */
const Query = t.Object({
  range: t.Optional(t.String()),
  deployment: t.Optional(t.String()),
  path: t.Optional(t.String()),
  referrer: t.Optional(t.String()),
});

/** The filters the address asks for, the wrong ones dropped, and what was wrong with them. */
export function readFilters(query: typeof Query.static): { filters: AnalyticsFilters; error: string | null } {
  const problems: string[] = [];
  const range = query.range ?? "day";
  const filters: AnalyticsFilters = { range: "day", deployment: "", path: "", referrer: "" };
  if (RANGE_NAMES.includes(range as Range)) filters.range = range as Range;
  else problems.push(`range must be one of ${RANGE_NAMES.join(", ")}`);
  const deployment = (query.deployment ?? "").trim();
  if (deployment === "" || UUID.test(deployment)) filters.deployment = deployment;
  else problems.push("deployment must be a deployment id");
  const path = (query.path ?? "").trim();
  if (path === "" || (path.startsWith("/") && path.length <= MAX_TEXT)) filters.path = path;
  else problems.push(`path must start with / and be at most ${MAX_TEXT} characters`);
  const referrer = (query.referrer ?? "").trim();
  if (referrer.length <= MAX_TEXT) filters.referrer = referrer;
  else problems.push(`referrer must be at most ${MAX_TEXT} characters`);
  return { filters, error: problems.length > 0 ? `${problems.join("; ")}.` : null };
}

export function analyticsRoutes({ config, store, analytics }: Pick<Deps, "config" | "store" | "analytics">) {
  const reportFor = (userId: string, projectId: string, filters: AnalyticsFilters) =>
    analyticsReport({ store, analytics }, userId, projectId, {
      range: filters.range,
      deploymentId: filters.deployment || null,
      path: filters.path || null,
      // "-" asks for direct visits (no referrer), which the store keeps as "".
      referrer: filters.referrer === "" ? null : filters.referrer === "-" ? "" : filters.referrer,
    });

  return new Elysia()
    .use(requireSession(store))
    .get(
      "/projects/:id/analytics",
      async ({ user, csrf, params, query }) => {
        const project = await getProject(store, user.id, params.id, "read");
        const { filters, error } = readFilters(query);
        const [report, recent] = await Promise.all([
          reportFor(user.id, project.id, filters),
          store.deployments.list(user.id, project.id, { limit: 20, cursor: null }),
        ]);
        return html(
          <AnalyticsPage
            chrome={chromeFor(user, csrf)}
            project={project}
            productionUrl={productionUrl(project, config)}
            report={report}
            filters={filters}
            deployments={recent.items}
            error={error}
          />,
        );
      },
      { params: Id, query: Query },
    )
    .get(
      "/projects/:id/analytics/panel",
      async ({ user, params, query }) => {
        const project = await getProject(store, user.id, params.id, "read");
        const { filters } = readFilters(query);
        const report = await reportFor(user.id, project.id, filters);
        return html(<AnalyticsPanel project={project} report={report} filters={filters} />);
      },
      { params: Id, query: Query },
    );
}

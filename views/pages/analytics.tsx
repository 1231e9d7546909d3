// A project's Analytics tab: range and filters (a plain GET form, so every view has its own address), then the
// panel: totals, the time series as SVG, and the top lists. The panel re-fetches itself every 15 s (htmx).
/** @jsxImportSource preact */

import type { AnalyticsReport, Entry, Range } from "../../src/deploy/analytics.ts";
import type { Deployment, Project } from "../../src/model/entities.ts";
import { SeriesChart } from "../components/chart.tsx";
import { deploymentTitle } from "../format.ts";
import { type Chrome, Layout } from "../layout.tsx";
import { ProjectHead } from "./project-head.tsx";

export interface AnalyticsFilters {
  range: Range;
  deployment: string;
  path: string;
  referrer: string;
}

const RANGE_LABEL: Record<Range, string> = {
  hour: "Last hour",
  day: "Last 24 hours",
  week: "Last 7 days",
  month: "Last 30 days",
};

/** The filters as a query string ("" values left out). */
export function analyticsQuery(filters: AnalyticsFilters, change: Partial<AnalyticsFilters> = {}): string {
  const merged = { ...filters, ...change };
  const params = new URLSearchParams();
  params.set("range", merged.range);
  if (merged.deployment) params.set("deployment", merged.deployment);
  if (merged.path) params.set("path", merged.path);
  if (merged.referrer !== "") params.set("referrer", merged.referrer);
  return params.toString();
}

export function formatBytes(bytes: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

const ms = (value: number | null) =>
  value === null ? "–" : `${value < 10 ? value.toFixed(2) : Math.round(value)} ms`;

function TopList(props: {
  id: string;
  title: string;
  column: string;
  entries: Entry[];
  show?: (key: string) => string;
  link?: (key: string) => string;
  visitors?: boolean;
}) {
  const { id, title, column, entries, show = (k) => k, link, visitors = true } = props;
  return (
    <section class="card top-list" aria-labelledby={`${id}-title`} id={id}>
      <h3 id={`${id}-title`}>{title}</h3>
      {entries.length === 0 ? (
        <p class="muted small">Nothing yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{column}</th>
              <th scope="col" class="num">
                Requests
              </th>
              {visitors && (
                <th scope="col" class="num">
                  Visitors
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.key}>
                <td class="key">{link ? <a href={link(e.key)}>{show(e.key)}</a> : show(e.key)}</td>
                <td class="num">{e.requests}</td>
                {visitors && <td class="num">{e.visitors}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function AnalyticsPanel(props: {
  project: Project;
  report: AnalyticsReport;
  filters: AnalyticsFilters;
}) {
  const { project, report, filters } = props;
  const base = `/projects/${project.id}/analytics`;
  const filterBy = (change: Partial<AnalyticsFilters>) => `${base}?${analyticsQuery(filters, change)}`;
  const t = report.totals;
  const stats: [string, string, string][] = [
    ["requests", "Requests", String(t.requests)],
    ["visitors", "Visitors", String(t.visitors)],
    ["bytes", "Sent", formatBytes(t.bytes)],
    ["ttfb", "TTFB p50 / p95", `${ms(t.ttfbP50Ms)} / ${ms(t.ttfbP95Ms)}`],
    ["bots", "Bots (apart)", String(t.bots)],
  ];
  return (
    <div
      id="analytics-panel"
      hx-get={`${base}/panel?${analyticsQuery(filters)}`}
      hx-trigger="every 15s"
      hx-swap="outerHTML"
    >
      <dl class="stats">
        {stats.map(([id, label, value]) => (
          <div key={id} class="stat" id={`stat-${id}`}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      <section class="card" aria-labelledby="series-title">
        <h3 id="series-title">
          Requests <span class="legend-bar" aria-hidden="true" /> and visitors{" "}
          <span class="legend-line" aria-hidden="true" />
        </h3>
        <SeriesChart
          series={report.series}
          bucketSeconds={report.bucketSeconds}
          label={`Requests and visitors, ${RANGE_LABEL[report.range].toLowerCase()}`}
        />
        <p class="muted small">
          Times in UTC. Visitors are counted per day (a daily salted hash of address and browser, never the
          address).
        </p>
      </section>
      <div class="top-lists">
        <TopList
          id="top-pages"
          title="Pages"
          column="Path"
          entries={report.pages}
          link={(key) => filterBy({ path: key })}
        />
        <TopList
          id="top-referrers"
          title="Referrers"
          column="Site"
          entries={report.referrers}
          show={(key) => (key === "" ? "Direct or this site" : key)}
          link={(key) => filterBy({ referrer: key === "" ? "-" : key })}
        />
        <TopList
          id="top-countries"
          title="Countries"
          column="Country"
          entries={report.countries}
          show={(key) => (key === "" ? "Unknown" : key)}
        />
        <TopList id="top-browsers" title="Browsers" column="Browser" entries={report.browsers} />
        <TopList id="top-os" title="Operating systems" column="OS" entries={report.os} />
        <TopList
          id="top-statuses"
          title="Status codes"
          column="Status"
          entries={report.statuses}
          visitors={false}
        />
        <TopList
          id="top-deployments"
          title="Deployments"
          column="Deployment"
          entries={report.deployments}
          show={(key) => key.slice(0, 8)}
          link={(key) => filterBy({ deployment: key })}
        />
      </div>
    </div>
  );
}

export interface AnalyticsPageProps {
  chrome: Chrome;
  project: Project;
  productionUrl: string;
  report: AnalyticsReport;
  filters: AnalyticsFilters;
  deployments: Deployment[];
  /** What was wrong with the address's filters (they were dropped); null when nothing was. */
  error: string | null;
}

export function AnalyticsPage(props: AnalyticsPageProps) {
  const { chrome, project, productionUrl, report, filters, deployments, error } = props;
  const base = `/projects/${project.id}/analytics`;
  const filtered = filters.deployment !== "" || filters.path !== "" || filters.referrer !== "";
  return (
    <Layout chrome={chrome} title={`${project.name} · Analytics`} nav="projects">
      <ProjectHead project={project} productionUrl={productionUrl} tab="analytics" />
      <nav class="ranges" aria-label="Range">
        {(Object.keys(RANGE_LABEL) as Range[]).map((range) => (
          <a
            key={range}
            href={`${base}?${analyticsQuery(filters, { range })}`}
            aria-current={filters.range === range ? "page" : undefined}
          >
            {RANGE_LABEL[range]}
          </a>
        ))}
      </nav>
      <form method="get" action={base} class="filters" id="analytics-filters" aria-label="Filter analytics">
        <input type="hidden" name="range" value={filters.range} />
        <label>
          <span>Deployment</span>
          <select name="deployment" id="filter-deployment">
            <option value="" selected={filters.deployment === ""}>
              All
            </option>
            {deployments.map((d) => (
              <option key={d.id} value={d.id} selected={filters.deployment === d.id}>
                {`${d.id.slice(0, 8)} · ${deploymentTitle(d)}`}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Path</span>
          <input
            type="text"
            name="path"
            id="filter-path"
            value={filters.path}
            placeholder="any"
            class="mono"
          />
        </label>
        <label>
          <span>Referrer</span>
          <input
            type="text"
            name="referrer"
            id="filter-referrer"
            value={filters.referrer}
            placeholder="any (- for direct)"
            class="mono"
          />
        </label>
        <button type="submit" class="button" id="analytics-filter-button">
          Filter
        </button>
        {filtered && (
          <a
            class="button"
            href={`${base}?${analyticsQuery({ range: filters.range, deployment: "", path: "", referrer: "" })}`}
          >
            Clear
          </a>
        )}
        {error && (
          <p class="form-error filter-error" id="analytics-filter-error" role="alert">
            {error}
          </p>
        )}
      </form>
      <AnalyticsPanel project={project} report={report} filters={filters} />
    </Layout>
  );
}

// A time series as a server-rendered SVG: requests as bars, visitors as a line, a few time labels. No script; it
// scales with its box (viewBox), so it fits a phone's width as well as a desktop's. Colours come from app.css.
/** @jsxImportSource preact */

export interface Point {
  at: string;
  requests: number;
  visitors: number;
}

const W = 640;
const H = 200;
const LEFT = 40;
const BOTTOM = 22;
const TOP = 8;

/** A round top for the axis: 1, 2 or 5 times a power of ten, at least `max`. */
export function niceMax(max: number): number {
  if (max <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
}

/** A bucket's start as the chart labels it: the time of day for an hour or a day, the date beyond. */
export function tickLabel(iso: string, bucketSeconds: number): string {
  const d = new Date(iso);
  const two = (n: number) => String(n).padStart(2, "0");
  if (bucketSeconds < 6 * 3600) return `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
  return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}`;
}

export function SeriesChart(props: { series: Point[]; bucketSeconds: number; label: string }) {
  const { series, bucketSeconds, label } = props;
  const top = niceMax(Math.max(0, ...series.map((p) => p.requests)));
  const plotW = W - LEFT;
  const plotH = H - BOTTOM - TOP;
  const slot = plotW / Math.max(1, series.length);
  const y = (v: number) => TOP + plotH - (v / top) * plotH;
  const visitors = series
    .map((p, i) => `${(LEFT + (i + 0.5) * slot).toFixed(1)},${y(p.visitors).toFixed(1)}`)
    .join(" ");
  const ticks = series.length > 0 ? [0, Math.floor((series.length - 1) / 2), series.length - 1] : [];
  return (
    <svg
      class="chart"
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-label={label}
      data-points={series.length}
      xmlns="http://www.w3.org/2000/svg"
    >
      <title>{label}</title>
      <line class="chart-axis" x1={LEFT} y1={y(0)} x2={W} y2={y(0)} />
      <line class="chart-grid" x1={LEFT} y1={y(top / 2)} x2={W} y2={y(top / 2)} />
      <line class="chart-grid" x1={LEFT} y1={y(top)} x2={W} y2={y(top)} />
      <text class="chart-label" x={LEFT - 6} y={y(top) + 4} text-anchor="end">
        {top}
      </text>
      <text class="chart-label" x={LEFT - 6} y={y(0) + 4} text-anchor="end">
        0
      </text>
      {series.map((p, i) =>
        p.requests > 0 ? (
          <rect
            key={p.at}
            class="chart-bar"
            data-requests={p.requests}
            x={(LEFT + i * slot + slot * 0.15).toFixed(1)}
            y={y(p.requests).toFixed(1)}
            width={Math.max(1, slot * 0.7).toFixed(1)}
            height={(y(0) - y(p.requests)).toFixed(1)}
          >
            <title>{`${tickLabel(p.at, bucketSeconds)}: ${p.requests} requests, ${p.visitors} visitors`}</title>
          </rect>
        ) : null,
      )}
      {series.length > 1 && <polyline class="chart-line" points={visitors} fill="none" />}
      {ticks.map((i, n) => {
        const p = series[i];
        if (!p) return null;
        const anchor = n === 0 ? "start" : n === ticks.length - 1 ? "end" : "middle";
        const x = n === 0 ? LEFT : n === ticks.length - 1 ? W : LEFT + (i + 0.5) * slot;
        return (
          <text key={`t${i}`} class="chart-label" x={x} y={H - 6} text-anchor={anchor}>
            {tickLabel(p.at, bucketSeconds)}
          </text>
        );
      })}
    </svg>
  );
}

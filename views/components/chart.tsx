// A time series as a server-rendered SVG: requests as bars, visitors as a line. No script; it scales with its box
// (viewBox, stretched to its box: no text inside to distort), so it fits a phone's width as a desktop's; its labels are HTML around it, so they keep their
// size when it shrinks. Colours come from app.css.
/** @jsxImportSource preact */

export interface Point {
  at: string;
  requests: number;
  visitors: number;
}

const W = 640;
const H = 180;
const LEFT = 0;
const BOTTOM = 1;
const TOP = 4;

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
    <figure class="chart-box">
      <div class="chart-scale" aria-hidden="true">
        <span>{top}</span>
        <span>{top / 2}</span>
        <span>0</span>
      </div>
      <svg
        class="chart"
        viewBox={`0 0 ${W} ${H}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={label}
        data-points={series.length}
        xmlns="http://www.w3.org/2000/svg"
      >
        <title>{label}</title>
        <line class="chart-axis" vector-effect="non-scaling-stroke" x1={LEFT} y1={y(0)} x2={W} y2={y(0)} />
        <line
          class="chart-grid"
          vector-effect="non-scaling-stroke"
          x1={LEFT}
          y1={y(top / 2)}
          x2={W}
          y2={y(top / 2)}
        />
        <line
          class="chart-grid"
          vector-effect="non-scaling-stroke"
          x1={LEFT}
          y1={y(top)}
          x2={W}
          y2={y(top)}
        />
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
        {series.length > 1 && (
          <polyline class="chart-line" vector-effect="non-scaling-stroke" points={visitors} fill="none" />
        )}
      </svg>
      <figcaption class="chart-ticks">
        {ticks.map((i) => {
          const p = series[i];
          return p ? <span key={`t${i}`}>{tickLabel(p.at, bucketSeconds)}</span> : null;
        })}
      </figcaption>
    </figure>
  );
}

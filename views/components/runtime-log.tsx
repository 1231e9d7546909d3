// The deployment page's "Runtime logs": a time filter, then either the live stream (app.js fills it) or the lines
// of a time range, server-rendered, with older pages on demand. Every line shows its time, function and request.
/** @jsxImportSource preact */

import type { RuntimeLogEntry } from "../../schema/runtime-logs.ts";
import { logText } from "../format.ts";

export type RuntimeRange = "live" | "15m" | "1h" | "1d" | "custom";

export const RANGES: { value: RuntimeRange; label: string }[] = [
  { value: "live", label: "Live" },
  { value: "15m", label: "Last 15 minutes" },
  { value: "1h", label: "Last hour" },
  { value: "1d", label: "Last day" },
  { value: "custom", label: "From … to …" },
];

export interface RuntimeFilter {
  range: RuntimeRange;
  /** datetime-local values (the browser's time zone, `tz` minutes behind UTC). */
  from: string;
  to: string;
  /** A function's path; "" for all. */
  function: string;
  tz: number;
}

/** What the body shows: the live stream, a range's lines (oldest first), or why the filter is not one. */
export type RuntimeView =
  | { kind: "live"; stream: string }
  | { kind: "range"; lines: RuntimeLogEntry[]; older: string | null; since: string; until: string }
  | { kind: "invalid"; message: string };

export interface RuntimeLogProps {
  deploymentId: string;
  /** The deployment's functions (their paths), for the filter. */
  functions: string[];
  filter: RuntimeFilter;
  view: RuntimeView;
}

export function RuntimeLogSection(props: RuntimeLogProps) {
  const { deploymentId: id, functions, filter } = props;
  return (
    <section class="card log-card runtime-card" id="runtime" aria-labelledby="runtime-title">
      <div class="log-toolbar">
        <h2 id="runtime-title">Runtime logs</h2>
        <span class="log-state small muted" id="runtime-state" aria-live="polite" />
        <button type="button" class="button small" id="runtime-follow" hidden>
          Follow ↓
        </button>
      </div>
      <form
        class="runtime-filter"
        method="get"
        action={`/deployments/${id}#runtime`}
        hx-get={`/deployments/${id}/runtime-logs`}
        hx-target="#runtime-body"
        hx-swap="outerHTML"
      >
        <label>
          <span class="small muted">Time</span>
          <select name="range" id="runtime-range">
            {RANGES.map((r) => (
              <option key={r.value} value={r.value} selected={r.value === filter.range}>
                {r.label}
              </option>
            ))}
          </select>
        </label>
        <label class="runtime-custom">
          <span class="small muted">From</span>
          <input type="datetime-local" name="from" value={filter.from} step={1} />
        </label>
        <label class="runtime-custom">
          <span class="small muted">To</span>
          <input type="datetime-local" name="to" value={filter.to} step={1} />
        </label>
        <label>
          <span class="small muted">Function</span>
          <select name="function">
            <option value="">All functions</option>
            {functions.map((path) => (
              <option key={path} value={path} selected={path === filter.function}>
                {path}
              </option>
            ))}
          </select>
        </label>
        {/* Minutes behind UTC of the browser's clock (app.js sets it): "from" and "to" are its local times. */}
        <input type="hidden" name="tz" value={String(filter.tz)} data-timezone />
        <button type="submit" class="button small">
          Show
        </button>
      </form>
      <RuntimeLogBody {...props} />
    </section>
  );
}

/** Swapped in place when the filter changes. */
export function RuntimeLogBody({ view }: RuntimeLogProps) {
  if (view.kind === "invalid")
    return (
      <div id="runtime-body">
        <p class="form-error runtime-note" role="alert">
          {view.message}
        </p>
      </div>
    );
  if (view.kind === "live")
    return (
      <div id="runtime-body">
        <div
          id="runtime-log"
          class="log runtime-log"
          role="log"
          aria-labelledby="runtime-title"
          tabindex={0}
          data-stream={view.stream}
        >
          <noscript>Live logs need JavaScript; choose a time range instead.</noscript>
        </div>
      </div>
    );
  return (
    <div id="runtime-body">
      <div id="runtime-log" class="log runtime-log" role="log" aria-labelledby="runtime-title" tabindex={0}>
        {view.lines.length === 0 && view.older === null ? (
          <div class="log-empty">No output in this time range.</div>
        ) : (
          <RuntimeLines lines={view.lines} older={view.older} />
        )}
      </div>
      <p class="small muted runtime-note">
        {"From "}
        <span data-at={view.since}>{view.since}</span>
        {" to "}
        <span data-at={view.until}>{view.until}</span>
      </p>
    </div>
  );
}

/** A page of lines, oldest first, after the button that loads the page before it. */
export function RuntimeLines({ lines, older }: { lines: RuntimeLogEntry[]; older: string | null }) {
  return (
    <>
      {older && (
        <button type="button" class="button small runtime-older" hx-get={older} hx-swap="outerHTML">
          Load older lines
        </button>
      )}
      {lines.map((line) => (
        <RuntimeLine key={line.id} line={line} />
      ))}
    </>
  );
}

/** The same markup app.js builds for a live line. */
export function RuntimeLine({ line }: { line: RuntimeLogEntry }) {
  return (
    <div class={`line line-${line.stream}`}>
      <span class="rt-time" data-at={line.at} title={line.at}>
        {line.at.slice(11, 23)}
      </span>
      <span class="rt-fn">{line.function || "minivercel"}</span>
      <span class="rt-req" title={line.requestId ? `request ${line.requestId}` : "outside a request"}>
        {line.requestId ?? "—"}
      </span>
      <span class="rt-text">{logText(line.text)}</span>
    </div>
  );
}

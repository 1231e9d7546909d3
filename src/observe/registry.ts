// Observe: a small Prometheus registry (counters, gauges, histograms, scrape-time collectors) and the text
// exposition format 0.0.4. Ours rather than prom-client: a few dozen lines, no globals, one registry per process.

export type Labels = Readonly<Record<string, string>>;
export type MetricType = "counter" | "gauge" | "histogram";

export interface Counter {
  inc(labels?: Labels, by?: number): void;
  /** The series of these labels, bound: no label lookup per increment (the proxy's hot path). */
  labels(labels: Labels): { inc(by?: number): void };
}

export interface Gauge {
  set(value: number, labels?: Labels): void;
  inc(labels?: Labels, by?: number): void;
}

export interface Histogram {
  /** Records one observation (seconds, bytes...) into the bucket it falls in. */
  observe(value: number, labels?: Labels): void;
  /** The series of these labels, bound (see Counter.labels). */
  labels(labels: Labels): { observe(value: number): void };
}

/** One series of a collector, read at scrape time. */
export interface Sample {
  labels?: Labels;
  value: number;
}

export interface Registry {
  counter(name: string, help: string, labelNames?: readonly string[]): Counter;
  gauge(name: string, help: string, labelNames?: readonly string[]): Gauge;
  histogram(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]): Histogram;
  /**
   * Series computed at scrape time from state kept elsewhere (queue depth in the store, cache counts in the
   * proxy). Registering a name again replaces the collector; the returned function removes it.
   */
  collect(
    name: string,
    help: string,
    type: "counter" | "gauge",
    read: () => Sample[] | Promise<Sample[]>,
  ): () => void;
  /** Every family in the text exposition format; a collector that fails or hangs is left out, with a comment. */
  expose(): Promise<string>;
}

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** A collector slower than this (a broker that does not answer) is skipped for this scrape. */
const COLLECT_TIMEOUT_MS = 5_000;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

function formatLabels(labels: Labels | undefined, extra?: [string, string]): string {
  const pairs = Object.entries(labels ?? {});
  if (extra) pairs.push(extra);
  if (pairs.length === 0) return "";
  return `{${pairs.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(",")}}`;
}

interface Family {
  name: string;
  help: string;
  type: MetricType;
  /** The family's samples, or its finished lines (histograms), without HELP and TYPE. */
  lines(): readonly (Sample | string)[] | Promise<readonly (Sample | string)[]>;
}

/** Series of one metric, keyed by its label values in `labelNames` order. */
function series<T>(name: string, labelNames: readonly string[], fresh: () => T) {
  const byKey = new Map<string, { labels: Labels; state: T }>();
  return {
    get(labels: Labels = {}): T {
      // Label values joined with a byte no value contains: one Map lookup on the hot path.
      let key = "";
      for (const label of labelNames) key += `${labels[label] ?? ""}\u0000`;
      const found = byKey.get(key);
      if (found) return found.state;
      const names = Object.keys(labels);
      if (names.length !== labelNames.length || !labelNames.every((l) => typeof labels[l] === "string"))
        throw new Error(`metrics: ${name} takes labels ${labelNames.join(", ") || "(none)"}, got ${names}`);
      const entry = { labels: { ...labels }, state: fresh() };
      byKey.set(key, entry);
      return entry.state;
    },
    all: () => [...byKey.values()],
  };
}

export function createRegistry(): Registry {
  const families = new Map<string, Family>();
  const metrics = new Map<string, { type: MetricType; metric: unknown }>();

  function check(name: string, labelNames: readonly string[]) {
    if (!METRIC_NAME.test(name)) throw new Error(`metrics: invalid metric name '${name}'`);
    for (const label of labelNames) {
      if (!LABEL_NAME.test(label) || label.startsWith("__") || label === "le")
        throw new Error(`metrics: invalid label name '${label}' on ${name}`);
    }
  }

  /** The same name asked for again returns the same metric (a second proxy in one process shares it). */
  function define<T>(name: string, type: MetricType, make: () => { metric: T; family: Family }): T {
    const existing = metrics.get(name);
    if (existing) {
      if (existing.type !== type) throw new Error(`metrics: ${name} is already a ${existing.type}`);
      return existing.metric as T;
    }
    if (families.has(name)) throw new Error(`metrics: ${name} is already a collector`);
    const { metric, family } = make();
    metrics.set(name, { type, metric });
    families.set(name, family);
    return metric;
  }

  function valueMetric(name: string, help: string, type: "counter" | "gauge", labelNames: readonly string[]) {
    check(name, labelNames);
    return define(name, type, () => {
      const values = series(name, labelNames, () => ({ value: 0 }));
      const add = (state: { value: number }, by: number) => {
        if (type === "counter" && !(by >= 0)) throw new Error(`metrics: ${name} can only go up`);
        state.value += by;
      };
      const metric: Counter & Gauge = {
        inc: (labels, by = 1) => add(values.get(labels), by),
        labels(labels) {
          const state = values.get(labels);
          return { inc: (by = 1) => add(state, by) };
        },
        set(value, labels) {
          values.get(labels).value = value;
        },
      };
      const family: Family = {
        name,
        help,
        type,
        lines: () => values.all().map(({ labels, state }) => ({ labels, value: state.value })),
      };
      return { metric, family };
    });
  }

  return {
    counter: (name, help, labelNames = []) => valueMetric(name, help, "counter", labelNames),
    gauge: (name, help, labelNames = []) => valueMetric(name, help, "gauge", labelNames),
    histogram(name, help, labelNames, buckets) {
      check(name, labelNames);
      const bounds = [...buckets].sort((a, b) => a - b);
      if (bounds.length === 0 || bounds.some((b) => !Number.isFinite(b)))
        throw new Error(`metrics: ${name} needs finite buckets`);
      return define(name, "histogram", () => {
        // Per-bucket counts (not cumulative: one increment per observation); the last slot is +Inf.
        const values = series(name, labelNames, () => ({
          counts: new Array<number>(bounds.length + 1).fill(0),
          sum: 0,
        }));
        const record = (state: { counts: number[]; sum: number }, value: number) => {
          let i = 0;
          while (i < bounds.length && value > (bounds[i] as number)) i++;
          state.counts[i] = (state.counts[i] ?? 0) + 1;
          state.sum += value;
        };
        const metric: Histogram = {
          observe: (value, labels) => record(values.get(labels), value),
          labels(labels) {
            const state = values.get(labels);
            return { observe: (value) => record(state, value) };
          },
        };
        const family: Family = {
          name,
          help,
          type: "histogram",
          lines: () =>
            values.all().flatMap(({ labels, state }) => {
              let cumulative = 0;
              const out = state.counts.map((count, i) => {
                cumulative += count;
                const le = i < bounds.length ? formatValue(bounds[i] as number) : "+Inf";
                return `${name}_bucket${formatLabels(labels, ["le", le])} ${cumulative}`;
              });
              out.push(`${name}_sum${formatLabels(labels)} ${formatValue(state.sum)}`);
              out.push(`${name}_count${formatLabels(labels)} ${cumulative}`);
              return out;
            }),
        };
        return { metric, family };
      });
    },
    collect(name, help, type, read) {
      check(name, []);
      if (metrics.has(name)) throw new Error(`metrics: ${name} is already a ${metrics.get(name)?.type}`);
      const family: Family = { name, help, type, lines: read };
      families.set(name, family);
      return () => {
        if (families.get(name) === family) families.delete(name);
      };
    },
    async expose() {
      const blocks = await Promise.all(
        [...families.values()].map(async (family) => {
          const head = `# HELP ${family.name} ${escapeHelp(family.help)}\n# TYPE ${family.name} ${family.type}\n`;
          try {
            const lines = await withTimeout(Promise.resolve(family.lines()), COLLECT_TIMEOUT_MS);
            const text = lines.map((line) =>
              typeof line === "string"
                ? line
                : `${family.name}${formatLabels(line.labels)} ${formatValue(line.value)}`,
            );
            return head + text.map((l) => `${l}\n`).join("");
          } catch (error) {
            // One broken source must not cost the whole scrape; the comment says which and why.
            const why = error instanceof Error ? error.message : String(error);
            return `# ${family.name} unavailable: ${escapeHelp(why)}\n`;
          }
        }),
      );
      return blocks.join("");
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

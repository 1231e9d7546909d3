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

/**
 * A process's counters and histograms as numbers, for another process's registry to add into its own scrape:
 * the proxy's extra processes (src/roles-proxy-processes.ts) are scraped through the first one.
 */
export interface Snapshot {
  counters: { name: string; labels: Labels; value: number }[];
  /** Per-bucket counts (not cumulative), the last one +Inf, as the histogram keeps them. */
  histograms: { name: string; labels: Labels; counts: number[]; sum: number }[];
}

/** What the other processes reported for the scrape under way (all zero outside one, or with none). */
export interface Remote {
  /** The sum of a counter series over the other processes. */
  counter(name: string, labels?: Labels): number;
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
    read: (remote: Remote) => Sample[] | Promise<Sample[]>,
  ): () => void;
  /** Every family in the text exposition format; a collector that fails or hangs is left out, with a comment. */
  expose(): Promise<string>;
  /** This registry's counters (collectors' too) and histograms, without what `federate` adds. */
  snapshot(): Promise<Snapshot>;
  /**
   * Adds other processes' snapshots into every scrape: counters and histograms of the same name and labels are
   * summed (gauges stay this process's own). The returned function removes the source.
   */
  federate(read: () => Promise<Snapshot[]>): () => void;
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
  lines(remote: Scrape): readonly (Sample | string)[] | Promise<readonly (Sample | string)[]>;
}

/** Other processes' series, indexed for one scrape. */
interface Scrape extends Remote {
  /** A counter family's samples with the other processes' added (theirs alone appended). */
  addCounters(name: string, local: readonly Sample[]): Sample[];
  histograms(name: string): Snapshot["histograms"];
}

const labelKey = (labels: Labels | undefined) =>
  JSON.stringify(Object.entries(labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

function scrapeOf(snapshots: readonly Snapshot[]): Scrape {
  const counters = new Map<string, Map<string, Sample>>();
  const histograms = new Map<string, Snapshot["histograms"]>();
  for (const snapshot of snapshots) {
    for (const c of snapshot.counters) {
      let byLabels = counters.get(c.name);
      if (!byLabels) {
        byLabels = new Map();
        counters.set(c.name, byLabels);
      }
      const key = labelKey(c.labels);
      const found = byLabels.get(key);
      if (found) found.value += c.value;
      else byLabels.set(key, { labels: c.labels, value: c.value });
    }
    for (const h of snapshot.histograms) histograms.set(h.name, [...(histograms.get(h.name) ?? []), h]);
  }
  return {
    counter: (name, labels) => counters.get(name)?.get(labelKey(labels))?.value ?? 0,
    addCounters(name, local) {
      const theirs = counters.get(name);
      if (!theirs) return [...local];
      const left = new Map(theirs);
      const out = local.map((sample) => {
        const key = labelKey(sample.labels);
        const other = left.get(key);
        left.delete(key);
        return other ? { labels: sample.labels ?? {}, value: sample.value + other.value } : sample;
      });
      return [...out, ...left.values()];
    },
    histograms: (name) => histograms.get(name) ?? [],
  };
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

const NO_REMOTE: Scrape = scrapeOf([]);

export function createRegistry(): Registry {
  const families = new Map<string, Family>();
  const metrics = new Map<string, { type: MetricType; metric: unknown }>();
  /** Each counter's and histogram's series as numbers, for snapshot(). */
  const snapshots = new Map<string, () => Snapshot>();
  const remotes = new Set<() => Promise<Snapshot[]>>();
  /** Counter collectors' snapshots (read at snapshot time). */
  const collected = new Map<string, () => Promise<Snapshot>>();

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
      const local = () => values.all().map(({ labels, state }) => ({ labels, value: state.value }));
      if (type === "counter")
        snapshots.set(name, () => ({
          counters: local().map((sample) => ({ name, ...sample })),
          histograms: [],
        }));
      const family: Family = {
        name,
        help,
        type,
        lines: (remote) => (type === "counter" ? remote.addCounters(name, local()) : local()),
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
        snapshots.set(name, () => ({
          counters: [],
          histograms: values
            .all()
            .map(({ labels, state }) => ({ name, labels, counts: [...state.counts], sum: state.sum })),
        }));
        /** This process's series with the other processes' of the same labels added (theirs alone appended). */
        const merged = (remote: Scrape) => {
          const out = new Map<string, { labels: Labels; state: { counts: number[]; sum: number } }>();
          for (const { labels, state } of values.all())
            out.set(labelKey(labels), { labels, state: { counts: [...state.counts], sum: state.sum } });
          for (const h of remote.histograms(name)) {
            if (h.counts.length !== bounds.length + 1) continue;
            const key = labelKey(h.labels);
            const found = out.get(key);
            if (!found) out.set(key, { labels: h.labels, state: { counts: [...h.counts], sum: h.sum } });
            else {
              found.state.sum += h.sum;
              h.counts.forEach((count, i) => {
                found.state.counts[i] = (found.state.counts[i] ?? 0) + count;
              });
            }
          }
          return [...out.values()];
        };
        const family: Family = {
          name,
          help,
          type: "histogram",
          lines: (remote) =>
            merged(remote).flatMap(({ labels, state }) => {
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
      const family: Family = {
        name,
        help,
        type,
        lines: async (remote) => {
          const samples = await read(remote);
          return type === "counter" ? remote.addCounters(name, samples) : samples;
        },
      };
      families.set(name, family);
      const snapshot = async (): Promise<Snapshot> => ({
        counters: (await read(NO_REMOTE)).map((sample) => ({
          name,
          labels: sample.labels ?? {},
          value: sample.value,
        })),
        histograms: [],
      });
      if (type === "counter") collected.set(name, snapshot);
      return () => {
        if (families.get(name) === family) {
          families.delete(name);
          collected.delete(name);
        }
      };
    },
    async snapshot() {
      const parts = [...snapshots.values()].map((take) => take());
      for (const take of collected.values())
        parts.push(
          await withTimeout(take(), COLLECT_TIMEOUT_MS).catch(() => ({ counters: [], histograms: [] })),
        );
      return {
        counters: parts.flatMap((p) => p.counters),
        histograms: parts.flatMap((p) => p.histograms),
      };
    },
    federate(read) {
      remotes.add(read);
      return () => {
        remotes.delete(read);
      };
    },
    async expose() {
      // Other processes that do not answer in time are left out of this scrape (their series dip, then return).
      const reports = await Promise.all(
        [...remotes].map((read) => withTimeout(read(), COLLECT_TIMEOUT_MS).catch(() => [] as Snapshot[])),
      );
      const remote = scrapeOf(reports.flat());
      const blocks = await Promise.all(
        [...families.values()].map(async (family) => {
          const head = `# HELP ${family.name} ${escapeHelp(family.help)}\n# TYPE ${family.name} ${family.type}\n`;
          try {
            const lines = await withTimeout(Promise.resolve(family.lines(remote)), COLLECT_TIMEOUT_MS);
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

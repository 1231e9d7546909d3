// Observe: the platform's metric series (requests, builds, functions, queue, bus lag, caches, process), one registry per
// process made in openDeps. Scrape-time series read the store, the bus and the caches only when scraped.

import { VERSION } from "../config/version.ts";
import type { DeploymentStatus } from "../model/status.ts";
import {
  type Counter,
  createRegistry,
  type Gauge,
  type Histogram,
  type Registry,
  type Sample,
} from "./registry.ts";

/** The parts of the process that answer HTTP, as the `role` label of the request series. */
export type HttpRole = "api" | "dashboard" | "git" | "proxy" | "metrics";

export interface Metrics {
  registry: Registry;
  /** minivercel_http_requests_total{role,method,code} */
  requests: Counter;
  /** minivercel_http_request_duration_seconds{role}: until the response's headers are ready. */
  requestSeconds: Histogram;
  /** minivercel_builds_total{outcome}: terminal statuses applied by this worker, each deployment once. */
  builds: Counter;
  /** minivercel_build_duration_seconds{outcome}: from the claim (IN_PROGRESS) to the terminal status. */
  buildSeconds: Histogram;
  // Functions (src/runtime/function-metrics.ts bounds the `function` label).
  /** minivercel_function_invocations_total{function,status_class} */
  functionInvocations: Counter;
  /** minivercel_function_cold_starts_total{function}: requests that had to start an instance. */
  functionColdStarts: Counter;
  /** minivercel_function_duration_seconds{function}: from the request to the last byte of the answer. */
  functionSeconds: Histogram;
  /** minivercel_function_errors_total{function,kind}: kind is crash, timeout or start. */
  functionErrors: Counter;
  /** minivercel_function_instances: instances of this process, starting or running. */
  functionInstances: Gauge;
  /** minivercel_cron_runs_total{result}: cron job runs this process made; ok is a 2xx or 3xx answer. */
  cronRuns: Counter;
}

/** A request is mostly milliseconds on the proxy and up to seconds on the API (uploads, deploys). */
const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const UUID_SUFFIX = /-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Builds: seconds for a static copy to the 15-minute default limit and past it. */
const BUILD_BUCKETS = [1, 5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600];
/** Functions: milliseconds for a warm handler to the longest maxDuration (300 s, Vercel's default max). */
const FUNCTION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export function createMetrics(): Metrics {
  const registry = createRegistry();
  const startedAt = Date.now() / 1000 - process.uptime();
  registry.collect("minivercel_info", "Version of this process (always 1).", "gauge", () => [
    { labels: { version: VERSION }, value: 1 },
  ]);
  registry.collect(
    "minivercel_process_resident_memory_bytes",
    "Resident memory of this process.",
    "gauge",
    () => [{ value: process.memoryUsage.rss() }],
  );
  registry.collect(
    "minivercel_process_start_time_seconds",
    "Start of this process, Unix time.",
    "gauge",
    () => [{ value: Math.round(startedAt) }],
  );
  registry.collect(
    "minivercel_process_uptime_seconds",
    "Seconds since this process started.",
    "gauge",
    () => [{ value: Math.round(process.uptime()) }],
  );
  const metrics: Metrics = {
    registry,
    requests: registry.counter(
      "minivercel_http_requests_total",
      "HTTP requests answered, by role (api, dashboard, git, proxy, metrics), method and status code.",
      ["role", "method", "code"],
    ),
    requestSeconds: registry.histogram(
      "minivercel_http_request_duration_seconds",
      "Time from a request's arrival to its response's headers, by role.",
      ["role"],
      REQUEST_BUCKETS,
    ),
    builds: registry.counter(
      "minivercel_builds_total",
      "Builds that ended, by outcome (READY, FAIL, CANCELED), counted by the worker that applied the status.",
      ["outcome"],
    ),
    buildSeconds: registry.histogram(
      "minivercel_build_duration_seconds",
      "Build time from its start to its end, by outcome.",
      ["outcome"],
      BUILD_BUCKETS,
    ),
    functionInvocations: registry.counter(
      "minivercel_function_invocations_total",
      "Function requests answered by this process's runtime, by function path and status class (2xx..5xx).",
      ["function", "status_class"],
    ),
    functionColdStarts: registry.counter(
      "minivercel_function_cold_starts_total",
      "Function instances started for a request (cold starts), by function path.",
      ["function"],
    ),
    functionSeconds: registry.histogram(
      "minivercel_function_duration_seconds",
      "Function request time, from its arrival at the runtime to the last byte of the answer, by function path.",
      ["function"],
      FUNCTION_BUCKETS,
    ),
    functionErrors: registry.counter(
      "minivercel_function_errors_total",
      "Function requests the platform answered itself, by function path and kind: crash (502), timeout (504), start (502).",
      ["function", "kind"],
    ),
    functionInstances: registry.gauge(
      "minivercel_function_instances",
      "Function instances of this process, starting or running.",
    ),
    cronRuns: registry.counter(
      "minivercel_cron_runs_total",
      "Cron job runs this process made, by result: ok (a 2xx or 3xx answer) or failed (another status, or none).",
      ["result"],
    ),
  };
  // A process that runs no function says so (0), rather than having no series at all.
  metrics.functionInstances.set(0);
  return metrics;
}

/** Records a deployment that just reached a terminal status (the caller applied that transition itself). */
export function recordBuild(
  metrics: Metrics,
  deployment: { status: DeploymentStatus; startedAt: string | null; finishedAt: string | null },
): void {
  metrics.builds.inc({ outcome: deployment.status });
  // A deployment failed or canceled before any build started has no duration to speak of.
  if (deployment.startedAt === null) return;
  const end = deployment.finishedAt ? Date.parse(deployment.finishedAt) : Date.now();
  const seconds = (end - Date.parse(deployment.startedAt)) / 1000;
  if (Number.isFinite(seconds) && seconds >= 0)
    metrics.buildSeconds.observe(seconds, { outcome: deployment.status });
}

/** What the scrape-time series read: the store's queue counts, the bus's lag, the S3 blob cache's counters. */
export interface MetricSources {
  countWithStatus(status: DeploymentStatus): Promise<number>;
  lag(): Promise<{ topic: string; group: string; messages: number }[]>;
  cacheStats?: (() => { hits: number; misses: number }) | undefined;
}

/**
 * The series read from shared state at scrape time: the build queue (store, so every process sees the whole
 * cluster's), this process's bus consumers, and the S3 blob cache when there is one.
 */
export function watchSources(metrics: Metrics, sources: MetricSources): void {
  const { registry } = metrics;
  const count = (status: DeploymentStatus) => async () => [{ value: await sources.countWithStatus(status) }];
  registry.collect(
    "minivercel_build_queue_depth",
    "Deployments waiting for a build (QUEUED).",
    "gauge",
    count("QUEUED"),
  );
  registry.collect(
    "minivercel_builds_in_progress",
    "Deployments building now (IN_PROGRESS), on every worker.",
    "gauge",
    count("IN_PROGRESS"),
  );
  registry.collect(
    "minivercel_bus_lag_messages",
    "Messages published and not yet handled, per topic and consumer group of this process.",
    "gauge",
    async () => {
      // Per-process groups (proxy-<uuid>, live-<uuid>) are labelled by their kind: series survive restarts.
      const byLabel = new Map<string, Sample>();
      for (const { topic, group, messages } of await sources.lag()) {
        const kind = group.replace(UUID_SUFFIX, "");
        const found = byLabel.get(`${topic} ${kind}`);
        if (found) found.value += messages;
        else byLabel.set(`${topic} ${kind}`, { labels: { topic, group: kind }, value: messages });
      }
      return [...byLabel.values()];
    },
  );
  const { cacheStats } = sources;
  if (cacheStats) {
    registry.collect(
      "minivercel_blob_cache_requests_total",
      "Blob reads from the local S3 blob cache, by result (hit, miss).",
      "counter",
      () => {
        const { hits, misses } = cacheStats();
        return [
          { labels: { result: "hit" }, value: hits },
          { labels: { result: "miss" }, value: misses },
        ];
      },
    );
  }
}

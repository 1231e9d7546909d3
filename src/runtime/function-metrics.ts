// What the runtime records about its functions (the series are declared in src/observe/metrics.ts).
//
// The `function` label is the function's path ("/api/hello"), not its deployment: every deploy makes a new
// deployment id, so ids would add series forever, while a project's paths stay the same from deploy to deploy
// (the same path in two projects shares a series; the runtime logs tell them apart). Paths are chosen by whoever
// deploys, so a process labels at most MAX_FUNCTIONS of them; later ones share "(other)".

import type { Metrics } from "../observe/metrics.ts";

export const MAX_FUNCTIONS = 100;
export const OTHER = "(other)";
/** A label value longer than this is cut (paths may be 4 KB). */
const MAX_LABEL_CHARS = 200;

export type FunctionError = "crash" | "timeout" | "start";

export interface FunctionMetrics {
  /** A request answered (by the function, or by the platform with `status` 502/504). */
  invoked(path: string, status: number, seconds: number): void;
  coldStart(path: string): void;
  failed(path: string, kind: FunctionError): void;
  /** An instance began starting (+1) or is gone (-1). */
  instances(delta: 1 | -1): void;
}

export function functionMetrics(metrics: Metrics): FunctionMetrics {
  const labelled = new Set<string>();
  const label = (path: string): string => {
    const value = path.length > MAX_LABEL_CHARS ? `${path.slice(0, MAX_LABEL_CHARS)}…` : path;
    if (labelled.has(value)) return value;
    if (labelled.size >= MAX_FUNCTIONS) return OTHER;
    labelled.add(value);
    return value;
  };
  return {
    invoked(path, status, seconds) {
      const fn = label(path);
      const statusClass = status >= 100 && status <= 599 ? `${Math.floor(status / 100)}xx` : "5xx";
      metrics.functionInvocations.inc({ function: fn, status_class: statusClass });
      metrics.functionSeconds.observe(seconds, { function: fn });
    },
    coldStart(path) {
      metrics.functionColdStarts.inc({ function: label(path) });
    },
    failed(path, kind) {
      metrics.functionErrors.inc({ function: label(path), kind });
    },
    instances(delta) {
      metrics.functionInstances.inc(undefined, delta);
    },
  };
}

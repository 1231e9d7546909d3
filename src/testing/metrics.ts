// Test support for observe: a strict reader of the Prometheus text format, and a logger that keeps its lines.

import { createLogger, type Logger, type LogLevel } from "../observe/log.ts";

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  /** name -> HELP and TYPE, as declared. */
  families: Map<string, { help: string; type: string }>;
  samples: ParsedSample[];
  /** `name{labels}` of each sample, to find duplicates. */
  keys: string[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/;

function unescapeLabel(value: string): string {
  return value.replace(/\\(n|\\|")/g, (_, c: string) => (c === "n" ? "\n" : c));
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const pair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;
  let at = 0;
  while (at < text.length) {
    pair.lastIndex = at;
    const m = pair.exec(text);
    if (!m) throw new Error(`bad labels in: ${line}`);
    labels[m[1] as string] = unescapeLabel(m[2] as string);
    at = pair.lastIndex;
  }
  return labels;
}

function parseValue(raw: string, line: string): number {
  if (raw === "+Inf") return Number.POSITIVE_INFINITY;
  if (raw === "-Inf") return Number.NEGATIVE_INFINITY;
  if (raw === "NaN") return Number.NaN;
  const value = Number(raw);
  if (raw === "" || Number.isNaN(value)) throw new Error(`bad value in: ${line}`);
  return value;
}

/** Parses exposition text; throws on any line a Prometheus server would refuse (as far as these tests go). */
export function parseExposition(text: string): Exposition {
  if (text !== "" && !text.endsWith("\n")) throw new Error("the exposition must end with a newline");
  const families = new Map<string, { help: string; type: string }>();
  const samples: ParsedSample[] = [];
  const keys: string[] = [];
  for (const line of text.split("\n").filter((l) => l !== "")) {
    const help = /^# HELP (\S+) (.*)$/.exec(line);
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (help) families.set(help[1] as string, { help: help[2] as string, type: "" });
    else if (type) {
      const family = families.get(type[1] as string);
      if (!family) throw new Error(`TYPE before HELP: ${line}`);
      family.type = type[2] as string;
    } else if (line.startsWith("#")) continue;
    else {
      const m = SAMPLE.exec(line);
      if (!m) throw new Error(`bad sample line: ${line}`);
      samples.push({
        name: m[1] as string,
        labels: parseLabels(m[3] ?? "", line),
        value: parseValue(m[4] as string, line),
      });
      keys.push(`${m[1]}{${m[3] ?? ""}}`);
    }
  }
  return { families, samples, keys };
}

/** The value of the one sample with this name and (at least) these labels; undefined when there is none. */
export function sampleValue(
  exposition: Exposition,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const found = exposition.samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

/** A JSON logger whose lines are kept, parsed, for assertions. */
export function captureLog(level: LogLevel = "debug"): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({
    format: "json",
    level,
    write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  return { log, lines };
}

// Observe: the server's logger. JSON lines {time, level, msg, ...fields} for log collectors (LOG_FORMAT=json,
// the default) or short text lines for a person at a terminal; one per process, passed down through deps.

import type { LogFormat, LogLevel } from "../config/observe.ts";

export type { LogLevel };
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (e.g. the role, a deployment id). */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  format: LogFormat;
  /** Lines below this level are dropped. */
  level: LogLevel;
  /** Where a finished line goes (without its newline); default: stdout, warn and error on stderr. */
  write?: (line: string, level: LogLevel) => void;
  /** The clock, for tests. */
  now?: () => Date;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

let streamsGuarded = false;

/**
 * A closed stdout or stderr (EPIPE: whatever read them went away) is reported as an 'error' event on the stream,
 * which would take the process down: from here on it only loses what is written.
 */
export function guardStdio(): void {
  if (streamsGuarded) return;
  streamsGuarded = true;
  for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {});
}

/** Written straight to the streams, not via console: a console routed to this logger must not loop. */
function defaultWrite(line: string, level: LogLevel): void {
  guardStdio();
  try {
    (RANK[level] >= RANK.warn ? process.stderr : process.stdout).write(`${line}\n`);
  } catch {
    // The reader is gone; there is nowhere left to report that.
  }
}

/** Errors become their message and stack (JSON.stringify would give `{}`); everything else as is. */
function plain(value: unknown, depth = 0): unknown {
  if (value instanceof Error) {
    const out: LogFields = { name: value.name, message: value.message };
    if (value.stack) out.stack = value.stack;
    if (value.cause !== undefined && depth < 3) out.cause = plain(value.cause, depth + 1);
    return out;
  }
  if (typeof value === "bigint") return value.toString();
  return value;
}

function jsonLine(time: Date, level: LogLevel, msg: string, fields: LogFields): string {
  const record: LogFields = { time: time.toISOString(), level, msg };
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined && !(key in record)) record[key] = plain(value);
  }
  try {
    return JSON.stringify(record);
  } catch {
    // A cycle or a throwing toJSON: the line still goes out, without the fields that broke it.
    return JSON.stringify({ time: record.time, level, msg, fields: "(not serializable)" });
  }
}

function textValue(value: unknown): string {
  if (value instanceof Error) return value.stack ?? `${value.name}: ${value.message}`;
  if (typeof value === "string") return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  try {
    return JSON.stringify(plain(value)) ?? String(value);
  } catch {
    return String(value);
  }
}

function textLine(level: LogLevel, msg: string, fields: LogFields): string {
  const parts = [level === "info" ? msg : `${level.toUpperCase()} ${msg}`];
  let trailer = "";
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    // A stack reads best on its own lines, after the rest.
    if (value instanceof Error) trailer += `\n${textValue(value)}`;
    else parts.push(`${key}=${textValue(value)}`);
  }
  return parts.join(" ") + trailer;
}

export function createLogger(options: LoggerOptions, base: LogFields = {}): Logger {
  const write = options.write ?? defaultWrite;
  const now = options.now ?? (() => new Date());
  const min = RANK[options.level];
  const emit =
    (level: LogLevel) =>
    (msg: string, fields: LogFields = {}) => {
      if (RANK[level] < min) return;
      const all = { ...base, ...fields };
      write(options.format === "json" ? jsonLine(now(), level, msg, all) : textLine(level, msg, all), level);
    };
  return {
    debug: emit("debug"),
    info: emit("info"),
    warn: emit("warn"),
    error: emit("error"),
    child: (fields) => createLogger(options, { ...base, ...fields }),
  };
}

/**
 * Sends what deep modules and libraries still print with console.* through `log`, so that every line a
 * `serve` process writes is in one format. Called by `serve` only (CLI commands keep their plain output);
 * returns the function that puts the console back.
 */
export function routeConsole(log: Logger): () => void {
  const saved = { log: console.log, info: console.info, warn: console.warn, error: console.error };
  const forward =
    (level: LogLevel) =>
    (...args: unknown[]) => {
      const errors = args.filter((a) => a instanceof Error);
      const words = args
        .filter((a) => !(a instanceof Error))
        .map((a) => (typeof a === "string" ? a : textValue(a)));
      log[level](
        words.join(" ").replace(/:\s*$/, "") || "console",
        errors.length > 0 ? { error: errors[0] } : {},
      );
    };
  console.log = forward("info");
  console.info = forward("info");
  console.warn = forward("warn");
  console.error = forward("error");
  return () => Object.assign(console, saved);
}

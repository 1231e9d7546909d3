// Runtime output -> the runtime log store and live watchers. Each line a function instance prints is split from
// its request id (the launcher's `[<id>] ` prefix), cut to a bounded length, held to its deployment's budget, and
// buffered; every 200 ms (or 500 lines) the buffer is stored in one write and then published on the bus, one
// deployment at a time. A function may print a lot: nothing here writes or publishes per line.

import { MAX_RUNTIME_LINE_CHARS } from "../../schema/runtime-logs.ts";
import type { Bus } from "../bus/bus.ts";
import { publishRuntimeLines } from "../bus/runtime-live.ts";
import type { Logger } from "../observe/log.ts";
import type { RuntimeLogLine, RuntimeLogs } from "../store/runtime-logs.ts";

/** Which function of which deployment printed a line. */
export interface LogSource {
  deploymentId: string;
  function: string;
}

export interface LogSink {
  /** One line of an instance's output, as printed (with the launcher's prefix inside a request). */
  write(source: LogSource, stream: "stdout" | "stderr", raw: string): void;
  /** Stores and publishes what is buffered now; resolves when that is done (or has failed and been logged). */
  flush(): Promise<void>;
  /** Flushes what is left; later lines are dropped. */
  stop(): Promise<void>;
}

export interface LogSinkOptions {
  /** A deployment's budget in this process: bytes of text per minute, and at most that much in a burst. */
  bytesPerMinute: number;
  flushMs?: number;
  /** Lines buffered that start a flush at once. */
  flushLines?: number;
  /** The clock (tests move it instead of waiting). */
  now?: () => number;
}

/** The launcher's prefix: the proxy's request id (schema/runtime-logs.ts REQUEST_ID_PATTERN) in brackets. */
const PREFIX = /^\[([A-Za-z0-9._:@+=-]{1,128})\](?: |$)/;
/** Lines waiting while the store is slow, past which new ones are dropped (and counted as such). */
const MAX_PENDING_FLUSHES = 20;
/** A deployment over its budget gets a note about the dropped lines at most this often. */
const NOTE_EVERY_MS = 5_000;
/** A store or bus that keeps failing is reported at most this often. */
const WARN_EVERY_MS = 30_000;

interface Budget {
  tokens: number;
  refilledAt: number;
  droppedLines: number;
  droppedBytes: number;
  notedAt: number;
}

/** Splits the request id off a line; text past MAX_RUNTIME_LINE_CHARS is cut, and the line says so. */
export function parseLine(raw: string): { requestId: string | null; text: string } {
  const match = PREFIX.exec(raw);
  const requestId = match?.[1] ?? null;
  let text = match ? raw.slice(match[0].length) : raw;
  if (text.length > MAX_RUNTIME_LINE_CHARS) {
    // Never between the two halves of a surrogate pair.
    const end = /[\ud800-\udbff]/.test(text.charAt(MAX_RUNTIME_LINE_CHARS - 1))
      ? MAX_RUNTIME_LINE_CHARS - 1
      : MAX_RUNTIME_LINE_CHARS;
    text = `${text.slice(0, end)} … [cut: the line had ${text.length} characters]`;
  }
  return { requestId, text };
}

export function createLogSink(
  deps: { runtimeLogs: RuntimeLogs; bus: Bus; log: Logger },
  options: LogSinkOptions,
): LogSink {
  const now = options.now ?? Date.now;
  const flushMs = options.flushMs ?? 200;
  const flushLines = options.flushLines ?? 500;
  const capacity = options.bytesPerMinute;
  const perMs = capacity / 60_000;
  // Ids sort in the order this process printed its lines (same millisecond included); the tag keeps processes apart.
  const tag = crypto.randomUUID().slice(0, 8);
  let counter = 0;
  const nextId = () => `${tag}-${(++counter).toString(36).padStart(10, "0")}`;
  const budgets = new Map<string, Budget>();
  let buffer: RuntimeLogLine[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  let noteTimer: ReturnType<typeof setTimeout> | null = null;
  let flushing: Promise<void> = Promise.resolve();
  let pending = 0;
  let stopped = false;
  let warnedAt = 0;

  const warn = (msg: string, fields: Record<string, unknown>) => {
    if (now() - warnedAt < WARN_EVERY_MS) return;
    warnedAt = now();
    deps.log.warn(msg, fields);
  };

  /** A deployment's token bucket, refilled for the time since it was last looked at. */
  function budgetOf(deploymentId: string): Budget {
    const t = now();
    let budget = budgets.get(deploymentId);
    if (!budget) {
      budget = { tokens: capacity, refilledAt: t, droppedLines: 0, droppedBytes: 0, notedAt: 0 };
      budgets.set(deploymentId, budget);
    }
    budget.tokens = Math.min(capacity, budget.tokens + (t - budget.refilledAt) * perMs);
    budget.refilledAt = t;
    return budget;
  }

  /** Counts a line that is not kept; the next note says how many were dropped. */
  function drop(budget: Budget, bytes: number): void {
    budget.droppedLines += 1;
    budget.droppedBytes += bytes;
    // The note comes with a flush: make sure one happens even if the function now falls silent.
    noteLater(NOTE_EVERY_MS);
  }

  function noteLater(ms: number): void {
    if (noteTimer || stopped) return;
    noteTimer = setTimeout(() => {
      noteTimer = null;
      void flush();
    }, ms);
    noteTimer.unref();
  }

  /** The truncation markers: one note per deployment that dropped lines, at most every NOTE_EVERY_MS. */
  function notes(): RuntimeLogLine[] {
    const out: RuntimeLogLine[] = [];
    const t = now();
    for (const [deploymentId, b] of budgets) {
      if (b.droppedLines > 0 && t - b.notedAt >= NOTE_EVERY_MS) {
        const kb = Math.ceil(b.droppedBytes / 1024);
        const limit = Math.round(capacity / 1024);
        out.push({
          deploymentId,
          id: nextId(),
          function: "",
          requestId: null,
          stream: "system",
          text: `[minivercel] ${b.droppedLines} line(s) (${kb} KB) of output were dropped: over this deployment's runtime log limit of ${limit} KB per minute (FUNCTION_LOG_KB_PER_MINUTE)`,
          at: new Date(t).toISOString(),
        });
        b.droppedLines = 0;
        b.droppedBytes = 0;
        b.notedAt = t;
      } else if (b.droppedLines > 0) {
        // Noted a moment ago: the rest waits for the next note.
        noteLater(NOTE_EVERY_MS - (t - b.notedAt));
      } else if (b.droppedLines === 0 && b.tokens + (t - b.refilledAt) * perMs >= capacity) {
        // Full again and nothing to say: forget it, so quiet deployments cost no memory.
        budgets.delete(deploymentId);
      }
    }
    return out;
  }

  async function store(lines: RuntimeLogLine[]): Promise<void> {
    try {
      await deps.runtimeLogs.append(lines);
    } catch (error) {
      warn("runtime logs: could not store lines; they are lost", { lines: lines.length, error });
    }
    const byDeployment = new Map<string, RuntimeLogLine[]>();
    for (const line of lines) {
      const list = byDeployment.get(line.deploymentId) ?? [];
      list.push(line);
      byDeployment.set(line.deploymentId, list);
    }
    // After the store: a watcher who sees a line live finds it there on a reload.
    for (const [deploymentId, list] of byDeployment) {
      try {
        await publishRuntimeLines(deps.bus, deploymentId, list);
      } catch (error) {
        warn("runtime logs: could not publish lines to live watchers", { deploymentId, error });
      }
    }
  }

  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = null;
    const lines = [...buffer, ...notes()];
    buffer = [];
    if (lines.length === 0) return flushing;
    pending += 1;
    // One flush at a time, in order: lines of a deployment reach watchers as they were printed.
    flushing = flushing
      .then(() => store(lines))
      .finally(() => {
        pending -= 1;
      });
    return flushing;
  }

  return {
    write(source, stream, raw) {
      if (stopped) return;
      const { requestId, text } = parseLine(raw);
      const bytes = Math.max(1, Buffer.byteLength(text));
      const budget = budgetOf(source.deploymentId);
      // A store that cannot keep up drops lines too, rather than holding them all in memory.
      if (budget.tokens < bytes || pending >= MAX_PENDING_FLUSHES) {
        drop(budget, bytes);
        return;
      }
      budget.tokens -= bytes;
      buffer.push({
        deploymentId: source.deploymentId,
        id: nextId(),
        function: source.function,
        requestId,
        stream,
        text,
        at: new Date(now()).toISOString(),
      });
      if (buffer.length >= flushLines) void flush();
      else timer ??= setTimeout(flush, flushMs);
    },
    flush,
    async stop() {
      stopped = true;
      if (noteTimer) clearTimeout(noteTimer);
      noteTimer = null;
      await flush();
    },
  };
}

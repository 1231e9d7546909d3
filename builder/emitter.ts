// Builder output: turns process output into numbered, capped, secret-masked log events.

import {
  type BuildEvent,
  DEFAULT_LOG_BYTES,
  MAX_COMMIT_TEXT,
  MAX_LINE_CHARS,
  type StatusEvent,
} from "../schema/events.ts";
import { formatBytes } from "../src/utils/bytes.ts";

type Stream = "stdout" | "stderr" | "system";

/** How often a running builder sends a heartbeat event (builder/main.ts); the reaper's waits count on it. */
export const HEARTBEAT_MS = 5_000;

export interface Emitter {
  /** Whole lines of text (split on newlines). */
  log(stream: Stream, text: string): void;
  /** A chunk of process output; partial lines wait for their end (call flush() when the process exits). */
  chunk(stream: "stdout" | "stderr", text: string): void;
  flush(): void;
  status(status: StatusEvent["status"], extra?: StatusExtra): void;
  heartbeat(): void;
  /** The last sequence number used, so a runner can continue the numbering. */
  readonly lastSeq: number;
}

/** What a status event may carry besides the status: why, and which commit was built. */
export interface StatusExtra {
  reason?: string;
  commitSha?: string;
  commitMessage?: string;
  commitAuthor?: string;
}

const MASK = "********";

/** Masks every secret value (env values of 4+ characters) wherever it appears. */
export function masker(secrets: string[]): (text: string) => string {
  const values = [...new Set(secrets.filter((s) => s.length >= 4))].sort((a, b) => b.length - a.length);
  if (values.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const value of values) out = out.split(value).join(MASK);
    return out;
  };
}

export function createEmitter(
  deploymentId: string,
  write: (event: BuildEvent) => void,
  secrets: string[],
  /** Bytes of log text (a newline each included) forwarded before the log is cut off. */
  maxBytes = DEFAULT_LOG_BYTES,
): Emitter {
  const mask = masker(secrets);
  let seq = 0;
  let bytes = 0;
  let cutOff = false;
  const partial: Record<"stdout" | "stderr", string> = { stdout: "", stderr: "" };
  const now = () => new Date().toISOString();

  const line = (stream: Stream, raw: string) => {
    if (cutOff) return;
    // Mask before cutting, so a secret straddling the cut cannot leak its first half.
    let text = mask(raw.replace(/\r$/, ""));
    if (text.length > MAX_LINE_CHARS) text = `${text.slice(0, MAX_LINE_CHARS)} … [line truncated]`;
    bytes += Buffer.byteLength(text) + 1;
    if (bytes > maxBytes) {
      cutOff = true;
      seq++;
      write({
        type: "log",
        deploymentId,
        seq,
        stream: "system",
        text: `[log truncated: more than ${formatBytes(maxBytes)}; the build goes on]`,
        at: now(),
      });
      return;
    }
    seq++;
    write({ type: "log", deploymentId, seq, stream, text, at: now() });
  };

  return {
    log(stream, text) {
      for (const l of text.split("\n")) line(stream, l);
    },
    chunk(stream, text) {
      const lines = (partial[stream] + text).split("\n");
      partial[stream] = lines.pop() ?? "";
      // A line without an end still has to go out eventually (progress bars); cap what waits.
      if (partial[stream].length > MAX_LINE_CHARS * 4) {
        lines.push(partial[stream]);
        partial[stream] = "";
      }
      for (const l of lines) line(stream, l);
    },
    flush() {
      for (const stream of ["stdout", "stderr"] as const) {
        if (partial[stream] !== "") line(stream, partial[stream]);
        partial[stream] = "";
      }
    },
    status(status, extra = {}) {
      const reason = extra.reason === undefined ? undefined : mask(extra.reason).slice(0, 1000);
      write({
        type: "status",
        deploymentId,
        status,
        ...(reason !== undefined && { reason }),
        ...(extra.commitSha !== undefined && { commitSha: extra.commitSha }),
        ...(extra.commitMessage !== undefined && {
          commitMessage: mask(extra.commitMessage).slice(0, MAX_COMMIT_TEXT),
        }),
        ...(extra.commitAuthor !== undefined && {
          commitAuthor: mask(extra.commitAuthor).slice(0, MAX_COMMIT_TEXT),
        }),
        at: now(),
      });
    },
    heartbeat() {
      write({ type: "heartbeat", deploymentId, at: now() });
    },
    get lastSeq() {
      return seq;
    },
  };
}

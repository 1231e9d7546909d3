// Backup and restore progress on stderr: a redrawn line on a terminal, a start and an end line otherwise (logs).

import type { Output } from "../cli/progress.ts";
import { formatBytes } from "../utils/bytes.ts";

export type { Output };

export interface Meter {
  file(): void;
  bytes(n: number): void;
  /** Starts the counts again (a backup that restarts from a fresh snapshot). */
  reset(): void;
  /** A line of its own, e.g. a restart or a warning. */
  note(message: string): void;
  /** Clears a drawn line, so an error message that follows starts on a clean one. */
  abort(): void;
  /** Prints the final line; returns the totals. */
  done(): { files: number; bytes: number };
}

const REDRAW_MS = 100;
/** Without a terminal (logs, cron mail): a line now and then for a long run, none for a short one. */
const LOG_EVERY_MS = 10_000;

/** Totals are unknown up front (the file list is read as it goes), so the line counts what is done. */
export function meter(out: Output, verb: string): Meter {
  const started = performance.now();
  let files = 0;
  let bytes = 0;
  let drawn = started;
  const draw = (force: boolean) => {
    const now = performance.now();
    if (!out.isTTY) {
      if (now - drawn < LOG_EVERY_MS) return;
      drawn = now;
      out.write(`${verb}: ${files} files, ${formatBytes(bytes)} so far\n`);
      return;
    }
    if (!force && now - drawn < REDRAW_MS) return;
    drawn = now;
    out.write(`\r\x1b[2K${verb}: ${files} files, ${formatBytes(bytes)}`);
  };
  return {
    file() {
      files += 1;
      draw(false);
    },
    bytes(n) {
      bytes += n;
      draw(false);
    },
    reset() {
      files = 0;
      bytes = 0;
    },
    note(message) {
      if (out.isTTY) out.write("\r\x1b[2K");
      out.write(`${message}\n`);
      if (out.isTTY) draw(true);
    },
    abort() {
      if (out.isTTY) out.write("\r\x1b[2K");
    },
    done() {
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      if (out.isTTY) out.write("\r\x1b[2K");
      out.write(`${verb}: ${files} files, ${formatBytes(bytes)} in ${seconds} s\n`);
      return { files, bytes };
    },
  };
}

// Upload progress on stderr: a redrawn bar on a terminal, plain start and end lines otherwise (CI logs).

import { formatBytes } from "../utils/bytes.ts";

export interface Output {
  isTTY: boolean;
  write(text: string): void;
}

export interface Progress {
  advance(bytes: number): void;
  done(): void;
}

const WIDTH = 24;
const REDRAW_MS = 50;

export function progress(out: Output, files: number, bytes: number): Progress {
  const started = performance.now();
  let doneFiles = 0;
  let doneBytes = 0;
  let drawn = 0;
  const line = () => {
    const share = bytes > 0 ? doneBytes / bytes : files > 0 ? doneFiles / files : 1;
    const filled = Math.round(share * WIDTH);
    const bar = `${"#".repeat(filled)}${"-".repeat(WIDTH - filled)}`;
    return `Uploading [${bar}] ${doneFiles}/${files} files, ${formatBytes(doneBytes)} of ${formatBytes(bytes)}`;
  };
  const draw = (force: boolean) => {
    const now = performance.now();
    if (!force && now - drawn < REDRAW_MS) return;
    drawn = now;
    out.write(`\r\x1b[2K${line()}`);
  };
  if (out.isTTY) draw(true);
  else out.write(`Uploading ${files} new file${files === 1 ? "" : "s"} (${formatBytes(bytes)})\n`);
  return {
    advance(n) {
      doneFiles += 1;
      doneBytes += n;
      if (out.isTTY) draw(false);
    },
    done() {
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      if (out.isTTY) {
        draw(true);
        out.write("\n");
      } else out.write(`Uploaded ${doneFiles} file${doneFiles === 1 ? "" : "s"} in ${seconds} s\n`);
    },
  };
}

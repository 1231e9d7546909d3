// A timestamp: UTC on the server, local and relative in the browser (app.js).
/** @jsxImportSource preact */

import { formatTime } from "../format.ts";

export function Time({ iso }: { iso: string }) {
  return (
    <time datetime={iso} title={formatTime(iso)}>
      {formatTime(iso)}
    </time>
  );
}

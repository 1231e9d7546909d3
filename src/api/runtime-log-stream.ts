// Live runtime log over Server-Sent Events: recent history, then lines as functions print them, with no gap and no
// duplicate in between. It never ends by itself (functions keep running); `restarting` when the server shuts down
// (the client resumes after Last-Event-ID, a line's cursor).

import type { Closing } from "../bus/live.ts";
import type { RuntimeLive, RuntimeLiveEvent } from "../bus/runtime-live.ts";
import type { RuntimeLogCursor, RuntimeLogLine, RuntimeLogs } from "../store/runtime-logs.ts";
import { eventStream } from "./event-stream.ts";

/** Most history lines sent when a stream opens (the newest of them); older ones are a page of the API away. */
export const STREAM_HISTORY = 500;

export interface RuntimeStreamOptions {
  /** History from this ISO time. */
  since: string;
  /** Only this function's lines. */
  function: string | null;
  /** Resume after this line (Last-Event-ID): history is what came after it. */
  after: RuntimeLogCursor | null;
  /** A line's SSE id, from which `after` is read back. */
  cursorOf: (position: RuntimeLogCursor) => string;
}

const later = (a: RuntimeLogLine, b: RuntimeLogCursor) => a.at > b.at || (a.at === b.at && a.id > b.id);

export function runtimeLogStream(
  deps: { runtimeLogs: RuntimeLogs; runtimeLive: RuntimeLive },
  deploymentId: string,
  options: RuntimeStreamOptions,
  signal: AbortSignal,
): Response {
  return eventStream(signal, async (sink) => {
    let last = options.after;
    // Lines sent from history: a live copy of one (it was stored just before it was published) is skipped.
    const sent = new Set<string>();
    const sendLine = (line: RuntimeLogLine) => {
      if (options.function !== null && line.function !== options.function) return;
      if (sent.has(line.id)) return;
      if (last === null || later(line, last)) last = { at: line.at, id: line.id };
      const { id, at, function: fn, requestId, stream, text } = line;
      const data = JSON.stringify({ id, at, function: fn, requestId, stream, text });
      sink.send(`id: ${options.cursorOf(line)}\nevent: log\ndata: ${data}\n\n`);
    };
    const onLive = (event: RuntimeLiveEvent | Closing) => {
      if (event.kind === "closing") return sink.restarting(last ? options.cursorOf(last) : null);
      for (const line of event.lines) sendLine(line);
    };

    // Subscribe before reading history, buffering meanwhile: nothing printed in between is lost.
    let buffer: (RuntimeLiveEvent | Closing)[] | null = [];
    sink.onEnd(
      deps.runtimeLive.subscribe(deploymentId, (event) => (buffer ? buffer.push(event) : onLive(event))),
    );

    const after = options.after;
    const newest = await deps.runtimeLogs.read(deploymentId, {
      since: after ? after.at : options.since,
      function: options.function,
      limit: STREAM_HISTORY,
    });
    const history = newest.filter((l) => after === null || later(l, after)).reverse();
    for (const line of history) {
      sendLine(line);
      sent.add(line.id);
    }
    sink.send(
      `event: ready\ndata: ${JSON.stringify({ history: history.length, more: newest.length === STREAM_HISTORY })}\n\n`,
    );
    const pending = buffer;
    buffer = null;
    for (const event of pending) onLive(event);
    if (!sink.closed) sink.keepAlive();
  });
}

// What the API's Server-Sent Events streams share (the build log and the runtime log): a response whose body
// the caller writes through a sink, ended once, by the caller, the client going away or the server shutting
// down, with everything the stream set up (subscriptions, timers) undone when it ends.

const KEEPALIVE_MS = 15_000;
/** When the server shuts down: how soon a client should try again (EventSource honours `retry:`). */
const RECONNECT_MS = 2_000;

export interface EventSink {
  /** Sends SSE text as it is; nothing once the stream has ended. */
  send(text: string): void;
  /** Ends the stream (the first call only) and undoes what `onEnd` registered. */
  close(): void;
  /** Whether the stream has ended. */
  readonly closed: boolean;
  /** Registers what the end of the stream must undo. */
  onEnd(cleanup: () => void): void;
  /** A comment every 15 s until the stream ends, so idle proxies and browsers keep it open. */
  keepAlive(): void;
  /** The server is shutting down: tells the client to resume after `lastEventId` in 2 s, and ends the stream. */
  restarting(lastEventId: string | number | null): void;
}

/** A `text/event-stream` response; `start` writes it, and ending it is up to `start` or the client (`signal`). */
export function eventStream(signal: AbortSignal, start: (sink: EventSink) => Promise<unknown>): Response {
  const encoder = new TextEncoder();
  let closed = false;
  const cleanups: (() => void)[] = [];
  const end = () => {
    closed = true;
    for (const cleanup of cleanups.splice(0)) cleanup();
  };
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const sink: EventSink = {
        send(text) {
          if (!closed) controller.enqueue(encoder.encode(text));
        },
        close() {
          if (closed) return;
          end();
          controller.close();
        },
        get closed() {
          return closed;
        },
        onEnd(cleanup) {
          if (closed) cleanup();
          else cleanups.push(cleanup);
        },
        keepAlive() {
          const timer = setInterval(() => sink.send(": keep-alive\n\n"), KEEPALIVE_MS);
          sink.onEnd(() => clearInterval(timer));
        },
        restarting(lastEventId) {
          const data = JSON.stringify({ reason: "the server is restarting", lastEventId });
          sink.send(`retry: ${RECONNECT_MS}\nevent: restarting\ndata: ${data}\n\n`);
          sink.close();
        },
      };
      signal.addEventListener("abort", sink.close);
      sink.onEnd(() => signal.removeEventListener("abort", sink.close));
      await start(sink);
    },
    cancel: end,
  });
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    },
  });
}

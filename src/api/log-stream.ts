// Live build log over Server-Sent Events: history, then live lines, with no gap and no duplicate; ends with the
// final status, or with `restarting` when the server shuts down first (the client resumes after Last-Event-ID).

import type { LiveEvent } from "../bus/live.ts";
import type { Deps } from "../deps.ts";
import type { Deployment } from "../model/entities.ts";
import { isTerminal } from "../model/status.ts";
import type { LogLine } from "../store/logs.ts";

const PAGE = 1000;
const KEEPALIVE_MS = 15_000;
/** Safety net for watchers in another process than the worker: re-read the stores this often. */
const POLL_MS = 2_000;
/** When the server shuts down: how soon a client should try again (EventSource honours `retry:`). */
const RECONNECT_MS = 2_000;

type StreamDeps = Pick<Deps, "store" | "logs" | "live">;

/** `after`: the last sequence number the client has (Last-Event-ID on reconnect), 0 for everything. */
export function logStream(
  deps: StreamDeps,
  deployment: Deployment,
  after: number,
  view: (d: Deployment) => unknown,
  signal: AbortSignal,
): Response {
  const { store, logs, live } = deps;
  const encoder = new TextEncoder();
  let last = after;
  let closed = false;
  const cleanups: (() => void)[] = [];

  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (text: string) => {
        if (!closed) controller.enqueue(encoder.encode(text));
      };
      const close = () => {
        if (closed) return;
        closed = true;
        for (const cleanup of cleanups) cleanup();
        controller.close();
      };
      const sendLine = (line: LogLine) => {
        if (line.seq <= last) return; // already sent (history and live overlap by design)
        last = line.seq;
        const { seq, stream, text, at } = line;
        send(`id: ${seq}\nevent: log\ndata: ${JSON.stringify({ seq, stream, text, at })}\n\n`);
      };
      const sendStatus = (d: Deployment) => send(`event: status\ndata: ${JSON.stringify(view(d))}\n\n`);
      const catchUp = async () => {
        for (;;) {
          const lines = await logs.read(deployment.id, last, PAGE);
          for (const line of lines) sendLine(line);
          if (lines.length < PAGE) return;
        }
      };
      let finishing = false;
      const finish = async (d: Deployment) => {
        if (finishing) return;
        finishing = true;
        // Lines written before the final status may still be on their way to this process: read them first.
        await catchUp();
        sendStatus(d);
        close();
      };

      // The server is shutting down: say so, and end the stream; the client resumes after its last event id.
      const restarting = () => {
        if (finishing) return;
        send(
          `retry: ${RECONNECT_MS}\nevent: restarting\ndata: ${JSON.stringify({ reason: "the server is restarting", lastEventId: last })}\n\n`,
        );
        close();
      };

      // Subscribe before reading history, buffering meanwhile: nothing printed in between is lost.
      let buffer: LiveEvent[] | null = [];
      let status = deployment.status;
      const onLive = (event: LiveEvent) => {
        if (event.kind === "closing") return restarting();
        if (event.kind === "log") return sendLine(event.line);
        status = event.deployment.status;
        if (isTerminal(status)) void finish(event.deployment);
        else sendStatus(event.deployment);
      };
      cleanups.push(live.subscribe(deployment.id, (event) => (buffer ? buffer.push(event) : onLive(event))));
      signal.addEventListener("abort", close);
      cleanups.push(() => signal.removeEventListener("abort", close));

      sendStatus(deployment);
      await catchUp();
      const current = (await store.deployments.find(deployment.id)) ?? deployment;
      if (isTerminal(current.status)) return finish(current);
      const pending = buffer;
      buffer = null;
      for (const event of pending) onLive(event);
      if (closed) return; // ended by what was buffered (the server shutting down): no timers to leave behind

      const keepalive = setInterval(() => send(": keep-alive\n\n"), KEEPALIVE_MS);
      const poll = setInterval(async () => {
        await catchUp();
        const now = await store.deployments.find(deployment.id);
        if (now && now.status !== status) onLive({ kind: "status", deployment: now });
      }, POLL_MS);
      cleanups.push(
        () => clearInterval(keepalive),
        () => clearInterval(poll),
      );
    },
    cancel() {
      closed = true;
      for (const cleanup of cleanups) cleanup();
    },
  });

  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    },
  });
}

// Live build log over Server-Sent Events: history, then live lines, with no gap and no duplicate; ends with the
// final status, or with `restarting` when the server shuts down first (the client resumes after Last-Event-ID).

import type { LiveEvent } from "../bus/live.ts";
import type { Deps } from "../deps.ts";
import type { Deployment } from "../model/entities.ts";
import { isTerminal } from "../model/status.ts";
import type { LogLine } from "../store/logs.ts";
import { eventStream } from "./event-stream.ts";

const PAGE = 1000;
/** Safety net for watchers in another process than the worker: re-read the stores this often. */
const POLL_MS = 2_000;

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
  let last = after;
  return eventStream(signal, async (sink) => {
    const sendLine = (line: LogLine) => {
      if (line.seq <= last) return; // already sent (history and live overlap by design)
      last = line.seq;
      const { seq, stream, text, at } = line;
      sink.send(`id: ${seq}\nevent: log\ndata: ${JSON.stringify({ seq, stream, text, at })}\n\n`);
    };
    const sendStatus = (d: Deployment) => sink.send(`event: status\ndata: ${JSON.stringify(view(d))}\n\n`);
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
      sink.close();
    };

    // Subscribe before reading history, buffering meanwhile: nothing printed in between is lost.
    let buffer: LiveEvent[] | null = [];
    let status = deployment.status;
    const onLive = (event: LiveEvent) => {
      // The server is shutting down: the client resumes after its last event id.
      if (event.kind === "closing") {
        if (!finishing) sink.restarting(last);
        return;
      }
      if (event.kind === "log") return sendLine(event.line);
      status = event.deployment.status;
      if (isTerminal(status)) void finish(event.deployment);
      else sendStatus(event.deployment);
    };
    sink.onEnd(live.subscribe(deployment.id, (event) => (buffer ? buffer.push(event) : onLive(event))));

    sendStatus(deployment);
    await catchUp();
    const current = (await store.deployments.find(deployment.id)) ?? deployment;
    if (isTerminal(current.status)) return finish(current);
    const pending = buffer;
    buffer = null;
    for (const event of pending) onLive(event);
    if (sink.closed) return; // ended by what was buffered (the server shutting down): no timers to leave behind

    sink.keepAlive();
    const poll = setInterval(async () => {
      await catchUp();
      const now = await store.deployments.find(deployment.id);
      if (now && now.status !== status) onLive({ kind: "status", deployment: now });
    }, POLL_MS);
    sink.onEnd(() => clearInterval(poll));
  });
}

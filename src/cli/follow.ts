// Following a build log: the API's Server-Sent Events stream (history, live lines, final status), resumed
// after the last line seen when the connection drops; or the paged log for what is already written.

import type { Static } from "@sinclair/typebox";
import { type Api, CliError } from "./http.ts";
import { Deployment, expectShape, LogLine, LogPage } from "./responses.ts";

const TERMINAL = new Set(["READY", "FAIL", "CANCELED"]);
/** Consecutive attempts that get nothing before giving up (backing off from 200 ms). */
const RECONNECTS = 5;
/** How long to keep reconnecting once the server said it is restarting, and how often. */
const RESTART_WAIT_MS = 5 * 60_000;
const RESTART_POLL_MS = 1_000;

export type Line = Static<typeof LogLine>;

export function isTerminal(status: string): boolean {
  return TERMINAL.has(status);
}

interface SseEvent {
  event: string;
  data: string;
}

/** Splits an SSE byte stream into events (comments and keep-alives dropped). */
async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf("\n\n");
      let event = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length > 0) yield { event, data: data.join("\n") };
    }
  }
}

/** The reason an interrupted build (a restart, a lost worker) ends with (src/worker/interrupted.ts): names its rebuild. */
const REBUILT_AS = /; rebuilding it as ([0-9a-f-]{36})$/;
/** A rebuild interrupted again is followed too, up to this many times. */
const MAX_REBUILDS = 5;

/**
 * Streams the log until the deployment ends; returns it in its final state. `onNotice` hears about a
 * server restart (the stream is resumed after the last line once the server is back). A build the restart
 * interrupted is queued again as a new deployment: that one is followed next, and returned.
 */
export async function followLog(
  api: Api,
  deploymentId: string,
  onLine: (line: Line) => void,
  onNotice: (text: string) => void = () => {},
): Promise<Deployment> {
  let final = await followOne(api, deploymentId, onLine, onNotice);
  for (let hop = 0; hop < MAX_REBUILDS; hop++) {
    const next = final.status === "FAIL" ? REBUILT_AS.exec(final.statusReason ?? "")?.[1] : undefined;
    if (!next) break;
    onNotice(`The build was interrupted (a server restart or a lost worker); following its rebuild ${next}:`);
    final = await followOne(api, next, onLine, onNotice);
  }
  return final;
}

async function followOne(
  api: Api,
  deploymentId: string,
  onLine: (line: Line) => void,
  onNotice: (text: string) => void,
): Promise<Deployment> {
  let last = 0;
  let latest: Deployment | null = null;
  let failures = 0;
  // After the server said it is restarting: keep trying until then (it may first wait for builds to finish).
  let restartingUntil = 0;
  for (;;) {
    let progressed = false;
    try {
      const res = await api.send("GET", `/api/deployments/${encodeURIComponent(deploymentId)}/logs/stream`, {
        headers: { accept: "text/event-stream", ...(last > 0 && { "last-event-id": String(last) }) },
      });
      if (!res.body) throw new CliError("the log stream had no body", 1);
      if (restartingUntil > 0) onNotice("Reconnected.");
      restartingUntil = 0;
      for await (const { event, data } of sseEvents(res.body)) {
        const value: unknown = JSON.parse(data);
        if (event === "log") {
          const line = expectShape(LogLine, value, "log line");
          if (line.seq <= last) continue;
          last = line.seq;
          progressed = true;
          onLine(line);
        } else if (event === "status") {
          latest = expectShape(Deployment, value, "deployment");
        } else if (event === "restarting") {
          restartingUntil = Date.now() + RESTART_WAIT_MS;
          progressed = true;
          onNotice("The server is restarting; reconnecting…");
        }
      }
      // The server ends the stream after the final status (it also opens with the status as it stands).
      if (latest && isTerminal(latest.status)) return latest;
    } catch (error) {
      // A refusal (unknown deployment, bad token) is final; a dropped connection is resumed.
      if (error instanceof CliError && !error.retryable) throw error;
      if (Date.now() >= restartingUntil && failures >= RECONNECTS) throw error;
    }
    // A connection that brought new lines was progress: only consecutive fruitless attempts count.
    failures = progressed ? 0 : failures + 1;
    if (restartingUntil > Date.now()) await Bun.sleep(RESTART_POLL_MS);
    else if (failures > RECONNECTS) break;
    else await Bun.sleep(200 * 2 ** Math.max(0, failures - 1));
  }
  // The stream kept ending early: report the deployment as it stands.
  return expectShape(
    Deployment,
    await api.json("GET", `/api/deployments/${encodeURIComponent(deploymentId)}`),
    "deployment",
  );
}

/** Prints the log as written so far, page by page. */
export async function printLog(api: Api, deploymentId: string, onLine: (line: Line) => void): Promise<void> {
  let after = 0;
  for (;;) {
    const page = expectShape(
      LogPage,
      await api.json(
        "GET",
        `/api/deployments/${encodeURIComponent(deploymentId)}/logs?after=${after}&limit=5000`,
      ),
      "log page",
    );
    for (const line of page.items) onLine(line);
    if (page.nextAfter === null) return;
    after = page.nextAfter;
  }
}

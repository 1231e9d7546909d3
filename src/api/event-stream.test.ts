// The Server-Sent Events frame both log streams use: ends once, from any side, undoing what the stream set up.

import { expect, test } from "bun:test";
import { eventStream } from "./event-stream.ts";

test("the client going away ends the stream and undoes its subscriptions and timers, once", async () => {
  const client = new AbortController();
  let undone = 0;
  const response = eventStream(client.signal, async (sink) => {
    sink.onEnd(() => undone++);
    sink.keepAlive();
    sink.send("event: ready\ndata: {}\n\n");
  });
  expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
  expect(response.headers.get("cache-control")).toBe("no-store");
  const reader = response.body?.getReader();
  const first = await reader?.read();
  expect(new TextDecoder().decode(first?.value)).toBe("event: ready\ndata: {}\n\n");
  client.abort();
  expect((await reader?.read())?.done).toBe(true);
  client.abort();
  expect(undone).toBe(1);
});

test("restarting names the resume point and ends; later sends and cleanups are not lost or leaked", async () => {
  let late = 0;
  const response = eventStream(new AbortController().signal, async (sink) => {
    sink.send("id: 7\nevent: log\ndata: {}\n\n");
    sink.restarting(7);
    sink.send("event: log\ndata: {}\n\n");
    sink.onEnd(() => late++);
    expect(sink.closed).toBe(true);
  });
  expect(await response.text()).toBe(
    'id: 7\nevent: log\ndata: {}\n\nretry: 2000\nevent: restarting\ndata: {"reason":"the server is restarting","lastEventId":7}\n\n',
  );
  expect(late).toBe(1);
});

// What the ClickHouse stores share without a server: the tracker that lets closing a store lose no request.

import { expect, test } from "bun:test";
import { inFlight } from "./clickhouse.ts";

test("close waits for the work under way, then refuses new work; a second close has nothing to do", async () => {
  const requests = inFlight("log store");
  let finish = () => {};
  let finished = false;
  const pending = requests.track(
    () =>
      new Promise<void>((resolve) => {
        finish = () => {
          finished = true;
          resolve();
        };
      }),
  );
  let closed = false;
  const closing = requests.close().then((first) => {
    closed = true;
    return first;
  });
  expect(await requests.close()).toBe(false);
  await Bun.sleep(10);
  expect(closed).toBe(false);
  finish();
  expect(await closing).toBe(true);
  expect(finished).toBe(true);
  await pending;
  await expect(requests.track(async () => 1)).rejects.toThrow("the ClickHouse log store is closed");
});

test("a failed request is not waited for twice, and does not stop the close", async () => {
  const requests = inFlight("analytics store");
  const failing = requests.track(() => Promise.reject(new Error("timeout")));
  await expect(failing).rejects.toThrow("timeout");
  expect(await requests.close()).toBe(true);
});

// Live fan-out: a watcher whose listener throws is logged with its deployment; the other watchers still hear.

import { expect, test } from "bun:test";
import { captureLog } from "../testing/metrics.ts";
import { createLive, type LiveEvent } from "./live.ts";

test("a throwing listener is logged with the deployment and the event, and does not stop the others", () => {
  const { log, lines } = captureLog();
  const live = createLive(log);
  const heard: LiveEvent[] = [];
  live.subscribe("d1", () => {
    throw new Error("watcher bug");
  });
  live.subscribe("d1", (event) => heard.push(event));
  live.publish("d1", { kind: "closing" });
  expect(heard).toEqual([{ kind: "closing" }]);
  expect(lines).toEqual([
    expect.objectContaining({
      level: "error",
      msg: "live: listener failed",
      deploymentId: "d1",
      event: "closing",
      error: expect.objectContaining({ message: "watcher bug" }),
    }),
  ]);
});

test("close() names each failing listener's deployment", () => {
  const { log, lines } = captureLog();
  const live = createLive(log);
  for (const id of ["a", "b"])
    live.subscribe(id, () => {
      throw new Error(`bug in ${id}`);
    });
  expect(live.close()).toBe(2);
  expect(lines.map((l) => l.deploymentId).sort()).toEqual(["a", "b"]);
});

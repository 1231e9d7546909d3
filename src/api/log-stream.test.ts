// Log streams when the server shuts down: each open one gets `restarting` (with its resume point) and ends;
// one opened while the server drains ends the same way right after its history.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { storedDeployment } from "../testing/store-deployment.ts";
import { createApi } from "./app.ts";

let deps: Deps;
let token: string;
let deploymentId: string;

beforeAll(async () => {
  deps = await testDeps();
  const { user, token: t } = await testUser(deps);
  token = t;
  const project = await createProject(deps.store, deps.config, user.id, {
    name: "streams",
    gitUrl: "https://example.com/site.git",
  });
  const d = await storedDeployment(deps.store, { projectId: project.id, userId: user.id, status: "QUEUED" });
  deploymentId = d.id;
  const at = new Date().toISOString();
  await deps.logs.append(
    [1, 2, 3].map((seq) => ({ deploymentId: d.id, seq, stream: "stdout" as const, text: `line ${seq}`, at })),
  );
});
let closed = false;
afterAll(() => (closed ? undefined : deps.close()));

async function open(lastEventId: number) {
  const res = await createApi(deps).handle(
    new Request(`http://localhost/api/deployments/${deploymentId}/logs/stream`, {
      headers: { authorization: `Bearer ${token}`, "last-event-id": String(lastEventId) },
    }),
  );
  expect(res.status).toBe(200);
  const reader = res.body?.getReader();
  if (!reader) throw new Error("no body");
  const decoder = new TextDecoder();
  let text = "";
  /** Reads until `until` holds, or to the end; `ended` tells which. */
  const read = async (until: (t: string) => boolean = () => false) => {
    for (;;) {
      const next = await reader.read();
      if (next.done) return { text, ended: true };
      text += decoder.decode(next.value, { stream: true });
      if (until(text)) return { text, ended: false };
    }
  };
  return { read };
}

test("an open stream resumes after Last-Event-ID, then ends with `restarting` naming its last event", async () => {
  const stream = await open(1);
  const live = await stream.read((t) => t.includes("id: 3\n"));
  expect(live.text).not.toContain("id: 1\n");
  expect(live.text).toContain("id: 2\n");

  expect(deps.live.close()).toBe(1);
  const end = await stream.read();
  expect(end.ended).toBe(true);
  const last = end.text.slice(end.text.lastIndexOf("\n\n", end.text.length - 3) + 2);
  expect(last).toBe(
    'retry: 2000\nevent: restarting\ndata: {"reason":"the server is restarting","lastEventId":3}\n\n',
  );
});

test("a stream opened while the server drains gets its history and then `restarting` at once", async () => {
  const stream = await open(2);
  const end = await stream.read();
  expect(end.ended).toBe(true);
  expect(end.text).toContain("id: 3\n");
  expect(end.text).toEndWith(
    'event: restarting\ndata: {"reason":"the server is restarting","lastEventId":3}\n\n',
  );
  // Nothing of the stream outlives it: a poll timer left behind would now hit the closed stores.
  await deps.close();
  closed = true;
  await Bun.sleep(2_500);
});

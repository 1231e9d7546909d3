// A real function's output, end to end on the embedded defaults: it prints inside and outside requests (a stack
// trace too), and its lines come back with their function and request id through the API and through the live
// stream (runtime -> store and bus -> this process's runtime channel -> SSE).

import { afterAll, beforeAll, expect, test } from "bun:test";
import { createApi } from "../api/app.ts";
import type { Subscription } from "../bus/bus.ts";
import { startRuntimeLogFeed } from "../bus/runtime-live.ts";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import { apiClient, obj, testDeps, testUser } from "../testing/deps.ts";
import { storeFunction } from "../testing/functions.ts";
import { createRuntime, type FunctionRuntime, type FunctionTarget } from "./runtime.ts";

let deps: Deps;
let runtime: FunctionRuntime;
let feed: Subscription;
let token: string;
let target: FunctionTarget;

beforeAll(async () => {
  deps = await testDeps({ FUNCTION_START_TIMEOUT_SECONDS: "10" });
  runtime = createRuntime(deps);
  feed = await startRuntimeLogFeed(deps);
  const owner = await testUser(deps);
  token = owner.token;
  const project = await createProject(deps.store, deps.config, owner.user.id, { name: "chatty" });
  const deployment = await deps.store.deployments.create({
    projectId: project.id,
    userId: owner.user.id,
    status: "READY",
    target: "production",
    branch: "main",
    commitSha: null,
  });
  const fn = await storeFunction(deps.artifacts, {
    "index.mjs": `console.log("module loaded");
      export function GET(request) {
        const who = new URL(request.url).searchParams.get("who");
        console.log("hello", who);
        console.error(new Error("boom for " + who));
        console.warn("<script>alert(1)</script>");
        return new Response("ok " + who);
      }`,
  });
  target = {
    deploymentId: deployment.id,
    projectId: project.id,
    environment: "production",
    deploymentUrl: "http://chatty.localhost:8001",
    path: "/api/chatty",
    fn,
  };
});
afterAll(async () => {
  await runtime.stop();
  await feed.stop();
  await deps.close();
}, 30_000);

async function call(who: string, requestId: string): Promise<string> {
  const outcome = await runtime.invoke(target, {
    request: new Request(`http://chatty.localhost/api/chatty?who=${who}`),
    path: "/api/chatty",
    search: `?who=${who}`,
    host: "chatty.localhost:8001",
    proto: "http",
    clientIp: null,
    requestId,
  });
  if (outcome.kind !== "response") throw new Error(`the function failed: ${outcome.reason}`);
  return outcome.response.text();
}

type Line = { at: string; function: string; requestId: string | null; stream: string; text: string };

test("a function's lines, with their request ids, through the live stream and the API", async () => {
  // Live: the stream is open before the function runs.
  const res = await createApi(deps).handle(
    new Request(`http://localhost/api/deployments/${target.deploymentId}/runtime-logs/stream`, {
      headers: { authorization: `Bearer ${token}` },
    }),
  );
  const reader = res.body?.getReader();
  if (!reader) throw new Error("no stream");
  const live: Line[] = [];
  let buffered = "";
  const readUntil = async (done: () => boolean) => {
    const deadline = Date.now() + 10_000;
    while (!done() && Date.now() < deadline) {
      const next = await Promise.race([reader.read(), Bun.sleep(500).then(() => null)]);
      if (next === null) continue;
      if (next.done) break;
      buffered += new TextDecoder().decode(next.value);
      for (let end = buffered.indexOf("\n\n"); end >= 0; end = buffered.indexOf("\n\n")) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const data = block.split("\n").find((l) => l.startsWith("data: "));
        if (block.includes("event: log") && data) live.push(JSON.parse(data.slice(6)));
      }
    }
  };

  expect(await call("ann", "req-ann-1")).toBe("ok ann");
  expect(await call("bob", "req-bob-2")).toBe("ok bob");
  const byRequest = (lines: Line[], id: string | null) => lines.filter((l) => l.requestId === id);
  await readUntil(() => byRequest(live, "req-bob-2").some((l) => l.text.includes("<script>")));
  await reader.cancel();

  for (const [who, id] of [
    ["ann", "req-ann-1"],
    ["bob", "req-bob-2"],
  ] as const) {
    const mine = byRequest(live, id);
    // stdout and stderr are two pipes: each keeps its own order, not the order between them.
    expect(mine.find((l) => l.stream === "stdout")).toMatchObject({
      function: "/api/chatty",
      text: `hello ${who}`,
    });
    // Every line of the stack trace is the request's, on stderr.
    const trace = mine.filter((l) => l.stream === "stderr");
    expect(trace[0]?.text).toContain(`boom for ${who}`);
    expect(trace.some((l) => /^\s+at /.test(l.text))).toBe(true);
    expect(mine[mine.length - 1]).toMatchObject({ stream: "stderr", text: "<script>alert(1)</script>" });
  }
  expect(byRequest(live, null).map((l) => l.text)).toContain("module loaded");

  // The API has the same lines, newest first.
  const page = await apiClient(deps, token)(
    "GET",
    `/api/deployments/${target.deploymentId}/runtime-logs?function=${encodeURIComponent("/api/chatty")}&limit=1000`,
  );
  expect(page.status).toBe(200);
  const stored = (obj(page.body).items as Line[]).reverse();
  expect(stored.map((l) => [l.requestId, l.text])).toEqual(live.map((l) => [l.requestId, l.text]));
  expect(stored.map((l) => l.at)).toEqual([...stored.map((l) => l.at)].sort());
}, 30_000);

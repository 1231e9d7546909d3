// GET /api/deployments/:id/runtime-logs and its SSE stream: pages newest first, time and function filters, clear
// 4xx answers, the owner only, documented with integers as integers; the stream's history, live lines from the
// bus without duplicates, and its resume after a restart.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Subscription } from "../bus/bus.ts";
import { publishRuntimeLines, startRuntimeLogFeed } from "../bus/runtime-live.ts";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import type { RuntimeLogLine } from "../store/runtime-logs.ts";
import { apiClient, type Client, obj, testDeps, testUser } from "../testing/deps.ts";
import { createApi } from "./app.ts";

let deps: Deps;
let alice: Client;
let aliceToken: string;
let bob: Client;
let deploymentId: string;
let feed: Subscription;
const BASE = Date.now() - 60 * 60_000;

const line = (n: number, overrides: Partial<RuntimeLogLine> = {}): RuntimeLogLine => ({
  deploymentId,
  id: `t-${String(n).padStart(6, "0")}`,
  function: n % 2 ? "/api/odd" : "/api/even",
  requestId: `req-${n}`,
  stream: "stdout",
  text: `line ${n}`,
  at: new Date(BASE + n * 1000).toISOString(),
  ...overrides,
});

beforeAll(async () => {
  deps = await testDeps();
  const owner = await testUser(deps);
  aliceToken = owner.token;
  alice = apiClient(deps, owner.token);
  bob = apiClient(deps, (await testUser(deps)).token);
  const project = await createProject(deps.store, deps.config, owner.user.id, { name: "functions" });
  deploymentId = (
    await deps.store.deployments.create({
      projectId: project.id,
      userId: owner.user.id,
      status: "READY",
      target: "production",
      branch: "main",
      commitSha: null,
    })
  ).id;
  await deps.runtimeLogs.append(Array.from({ length: 30 }, (_, i) => line(i + 1)));
  feed = await startRuntimeLogFeed(deps);
});
afterAll(async () => {
  await feed.stop();
  await deps.close();
});

const texts = (body: unknown) => (obj(body).items as { text: string }[]).map((l) => l.text);
const path = (query = "") => `/api/deployments/${deploymentId}/runtime-logs${query}`;

describe("GET /api/deployments/:id/runtime-logs", () => {
  test("newest first, every field, paged with nextCursor to the end", async () => {
    const first = await alice("GET", path("?limit=12"));
    expect(first.status).toBe(200);
    expect(obj(first.body).items).toHaveLength(12);
    expect((obj(first.body).items as unknown[])[0]).toEqual({
      id: "t-000030",
      at: new Date(BASE + 30_000).toISOString(),
      function: "/api/even",
      requestId: "req-30",
      stream: "stdout",
      text: "line 30",
    });
    const seen = [...texts(first.body)];
    let cursor = obj(first.body).nextCursor;
    while (typeof cursor === "string") {
      const next = await alice("GET", path(`?limit=12&cursor=${encodeURIComponent(cursor)}`));
      seen.push(...texts(next.body));
      cursor = obj(next.body).nextCursor;
    }
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => `line ${30 - i}`));
  });

  test("by time (Unix ms: since inclusive, until exclusive) and by function", async () => {
    const since = BASE + 10_000;
    const until = BASE + 15_000;
    const got = await alice("GET", path(`?since=${since}&until=${until}`));
    expect(texts(got.body)).toEqual(["line 14", "line 13", "line 12", "line 11", "line 10"]);
    const odd = await alice(
      "GET",
      path(`?since=${since}&until=${until}&function=${encodeURIComponent("/api/odd")}`),
    );
    expect(texts(odd.body)).toEqual(["line 13", "line 11"]);
    expect(obj((await alice("GET", path("?function=%2Fapi%2Fnone"))).body).items).toEqual([]);
  });

  test("clear 4xx answers for what cannot be a query", async () => {
    const code = async (query: string) => {
      const res = await alice("GET", path(query));
      return [res.status, obj(obj(res.body).error).field];
    };
    expect(await code("?cursor=bm90IGEgY3Vyc29y")).toEqual([400, "cursor"]);
    expect(await code(`?since=${BASE + 2000}&until=${BASE}`)).toEqual([400, "since"]);
    expect(await code("?since=yesterday")).toEqual([422, "since"]);
    expect(await code("?since=1.5")).toEqual([422, "since"]);
    expect(await code("?limit=0")).toEqual([422, "limit"]);
    expect(await code("?limit=1001")).toEqual([422, "limit"]);
    expect(await code("?function=")).toEqual([422, "function"]);
  });

  test("another account gets 404 on both routes, an anonymous caller 401", async () => {
    expect((await bob("GET", path())).status).toBe(404);
    expect((await bob("GET", path("/stream"))).status).toBe(404);
    expect((await apiClient(deps, null)("GET", path())).status).toBe(401);
  });

  test("the OpenAPI document has both routes, with integer times and limits", async () => {
    const doc = obj((await alice("GET", "/api/openapi.json")).body);
    const paths = obj(doc.paths);
    expect(Object.keys(paths)).toContain("/api/deployments/{id}/runtime-logs/stream");
    const get = obj(obj(paths["/api/deployments/{id}/runtime-logs"]).get);
    const params = get.parameters as { name: string; in: string; schema: { type: string } }[];
    const typeOf = (name: string) => params.find((p) => p.name === name && p.in === "query")?.schema.type;
    expect([typeOf("since"), typeOf("until"), typeOf("limit"), typeOf("cursor"), typeOf("function")]).toEqual(
      ["integer", "integer", "integer", "string", "string"],
    );
    expect(JSON.stringify(obj(get.responses)["200"])).toContain("nextCursor");
  });
});

type Event = { id: string | null; event: string; data: Record<string, unknown> };

/** Opens the stream as alice and reads it event by event. */
async function openStream(query = "", headers: Record<string, string> = {}) {
  const res = await createApi(deps).handle(
    new Request(`http://localhost${path(`/stream${query}`)}`, {
      headers: { authorization: `Bearer ${aliceToken}`, ...headers },
    }),
  );
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
  const reader = res.body?.getReader();
  if (!reader) throw new Error("no body");
  const decoder = new TextDecoder();
  let text = "";
  const events: Event[] = [];
  /** Reads until an event of `kind` has come (true), or the stream ends (false). */
  const until = async (kind: string) => {
    for (;;) {
      if (events.some((e) => e.event === kind)) return true;
      const next = await reader.read();
      if (next.done) return events.some((e) => e.event === kind);
      text += decoder.decode(next.value, { stream: true });
      for (let end = text.indexOf("\n\n"); end >= 0; end = text.indexOf("\n\n")) {
        const lines = text.slice(0, end).split("\n");
        text = text.slice(end + 2);
        const field = (name: string) =>
          lines.find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2) ?? null;
        const event = field("event");
        if (event) events.push({ id: field("id"), event, data: JSON.parse(field("data") ?? "null") });
      }
    }
  };
  return { events, until };
}

const shown = (events: Event[]) => events.map((e) => (e.event === "log" ? String(e.data.text) : e.event));

describe("GET /api/deployments/:id/runtime-logs/stream", () => {
  test("history, then live lines from the bus (filtered, no duplicates), then restarting; resumes after its last line", async () => {
    const odd = encodeURIComponent("/api/odd");
    const stream = await openStream(`?since=${BASE + 28_000}&function=${odd}`);
    expect(await stream.until("ready")).toBe(true);
    expect(shown(stream.events)).toEqual(["line 29", "ready"]);
    expect(stream.events[1]?.data).toEqual({ history: 1, more: false });
    expect(stream.events[0]?.data).toMatchObject({ function: "/api/odd", requestId: "req-29" });

    // As the runtime does it: stored, then published. Line 29 again (a re-delivery) is not sent twice.
    const fresh = [line(31), line(32), line(33, { requestId: null, text: "<script>x</script>" })];
    await deps.runtimeLogs.append(fresh);
    await publishRuntimeLines(deps.bus, deploymentId, [line(29), ...fresh]);
    const sawLast = () => stream.events.some((e) => e.data.text === "<script>x</script>");
    for (let i = 0; i < 50 && !sawLast(); i++) await Promise.race([stream.until("never"), Bun.sleep(20)]);
    expect(shown(stream.events)).toEqual(["line 29", "ready", "line 31", "<script>x</script>"]);

    // The server shuts down: the stream ends, naming the last line it sent.
    expect(deps.runtimeLive.close()).toBe(1);
    expect(await stream.until("restarting")).toBe(true);
    const restarting = stream.events[stream.events.length - 1];
    const lastEventId = String(restarting?.data.lastEventId);
    expect(lastEventId).toBe(String(stream.events[3]?.id));

    // Printed while the client was away; it comes back with Last-Event-ID and gets only that.
    await deps.runtimeLogs.append([line(34), line(35)]);
    const resumed = await openStream(`?function=${odd}`, { "last-event-id": lastEventId });
    expect(await resumed.until("restarting")).toBe(true);
    expect(shown(resumed.events)).toEqual(["line 35", "ready", "restarting"]);
    const bad = await alice("GET", path("/stream"), undefined, { "last-event-id": "nonsense" });
    expect(bad.status).toBe(400);
  });
});

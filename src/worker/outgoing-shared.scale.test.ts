// Outgoing webhooks across worker processes: three dispatchers, each with its own connection pool to one
// PostgreSQL database (as three worker processes of one installation), send every queued delivery exactly once.

import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Deps } from "../deps.ts";
import { apiClient, obj, testDeps, testUser } from "../testing/deps.ts";
import { type TestDatabase, testDatabase } from "../testing/postgres.ts";
import { startOutgoingDispatcher } from "./outgoing.ts";

let db: TestDatabase;
const opened: Deps[] = [];

beforeAll(async () => {
  db = await testDatabase();
});
afterAll(async () => {
  for (const deps of opened) await deps.close();
  await db.drop();
});

test("three workers on one database: each of 60 deliveries reaches the receiver once, all logged delivered", async () => {
  // One installation: one secret key (it seals the hooks' signing secrets), one database.
  const env = {
    DATABASE_URL: db.url,
    MINIVERCEL_SECRET_KEY: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64"),
    MINIVERCEL_ALLOW_PRIVATE_HOOKS: "1",
    OUTGOING_HOOK_RETRY_BASE_MS: "50",
  };
  const workers = [];
  for (let i = 0; i < 3; i++) {
    const deps = await testDeps(env);
    opened.push(deps);
    workers.push(deps);
  }
  const [first] = workers;
  if (!first) throw new Error("no worker");
  const hits = new Map<string, number>();
  const receiver = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const id = req.headers.get("webhook-id") ?? "";
      hits.set(id, (hits.get(id) ?? 0) + 1);
      // Slow enough that the dispatchers' polls overlap while sends are under way.
      await Bun.sleep(20);
      return new Response(null, { status: 204 });
    },
  });
  const dispatchers = workers.map((deps) => startOutgoingDispatcher(deps, 10));
  try {
    const api = apiClient(first, (await testUser(first)).token);
    const projectId = String(obj((await api("POST", "/api/projects", { name: "Shared" })).body).id);
    const hook = obj(
      (
        await api("POST", `/api/projects/${projectId}/hooks`, {
          url: `http://127.0.0.1:${receiver.port}/`,
          events: ["deployment.ready"],
        })
      ).body,
    );
    const hookId = String(obj(hook.hook).id);
    for (let i = 0; i < 60; i++)
      await first.store.outgoingHooks.enqueue(
        projectId,
        "deployment.ready",
        JSON.stringify({ type: "deployment.ready", n: i }),
        new Date().toISOString(),
      );
    const end = Date.now() + 30_000;
    while (hits.size < 60 && Date.now() < end) await Bun.sleep(50);
    await Bun.sleep(300);
    expect(hits.size).toBe(60);
    expect([...hits.values()].every((n) => n === 1)).toBe(true);
    const log = await first.store.outgoingHooks.deliveries(hookId, 100);
    expect(log).toHaveLength(60);
    expect(log.every((d) => d.status === "delivered" && d.log.length === 1)).toBe(true);
  } finally {
    await Promise.all(dispatchers.map((d) => d.stop()));
    receiver.stop(true);
  }
});

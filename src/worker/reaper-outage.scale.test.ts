// The reaper after a store outage, on a real Postgres it loses for a while (its connections cut by a relay): no
// heartbeat can land during an outage, and the held ones are retried by the bus only every maxOutageBackoffMs, so
// a build must not be judged lost within a heartbeat timeout plus that backoff after the store is back.

import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { connect, createServer, type Server, type Socket } from "node:net";
import { HANDLER_RETRY } from "../bus/retry.ts";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { type TestDatabase, testDatabase } from "../testing/postgres.ts";
import { storedDeployment } from "../testing/store-deployment.ts";
import { startEventWorkers } from "./apply-events.ts";
import { RECOVERY_SLACK_MS, startLauncher } from "./launcher.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await testDatabase();
}, 120_000);
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});
afterAll(() => db.drop());

/** A TCP relay to Postgres that can be cut (listener closed, open connections dropped) and opened again. */
async function relay(target: URL) {
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = 0;
  const open = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = connect(Number(target.port), target.hostname);
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on("error", () => {});
          socket.on("close", () => {
            sockets.delete(socket);
            client.destroy();
            upstream.destroy();
          });
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, "127.0.0.1", () => {
        const address = server?.address();
        if (address && typeof address === "object") port = address.port;
        resolve();
      });
    });
  const cut = () => {
    server?.close();
    for (const socket of sockets) socket.destroy();
  };
  await open();
  const url = new URL(target.href);
  url.host = `127.0.0.1:${port}`;
  return { url: url.href, cut, open };
}

test("after the store returns, a silent build is judged lost only past a timeout plus the bus's outage backoff", async () => {
  const timeoutMs = 5_000;
  expect(RECOVERY_SLACK_MS).toBeGreaterThanOrEqual(HANDLER_RETRY.maxOutageBackoffMs);
  const line = await relay(new URL(db.url));
  const env = { BUILD_HEARTBEAT_TIMEOUT_SECONDS: String(timeoutMs / 1000), BUILD_SANDBOX: "none" };
  // The observer reaches Postgres directly; the judging worker only through the relay.
  const observer: Deps = await testDeps({ DATABASE_URL: db.url, ...env });
  cleanup.push(() => observer.close());
  const judge: Deps = await testDeps({ DATABASE_URL: line.url, ...env });
  const events = await startEventWorkers(judge);
  const launcher = startLauncher({ ...judge, pollMs: 100 });
  cleanup.push(async () => {
    line.cut();
    await line.open();
    await launcher.stop();
    await events.stop();
    await judge.close();
  });

  // A build nobody runs, whose last heartbeat goes stale a few seconds after the outage ends.
  const { user } = await testUser(observer);
  const project = await createProject(observer.store, observer.config, user.id, { name: "silent" });
  const d = await storedDeployment(observer.store, {
    projectId: project.id,
    userId: user.id,
    status: "IN_PROGRESS",
    heartbeat: new Date(Date.now() + 1_000).toISOString(),
  });

  line.cut();
  await Bun.sleep(3_000);
  await line.open();
  const back = Date.now();

  // Stale from about back + 3 s; still running until a timeout and the bus's outage backoff have passed.
  const quiet = back + timeoutMs + HANDLER_RETRY.maxOutageBackoffMs - 500;
  while (Date.now() < quiet) {
    expect((await observer.store.deployments.find(d.id))?.status).toBe("IN_PROGRESS");
    await Bun.sleep(250);
  }
  // Then judged: the reaper runs every 5 s.
  const end = back + timeoutMs + RECOVERY_SLACK_MS + 10_000;
  let status = "IN_PROGRESS";
  while (status === "IN_PROGRESS" && Date.now() < end) {
    await Bun.sleep(250);
    status = (await observer.store.deployments.find(d.id))?.status ?? "gone";
  }
  const ended = await observer.store.deployments.find(d.id);
  expect(ended?.status).toBe("FAIL");
  expect(ended?.statusReason).toContain("lost contact with the builder");
}, 90_000);

// Automatic HTTPS across processes: two real `serve --role=proxy` processes on one PostgreSQL order a project's
// certificate once (the store's lease), and both present that same certificate (the store shares it).

import { afterAll, beforeAll, expect, test } from "bun:test";
import { resolve } from "node:path";
import type { Subprocess } from "bun";
import postgres from "postgres";
import { settings } from "../store/store.contract.ts";
import { openPostgresStore } from "../store/store-postgres.ts";
import { tempDir } from "../testing/deps.ts";
import { freePort, type Pebble, startPebble, testPostgresUrl } from "../testing/pebble.ts";
import { tlsGet } from "../testing/tls-client.ts";

const MAIN = resolve(import.meta.dir, "../main.ts");
const BASE = "example.test";
const database = `mv_tls_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
let admin: postgres.Sql | null = null;
let pebble: Pebble;
let root = "";
let subDomain = "";
const processes: Subprocess<"ignore", "pipe", "inherit">[] = [];
const httpsPorts: number[] = [];

async function startProxy(env: Record<string, string>): Promise<void> {
  const proc = Bun.spawn([process.execPath, MAIN, "serve", "--role=proxy"], {
    env: { ...process.env, ...env, MINIVERCEL_DATA: tempDir("minivercel-tls-proxy-") },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "inherit",
  });
  processes.push(proc);
  const decoder = new TextDecoder();
  const reader = proc.stdout.getReader();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    if (/sites \(https\):/.test(text)) {
      // Keep reading (to the test's output) so the process never blocks or fails on its stdout.
      (async () => {
        for (;;) {
          const next = await reader.read();
          if (next.done) return;
          process.stderr.write(next.value);
        }
      })().catch(() => {});
      return;
    }
  }
  throw new Error(`the proxy exited before it was ready:\n${text}`);
}

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  admin = postgres(pgUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${database}`);
  const url = new URL(pgUrl);
  url.pathname = `/${database}`;
  // A project to serve, made before the proxies start (they order its certificate eagerly).
  const store = openPostgresStore(url.href);
  await store.migrate();
  const user = await store.users.create({ email: "owner@example.test", passwordHash: null });
  const project = await store.projects.create({ userId: user.id, ...settings() });
  subDomain = project.subDomain;
  await store.close();

  const [httpA, httpB] = [freePort(), freePort()];
  pebble = await startPebble({ httpPort: httpA });
  root = await pebble.root();
  const common = {
    DATABASE_URL: url.href,
    // Every process opens the others' sealed keys: one platform key for all, as in any scaled setup.
    MINIVERCEL_SECRET_KEY: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64"),
    BASE_DOMAIN: BASE,
    LISTEN_HOST: "127.0.0.1",
    ACME_DIRECTORY_URL: pebble.directoryUrl,
    ACME_EMAIL: "ops@example.test",
    ACME_CA_FILE: pebble.caFile,
    LOG_FORMAT: "text",
  };
  httpsPorts.push(freePort(), freePort());
  // Only A's plain port is where Pebble validates: B's orders (if it won a lease) are answered by A from the store.
  await Promise.all([
    startProxy({ ...common, PROXY_PORT: String(httpA), HTTPS_PORT: String(httpsPorts[0]) }),
    startProxy({ ...common, PROXY_PORT: String(httpB), HTTPS_PORT: String(httpsPorts[1]) }),
  ]);
}, 180_000);

afterAll(async () => {
  for (const proc of processes) proc.kill();
  await Promise.all(processes.map((p) => p.exited));
  await pebble?.stop();
  if (admin) {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
});

test("two proxy processes share one certificate, ordered once", async () => {
  const host = `${subDomain}.${BASE}`;
  const [a, b] = await Promise.all(httpsPorts.map((port) => tlsGet(port, host, root)));
  expect(a?.error).toBeNull();
  expect(b?.error).toBeNull();
  expect(a?.altNames).toBe(`DNS:${host}`);
  expect(a?.serial).toBe(b?.serial ?? "");
  // The project has no deployment yet: the proxy answers over HTTPS with its "not deployed" page.
  expect(a?.status).toBe(404);
  expect(pebble.orders()).toBe(1);
  // An unknown host stays refused on both, with no further order.
  const unknown = await Promise.all(httpsPorts.map((port) => tlsGet(port, `nobody.${BASE}`, root)));
  expect(unknown.map((u) => u.error === null)).toEqual([false, false]);
  expect(pebble.orders()).toBe(1);
}, 120_000);

// Web analytics end to end in the role setup: a proxy process of its own (`serve --role=proxy`) counts the
// traffic and sends it over Kafka; the api + worker roles (this process) store it in ClickHouse, the store on
// Postgres; the numbers in the API and in Debian's chromium, and no address in any stored row.

import { resolve } from "node:path";
import postgres from "postgres";
import { type Env, loadConfig } from "./config/config.ts";
import { openDeps } from "./deps.ts";
import { startRoles } from "./roles.ts";
import { analyticsEndToEnd } from "./testing/analytics-traffic.ts";
import { tempDir } from "./testing/deps.ts";
import { testService } from "./testing/services.ts";

const MAIN = resolve(import.meta.dir, "main.ts");

analyticsEndToEnd("clickhouse", async () => {
  const run = crypto.randomUUID().replaceAll("-", "").slice(0, 10);
  const pgUrl = testService("postgres");
  const admin = postgres(pgUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE mv_analytics_${run}`);
  const clickhouse = new URL(testService("clickhouse"));
  const database = `mv_analytics_${run}`;
  // One data directory for both processes: the deployment's files on local disk, and one secret key.
  const env: Env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: tempDir(),
    MINIVERCEL_DATA: tempDir("minivercel-analytics-"),
    DATABASE_URL: pgUrl.replace(/\/[^/]*$/, `/mv_analytics_${run}`),
    KAFKA_BROKERS: testService("kafka"),
    KAFKA_TOPIC_PREFIX: `mv-analytics-${run}.`,
    CLICKHOUSE_URL: clickhouse.href,
    CLICKHOUSE_DATABASE: database,
    MINIVERCEL_ALLOW_LOCAL_GIT: "1",
    DEPLOYMENT_PROTECTION_DEFAULT: "none",
    TRUST_PROXY: "1",
    ANALYTICS_FLUSH_SECONDS: "1",
    LISTEN_HOST: "127.0.0.1",
    PORT: "0",
    PROXY_PORT: "0",
  };
  const deps = await openDeps(loadConfig({ ...env, MINIVERCEL_ROLE: "api,worker" }));
  const roles = await startRoles(deps);
  const proxy = Bun.spawn([process.execPath, MAIN, "serve", "--role=proxy"], {
    env: env as Record<string, string>,
    stdout: "pipe",
    stderr: "inherit",
  });
  let proxyPort = 0;
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of proxy.stdout) {
    text += decoder.decode(chunk, { stream: true });
    const port = /sites: +http:\/\/<project>\.localhost:(\d+)/.exec(text)?.[1];
    if (port) {
      proxyPort = Number(port);
      break;
    }
  }
  if (proxyPort === 0) throw new Error(`the proxy exited before it was ready:\n${text}`);
  const auth = `Basic ${btoa(`${decodeURIComponent(clickhouse.username) || "default"}:${decodeURIComponent(clickhouse.password)}`)}`;
  const base = new URL(clickhouse.href);
  base.username = "";
  base.password = "";
  const sql = async (query: string) => {
    const res = await fetch(base.href, { method: "POST", body: query, headers: { authorization: auth } });
    const body = await res.text();
    if (!res.ok) throw new Error(`ClickHouse: ${body}`);
    return body;
  };
  return {
    api: roles.urls.api ?? "",
    apiDeps: deps,
    proxyPort,
    async storedRows() {
      const analytics = await sql(`SELECT * FROM ${database}.analytics FORMAT JSONEachRow`);
      const store = postgres(String(env.DATABASE_URL), { max: 1, onnotice: () => {} });
      const salts = await store`SELECT * FROM analytics_salts`;
      await store.end();
      return analytics + JSON.stringify(salts);
    },
    async stop() {
      proxy.kill("SIGTERM");
      await Promise.race([proxy.exited, Bun.sleep(10_000)]);
      proxy.kill("SIGKILL");
      await roles.stop();
      await deps.close();
      await sql(`DROP DATABASE IF EXISTS ${database}`);
      await admin.unsafe(`DROP DATABASE IF EXISTS mv_analytics_${run} WITH (FORCE)`);
      await admin.end();
    },
  };
});

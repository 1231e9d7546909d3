// Deployment protection across processes: one api and two proxies over one PostgreSQL database and Kafka (each
// with its own pool and clients, as separate processes of one installation). A bypass token opens the preview on
// both proxies and, once revoked, is refused by both through the route announcement alone (no reconcile); a
// sign-in hand-off exchanged on one proxy is refused on the other.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { createDashboard } from "../dashboard/app.ts";
import type { Deps } from "../deps.ts";
import { createSession } from "../identity/accounts.ts";
import { cookieName, SESSION_COOKIE } from "../identity/authenticate.ts";
import type { Project } from "../model/entities.ts";
import { deploymentHostId } from "../model/urls.ts";
import { type Running, startRoles } from "../roles.ts";
import { apiClient, type Client, obj, tempDir, testDeps, testUser } from "../testing/deps.ts";
import { type TestDatabase, testDatabase } from "../testing/postgres.ts";
import { testService } from "../testing/services.ts";
import { deploySite, eventually } from "../testing/sites.ts";

const run = crypto.randomUUID().slice(0, 8);
let db: TestDatabase;
let apiDeps: Deps;
const proxies: { deps: Deps; roles: Running; port: number }[] = [];
let api: Client;
let ownerId: string;
let project: Project;
let previewHost: string;

beforeAll(async () => {
  db = await testDatabase();
  const env = {
    DATABASE_URL: db.url,
    KAFKA_BROKERS: testService("kafka"),
    KAFKA_TOPIC_PREFIX: `prot-${run}-`,
    MINIVERCEL_SECRET_KEY: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64"),
    // One artifact store for all three (as S3 would be): the files deployed through one are served by the others.
    MINIVERCEL_DATA: tempDir("minivercel-protect-shared-"),
    DEPLOYMENT_PROTECTION_DEFAULT: "previews",
    PROXY_RECONCILE_SECONDS: "3600",
    LISTEN_HOST: "127.0.0.1",
  };
  apiDeps = await testDeps({ ...env, MINIVERCEL_ROLE: "api" });
  await apiDeps.store.migrate();
  for (let i = 0; i < 2; i++) {
    const deps = await testDeps({ ...env, MINIVERCEL_ROLE: "proxy", PROXY_PORT: "0" });
    const roles = await startRoles(deps);
    proxies.push({
      deps,
      roles,
      port: Number(new URL((roles.urls.proxy ?? "").replace("<project>", "x")).port),
    });
  }
  const { user, token } = await testUser(apiDeps);
  ownerId = user.id;
  api = apiClient(apiDeps, token);
  const created = await api("POST", "/api/projects", { name: `shared-${run}` });
  project = (await apiDeps.store.projects.find(String(obj(created.body).id))) as Project;
  const preview = await deploySite(
    apiDeps,
    project,
    { "index.html": "shared secret" },
    { target: "preview" },
  );
  previewHost = `${project.subDomain}--${deploymentHostId(preview.id)}.localhost`;
}, 60_000);

afterAll(async () => {
  for (const { deps, roles } of proxies) {
    await roles.stop();
    await deps.close();
  }
  await apiDeps?.close();
  await db?.drop();
});

const visit = (port: number, path: string, headers: Record<string, string> = {}) =>
  fetch(`http://127.0.0.1:${port}${path}`, {
    headers: { host: `${previewHost}:${port}`, ...headers },
    redirect: "manual",
  });

test("a bypass token opens both proxies, and once revoked is refused by both without a reconcile", async () => {
  const created = await api("POST", `/api/projects/${project.id}/protection/bypass`, { name: "ci" });
  const token = String(obj(created.body).token);
  const tokenId = String(obj(obj(created.body).record).id);
  for (const { port } of proxies) {
    await eventually(async () => {
      const opened = await visit(port, "/", { "x-vercel-protection-bypass": token });
      expect(await opened.text()).toBe("shared secret");
    }, 15_000);
    const refused = await visit(port, "/");
    expect(refused.status).toBe(302);
    expect(await refused.text()).toBe("");
  }
  expect((await api("DELETE", `/api/projects/${project.id}/protection/bypass/${tokenId}`)).status).toBe(204);
  for (const { port } of proxies) {
    const ms = await eventually(async () => {
      const after = await visit(port, "/", { "x-vercel-protection-bypass": token });
      expect(after.status).toBe(401);
    }, 15_000);
    // The announcement, not the hourly reconcile, did it.
    expect(ms).toBeLessThan(15_000);
  }
}, 60_000);

test("a sign-in hand-off exchanged on one proxy is refused on the other", async () => {
  const [first, second] = proxies;
  if (!first || !second) throw new Error("two proxies expected");
  const refused = await visit(first.port, "/");
  const authorize = new URL(refused.headers.get("location") ?? "");
  const dashboard = createDashboard(apiDeps);
  const { cookie } = await createSession(apiDeps.store, ownerId, 600);
  const request = new Request(`http://localhost${authorize.pathname}${authorize.search}`, {
    headers: { cookie: `${cookieName(SESSION_COOKIE, new Request("http://localhost"))}=${cookie}` },
  });
  const granted = await dashboard.handle(request);
  expect(granted.status).toBe(303);
  const handoff = new URL(granted.headers.get("location") ?? "");
  const exchanged = await visit(first.port, `${handoff.pathname}${handoff.search}`);
  expect(exchanged.status).toBe(302);
  const replayed = await visit(second.port, `${handoff.pathname}${handoff.search}`);
  expect(replayed.status).toBe(403);
  expect(replayed.headers.getSetCookie()).toEqual([]);
  // The cookie the first proxy set opens the host on the second too (same key, same host).
  const access = exchanged.headers.getSetCookie()[0]?.split(";")[0] ?? "";
  expect(await (await visit(second.port, "/", { cookie: access })).text()).toBe("shared secret");
}, 30_000);

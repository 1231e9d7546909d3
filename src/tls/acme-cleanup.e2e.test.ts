// Automatic HTTPS: certificates of hosts no longer served (a deleted project, a custom domain that changed) are not
// renewed, no longer presented, and deleted from the store once expired. Pebble issues certificates valid for a
// few seconds here, so that they really expire within the test (and every certificate is always due for renewal).

import { afterAll, beforeAll, expect, test } from "bun:test";
import { deleteProject, updateProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import { createLogger } from "../observe/log.ts";
import { createProxy, type SiteProxy } from "../proxy/proxy.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { freePort, type Pebble, startPebble } from "../testing/pebble.ts";
import { deploySite, siteProject } from "../testing/sites.ts";
import { tlsGet } from "../testing/tls-client.ts";
import { httpFront } from "./https.ts";
import { type RunningTls, startTls } from "./start.ts";

const BASE = "example.test";
const VALID_SECONDS = 10;
let pebble: Pebble;
let deps: Deps;
let proxy: SiteProxy;
let plain: ReturnType<typeof Bun.serve>;
let tls: RunningTls;
let root = "";
const lines: { level: string; msg: string; [field: string]: unknown }[] = [];

beforeAll(async () => {
  const httpPort = freePort();
  pebble = await startPebble({ httpPort, validitySeconds: VALID_SECONDS });
  root = await pebble.root();
  deps = await testDeps({
    MINIVERCEL_ROLE: "proxy",
    BASE_DOMAIN: BASE,
    LISTEN_HOST: "127.0.0.1",
    PROXY_PORT: String(httpPort),
    HTTPS_PORT: "0",
    ACME_DIRECTORY_URL: pebble.directoryUrl,
    ACME_EMAIL: "ops@example.test",
    ACME_CA_FILE: pebble.caFile,
    ACME_RENEW_DAYS: "1",
    // A custom domain is served as soon as it is saved: no TXT record to publish in this test.
    DOMAIN_VERIFICATION: "off",
  });
  const https = deps.config.https;
  if (!https) throw new Error("ACME settings did not turn HTTPS on");
  proxy = await createProxy(deps);
  plain = Bun.serve({
    hostname: "127.0.0.1",
    port: httpPort,
    fetch: httpFront(() => tls.port, deps.store.certificates),
  });
  const log = createLogger({ format: "json", level: "debug", write: (line) => lines.push(JSON.parse(line)) });
  tls = await startTls({ ...deps, log }, https, { sites: proxy.fetch, route: proxy.route, dashboard: null });
}, 120_000);

afterAll(async () => {
  await tls?.stop();
  await plain?.stop(true);
  await proxy?.stop();
  await deps?.close();
  await pebble?.stop();
});

test("a deleted project's and an old custom domain's certificates: not renewed, not served, deleted once expired", async () => {
  const { user } = await testUser(deps);
  const kept = await siteProject(deps, user.id);
  const gone = await siteProject(deps, user.id);
  const oldDomain = `www.old-${crypto.randomUUID().slice(0, 6)}.test`;
  const newDomain = `www.new-${crypto.randomUUID().slice(0, 6)}.test`;
  const shop = await siteProject(deps, user.id, { customDomain: oldDomain });
  for (const project of [kept, gone, shop]) await deploySite(deps, project, { "index.html": "<h1>hi</h1>" });
  const keptHost = `${kept.subDomain}.${BASE}`;
  const goneHost = `${gone.subDomain}.${BASE}`;
  for (const host of [keptHost, goneHost, oldDomain]) {
    const answer = await tlsGet(tls.port, host, root);
    expect(answer.error).toBeNull();
    expect(answer.status).toBe(200);
  }
  const stored = async (name: string) => (await deps.store.certificates.get(name))?.updatedAt ?? null;
  const goneAt = await stored(goneHost);
  const oldAt = await stored(oldDomain);
  const keptAt = await stored(keptHost);
  expect([goneAt, oldAt, keptAt]).not.toContain(null);

  await deleteProject(deps, user.id, gone.id);
  await updateProject(deps, deps.config, user.id, shop.id, { customDomain: newDomain });
  await proxy.reconcile();
  // Every certificate is due (valid for seconds, ACME_RENEW_DAYS=1): the wanted ones are renewed, the others not.
  await tls.certs.sync();
  expect(await stored(keptHost)).not.toBe(keptAt);
  expect(tls.certs.served(newDomain)).not.toBeNull();
  expect(await stored(goneHost)).toBe(goneAt);
  expect(await stored(oldDomain)).toBe(oldAt);
  // Still stored (not expired yet), but no longer presented.
  expect(tls.certs.served(goneHost)).toBeNull();
  expect(tls.certs.served(oldDomain)).toBeNull();
  const before = pebble.orders();
  for (const host of [goneHost, oldDomain]) expect((await tlsGet(tls.port, host, root)).error).not.toBeNull();
  expect(pebble.orders()).toBe(before);

  // Past their expiry, the next pass deletes them; the certificates still wanted stay.
  const expiry = Math.max(
    ...(await deps.store.certificates.list())
      .filter((c) => c.name === goneHost || c.name === oldDomain)
      .map((c) => Date.parse(c.notAfter)),
  );
  await Bun.sleep(Math.max(0, expiry - Date.now()) + 1100);
  await tls.certs.sync();
  expect(await deps.store.certificates.get(goneHost)).toBeNull();
  expect(await deps.store.certificates.get(oldDomain)).toBeNull();
  const names = (await deps.store.certificates.list()).map((c) => c.name);
  expect(names).toContain(keptHost);
  expect(names).toContain(newDomain);
  const deleted = lines.filter(
    (l) => l.msg === "tls: expired certificate of a host no longer served deleted",
  );
  expect(deleted.map((l) => l.name).sort()).toEqual([goneHost, oldDomain].sort());
  // Serving goes on for what is wanted.
  expect((await tlsGet(tls.port, keptHost, root)).error).toBeNull();
}, 60_000);

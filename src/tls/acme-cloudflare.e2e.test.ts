// Automatic HTTPS with ACME_DNS_PROVIDER=cloudflare against Pebble: the provider speaks Cloudflare's v4 API to a
// stand-in (src/testing/fake-cloudflare.ts) that publishes the records in the DNS server Pebble validates against, so
// the `*.<BASE_DOMAIN>` wildcard is really proven; a wrong API token is logged and gets no certificate.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { createApi } from "../api/app.ts";
import type { Deps } from "../deps.ts";
import { createLogger } from "../observe/log.ts";
import { createProxy, type SiteProxy } from "../proxy/proxy.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { type FakeCloudflare, startFakeCloudflare } from "../testing/fake-cloudflare.ts";
import { freePort, type Pebble, startPebble } from "../testing/pebble.ts";
import { deploySite, siteProject } from "../testing/sites.ts";
import { tlsGet } from "../testing/tls-client.ts";
import { openDnsProvider } from "./dns.ts";
import { type RunningTls, startTls } from "./start.ts";

const BASE = "example.test";
const TOKEN = "cf-token-Zone.DNS.Edit";
let pebble: Pebble;
let cloudflare: FakeCloudflare;
let root = "";

interface Running {
  deps: Deps;
  proxy: SiteProxy;
  tls: RunningTls;
  /** The process's log lines, parsed (LOG_FORMAT=json). */
  lines: { level: string; msg: string; [field: string]: unknown }[];
}
const running: Running[] = [];

/** A proxy process (in process, its own embedded store) with the Cloudflare provider and `token`. */
async function start(token: string): Promise<Running> {
  const deps = await testDeps({
    MINIVERCEL_ROLE: "proxy",
    BASE_DOMAIN: BASE,
    LISTEN_HOST: "127.0.0.1",
    HTTPS_PORT: "0",
    ACME_DIRECTORY_URL: pebble.directoryUrl,
    ACME_EMAIL: "ops@example.test",
    ACME_CA_FILE: pebble.caFile,
    ACME_CHALLENGE: "dns-01",
    ACME_DNS_PROVIDER: "cloudflare",
    CLOUDFLARE_API_TOKEN: token,
    CLOUDFLARE_API_URL: cloudflare.apiUrl,
    ACME_DNS_WAIT_SECONDS: "0",
  });
  const https = deps.config.https;
  if (!https) throw new Error("ACME settings did not turn HTTPS on");
  const lines: Running["lines"] = [];
  const log = createLogger({
    format: "json",
    level: "debug",
    write: (line) => lines.push(JSON.parse(line)),
  });
  const proxy = await createProxy(deps);
  const api = createApi(deps);
  const tls = await startTls({ ...deps, log }, https, {
    sites: proxy.fetch,
    route: proxy.route,
    dashboard: (r) => api.handle(r),
  });
  const started = { deps, proxy, tls, lines };
  running.push(started);
  return started;
}

beforeAll(async () => {
  pebble = await startPebble({ httpPort: freePort() });
  root = await pebble.root();
  cloudflare = startFakeCloudflare({
    token: TOKEN,
    zone: BASE,
    async publish(name, values) {
      await pebble.clearTxt(`${name}.`);
      for (const value of values) await pebble.setTxt(`${name}.`, value);
    },
  });
}, 120_000);

afterAll(async () => {
  for (const { tls, proxy, deps } of running) {
    await tls.stop();
    await proxy.stop();
    await deps.close();
  }
  await cloudflare?.stop();
  await pebble?.stop();
});

test("the wildcard is proven through Cloudflare's API: zone found, TXT record created, validated, deleted", async () => {
  const { deps, tls, lines } = await start(TOKEN);
  const { user } = await testUser(deps);
  const project = await siteProject(deps, user.id);
  await deploySite(deps, project, { "index.html": "<h1>via cloudflare</h1>" });
  await tls.certs.sync();
  const wildcard = tls.certs.served(`*.${BASE}`);
  expect(wildcard).not.toBeNull();

  const zone = `/client/v4/zones/${cloudflare.zoneId}/dns_records`;
  expect(cloudflare.calls).toContain("GET /client/v4/zones");
  expect(cloudflare.calls).toContain(`POST ${zone}`);
  expect(cloudflare.calls.some((c) => c.startsWith(`DELETE ${zone}/`))).toBe(true);
  // Cloudflare's TXT content is quoted character-strings; the record is gone once the CA has validated.
  expect(cloudflare.created).toHaveLength(1);
  expect(cloudflare.created[0]?.name).toBe(`_acme-challenge.${BASE}`);
  expect(cloudflare.created[0]?.content).toMatch(/^"[A-Za-z0-9_-]{43}"$/);
  expect(cloudflare.records()).toEqual([]);
  expect(lines.find((l) => l.msg === "tls: certificate issued")).toMatchObject({
    level: "info",
    role: "tls",
    name: `*.${BASE}`,
    serial: wildcard?.serial,
  });

  const site = await tlsGet(tls.port, `${project.subDomain}.${BASE}`, root);
  expect(site.error).toBeNull();
  expect(site.altNames).toBe(`DNS:*.${BASE}`);
  expect(site.serial).toBe(wildcard?.serial ?? "");
  expect(site.body).toContain("via cloudflare");
}, 120_000);

test("a wrong API token: a clear error in the log, no record, no certificate", async () => {
  const { deps, tls, lines } = await start("not-the-token");
  await tls.certs.sync();
  expect(tls.certs.served(`*.${BASE}`)).toBeNull();
  expect(await deps.store.certificates.get(`*.${BASE}`)).toBeNull();
  expect(cloudflare.records()).toEqual([]);
  const failure = lines.find((l) => l.msg === "tls: ordering a certificate failed");
  expect(failure).toMatchObject({ level: "error", role: "tls", name: `*.${BASE}` });
  const error = failure?.error as { message?: string } | undefined;
  expect(error?.message).toContain("Cloudflare GET /zones: HTTP 403 10000: Authentication error");
  // The token itself never reaches the log.
  expect(JSON.stringify(lines)).not.toContain("not-the-token");
  // Handshakes are refused rather than served with nothing.
  const answer = await tlsGet(tls.port, `dashboard.${BASE}`, root);
  expect(answer.error).not.toBeNull();
}, 120_000);

test("cleanup after a restart finds the record by name and removes only the matching value", async () => {
  const config = { kind: "cloudflare" as const, apiToken: TOKEN, zoneId: null, apiUrl: cloudflare.apiUrl };
  const fqdn = `_acme-challenge.restart.${BASE}.`;
  await openDnsProvider(config, 0).present(fqdn, "value-one");
  await openDnsProvider(config, 0).present(fqdn, "value-two");
  expect(cloudflare.records().filter((r) => r.name === fqdn.slice(0, -1))).toHaveLength(2);
  // A fresh provider (as after a restart) knows no record ids.
  await openDnsProvider(config, 0).cleanup(fqdn, "value-one");
  expect(cloudflare.records().map((r) => r.content)).toEqual(['"value-two"']);
  await openDnsProvider(config, 0).cleanup(fqdn, "value-two");
  expect(cloudflare.records()).toEqual([]);
});

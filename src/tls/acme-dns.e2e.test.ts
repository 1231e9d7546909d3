// Automatic HTTPS with ACME_CHALLENGE=dns-01 against Pebble: one `*.<BASE_DOMAIN>` wildcard proven through the
// httpreq DNS protocol (here an adapter onto pebble-challtestsrv's DNS, standing in for the operator's DNS host),
// covering every project host and the dashboard host without a further order.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { createApi } from "../api/app.ts";
import type { Deps } from "../deps.ts";
import { deploymentHostId } from "../model/urls.ts";
import { createProxy, type SiteProxy } from "../proxy/proxy.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { freePort, type Pebble, startPebble } from "../testing/pebble.ts";
import { deploySite, siteProject } from "../testing/sites.ts";
import { tlsGet } from "../testing/tls-client.ts";
import { type RunningTls, startTls } from "./start.ts";

const BASE = "example.test";
let pebble: Pebble;
let dnsHost: ReturnType<typeof Bun.serve>;
let deps: Deps;
let proxy: SiteProxy;
let tls: RunningTls;
let root = "";
const calls: string[] = [];

beforeAll(async () => {
  pebble = await startPebble({ httpPort: freePort() });
  root = await pebble.root();
  // lego's httpreq protocol, with basic auth, onto the DNS server Pebble validates against.
  dnsHost = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      if (request.headers.get("authorization") !== `Basic ${btoa("acme:s3cret")}`)
        return new Response("unauthorized", { status: 401 });
      const { fqdn, value } = (await request.json()) as { fqdn: string; value: string };
      const action = new URL(request.url).pathname;
      calls.push(`${action} ${fqdn}`);
      if (action === "/present") await pebble.setTxt(fqdn, value);
      else if (action === "/cleanup") await pebble.clearTxt(fqdn);
      else return new Response("not found", { status: 404 });
      return new Response("ok");
    },
  });
  deps = await testDeps({
    MINIVERCEL_ROLE: "proxy",
    BASE_DOMAIN: BASE,
    LISTEN_HOST: "127.0.0.1",
    HTTPS_PORT: "0",
    ACME_DIRECTORY_URL: pebble.directoryUrl,
    ACME_EMAIL: "ops@example.test",
    ACME_CA_FILE: pebble.caFile,
    ACME_CHALLENGE: "dns-01",
    ACME_DNS_PROVIDER: "httpreq",
    ACME_DNS_HTTPREQ_URL: `http://127.0.0.1:${dnsHost.port}`,
    ACME_DNS_HTTPREQ_USERNAME: "acme",
    ACME_DNS_HTTPREQ_PASSWORD: "s3cret",
    ACME_DNS_WAIT_SECONDS: "0",
  });
  const https = deps.config.https;
  if (!https) throw new Error("ACME settings did not turn HTTPS on");
  proxy = await createProxy(deps);
  const api = createApi(deps);
  tls = await startTls(deps, https, {
    sites: proxy.fetch,
    route: proxy.route,
    dashboard: (r) => api.handle(r),
  });
}, 120_000);

afterAll(async () => {
  await tls?.stop();
  await proxy?.stop();
  await deps?.close();
  await dnsHost?.stop(true);
  await pebble?.stop();
});

test("one wildcard certificate, proven in DNS, serves projects, deployments and the dashboard", async () => {
  const { user } = await testUser(deps);
  const project = await siteProject(deps, user.id);
  const deployment = await deploySite(deps, project, { "index.html": "<h1>wild</h1>" });
  await proxy.reconcile();
  await tls.certs.sync();
  expect(pebble.orders()).toBe(1);
  expect(calls).toEqual([`/present _acme-challenge.${BASE}.`, `/cleanup _acme-challenge.${BASE}.`]);
  const wildcard = tls.certs.served(`*.${BASE}`);
  expect(wildcard).not.toBeNull();

  const site = await tlsGet(tls.port, `${project.subDomain}.${BASE}`, root);
  expect(site.error).toBeNull();
  expect(site.altNames).toBe(`DNS:*.${BASE}`);
  expect(site.body).toContain("wild");
  const immutable = `${project.subDomain}--${deploymentHostId(deployment.id)}.${BASE}`;
  const pinned = await tlsGet(tls.port, immutable, root);
  expect(pinned.serial).toBe(wildcard?.serial ?? "");
  expect(pinned.body).toContain("wild");

  // The dashboard host (dashboard.<BASE_DOMAIN>) is under the wildcard too, and reaches the API here.
  const dashboard = await tlsGet(tls.port, `dashboard.${BASE}`, root, "/api/projects");
  expect(dashboard.serial).toBe(wildcard?.serial ?? "");
  expect(dashboard.status).toBe(401);
  expect(dashboard.body).toContain('"code":"unauthorized"');
  expect(pebble.orders()).toBe(1);
}, 120_000);

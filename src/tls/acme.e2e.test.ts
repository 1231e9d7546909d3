// Automatic HTTPS against Pebble (Let's Encrypt's ACME test server), in process on the embedded store: a
// certificate for a subdomain and for each verified custom domain (a redirecting one too), none for unknown or
// unverified hosts (no order reaches the CA), renewal near expiry, HTTP-01 answers and the redirect on the plain-HTTP port.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { verifyDomain } from "../deploy/domains.ts";
import { addDomain } from "../deploy/project-domains.ts";
import type { Deps } from "../deps.ts";
import { createProxy, type SiteProxy } from "../proxy/proxy.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { freePort, type Pebble, startPebble } from "../testing/pebble.ts";
import { deploySite, siteProject } from "../testing/sites.ts";
import { tlsGet, tlsRequest } from "../testing/tls-client.ts";
import { createAcmeIssuer } from "./acme.ts";
import { createCertManager } from "./certificates.ts";
import { createHostPolicy } from "./hosts.ts";
import { httpFront } from "./https.ts";
import { type RunningTls, startTls } from "./start.ts";

const BASE = "example.test";
let pebble: Pebble;
let deps: Deps;
let proxy: SiteProxy;
let plain: ReturnType<typeof Bun.serve>;
let tls: RunningTls;
let root = "";
let userId = "";

beforeAll(async () => {
  const httpPort = freePort();
  // Certificates valid 20 days: not due with ACME_RENEW_DAYS=10 here, due for the renewal case's 30.
  pebble = await startPebble({ httpPort, validitySeconds: 20 * 86_400 });
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
    ACME_RENEW_DAYS: "10",
    DNS_RESOLVERS: pebble.dnsServer,
  });
  const https = deps.config.https;
  if (!https) throw new Error("ACME settings did not turn HTTPS on");
  // As src/roles.ts wires it: a request that came through the TLS front is https (redirects say so).
  proxy = await createProxy(
    deps,
    {},
    {
      runtime: () => {
        throw new Error("no functions in this test");
      },
      secure: (request) => tls?.clientOf(request) != null,
    },
  );
  // The plain-HTTP listener as src/roles.ts runs it with ACME on: Pebble validates HTTP-01 here.
  plain = Bun.serve({
    hostname: "127.0.0.1",
    port: httpPort,
    fetch: httpFront(() => tls.port, deps.store.certificates),
  });
  tls = await startTls(deps, https, { sites: proxy.fetch, route: proxy.route, dashboard: null });
  userId = (await testUser(deps)).user.id;
}, 120_000);

afterAll(async () => {
  await tls?.stop();
  await plain?.stop(true);
  await proxy?.stop();
  await deps?.close();
  await pebble?.stop();
});

test("a project's subdomain gets a certificate from the CA and is served over HTTPS", async () => {
  const project = await siteProject(deps, userId);
  await deploySite(deps, project, { "index.html": "<h1>secure hello</h1>" });
  // Routes reach the proxy through the bus; a handshake right after the deploy must not race that.
  await proxy.reconcile();
  const host = `${project.subDomain}.${BASE}`;
  const answer = await tlsGet(tls.port, host, root);
  expect(answer.error).toBeNull();
  expect(answer.altNames).toBe(`DNS:${host}`);
  expect(answer.status).toBe(200);
  expect(answer.body).toContain("secure hello");
  // Stored for every other proxy process, with the key sealed.
  const stored = await deps.store.certificates.get(host);
  expect(stored?.certPem).toContain("BEGIN CERTIFICATE");
  expect(stored?.keySealed.startsWith("v1:")).toBe(true);
  expect(stored?.keySealed).not.toContain("PRIVATE KEY");
  expect(tls.certs.served(host)?.serial).toBe(answer.serial ?? "");
});

test("an unknown host gets no certificate and the CA sees no order", async () => {
  const before = pebble.orders();
  for (const host of [`nobody-here.${BASE}`, "unrelated.example.org", `ghost--0123456789ab.${BASE}`]) {
    const answer = await tlsGet(tls.port, host, root);
    expect(answer.error).not.toBeNull();
    expect(answer.serial).toBeNull();
  }
  expect(pebble.orders()).toBe(before);
  expect(await deps.store.certificates.get(`nobody-here.${BASE}`)).toBeNull();
});

test("a custom domain gets a certificate only once its ownership is verified", async () => {
  const domain = `www.shop-${crypto.randomUUID().slice(0, 6)}.test`;
  const project = await siteProject(deps, userId, { customDomain: domain });
  await deploySite(deps, project, { "index.html": "<h1>the shop</h1>" });
  const before = pebble.orders();
  const refused = await tlsGet(tls.port, domain, root);
  expect(refused.error).not.toBeNull();
  expect(pebble.orders()).toBe(before);

  // The owner publishes the TXT record the platform asks for; verification reads it from DNS.
  await pebble.setTxt(`_minivercel.${domain}.`, `minivercel-verify=${project.domainToken}`);
  await verifyDomain(deps, userId, project.id);
  await proxy.reconcile();
  const answer = await tlsGet(tls.port, domain, root);
  expect(answer.error).toBeNull();
  expect(answer.altNames).toBe(`DNS:${domain}`);
  expect(answer.body).toContain("the shop");
  expect(pebble.orders()).toBe(before + 1);
});

test("an apex and its www: each gets its certificate once verified on its own; the apex redirects over HTTPS", async () => {
  const apex = `shop-${crypto.randomUUID().slice(0, 6)}.test`;
  const project = await siteProject(deps, userId);
  await deploySite(deps, project, { "index.html": "<h1>both names</h1>" });
  await addDomain(deps, deps.config, userId, project.id, { name: apex, www: true });
  const before = pebble.orders();
  for (const host of [apex, `www.${apex}`]) expect((await tlsGet(tls.port, host, root)).error).not.toBeNull();
  expect(pebble.orders()).toBe(before);

  // The www name first: it is served; the apex (still unverified) gets nothing yet.
  await pebble.setTxt(`_minivercel.www.${apex}.`, `minivercel-verify=${project.domainToken}`);
  await verifyDomain(deps, userId, project.id, `www.${apex}`);
  await proxy.reconcile();
  const www = await tlsGet(tls.port, `www.${apex}`, root);
  expect([www.error, www.altNames, www.body]).toEqual([null, `DNS:www.${apex}`, "<h1>both names</h1>"]);
  expect((await tlsGet(tls.port, apex, root)).error).not.toBeNull();

  await pebble.setTxt(`_minivercel.${apex}.`, `minivercel-verify=${project.domainToken}`);
  await verifyDomain(deps, userId, project.id, apex);
  await proxy.reconcile();
  const redirected = await tlsRequest(tls.port, apex, root, { path: "/docs/page?ref=1" });
  expect([redirected.error, redirected.altNames, redirected.status]).toEqual([null, `DNS:${apex}`, 308]);
  expect(redirected.headers).toContainEqual(["location", `https://www.${apex}/docs/page?ref=1`]);
  expect(pebble.orders()).toBe(before + 2);
});

test("the plain-HTTP port redirects to https and answers only pending challenges", async () => {
  const res = await fetch(`http://127.0.0.1:${plain.port}/docs/?a=1`, {
    headers: { host: `site.${BASE}` },
    redirect: "manual",
  });
  expect(res.status).toBe(301);
  expect(res.headers.get("location")).toBe(`https://site.${BASE}:${tls.port}/docs/?a=1`);
  const missing = await fetch(`http://127.0.0.1:${plain.port}/.well-known/acme-challenge/not-a-token`);
  expect(missing.status).toBe(404);
  await deps.store.certificates.putChallenge(
    "tok-1",
    "tok-1.thumbprint",
    new Date(Date.now() + 60_000).toISOString(),
  );
  const pending = await fetch(`http://127.0.0.1:${plain.port}/.well-known/acme-challenge/tok-1`);
  expect(await pending.text()).toBe("tok-1.thumbprint");
});

test("eager names are ordered by the sync loop; a certificate is renewed only when near expiry", async () => {
  const project = await siteProject(deps, userId);
  await proxy.reconcile();
  const host = `${project.subDomain}.${BASE}`;
  await tls.certs.sync();
  const first = tls.certs.served(host);
  expect(first).not.toBeNull();

  // 20 days left, ACME_RENEW_DAYS=10: nothing to do.
  const before = pebble.orders();
  await tls.certs.sync();
  expect(pebble.orders()).toBe(before);
  expect(tls.certs.served(host)?.serial).toBe(first?.serial ?? "");

  // Another process whose ACME_RENEW_DAYS is 30 finds the same certificates due and renews them.
  const https = { ...(deps.config.https ?? never()), renewDays: 30 };
  const issuer = createAcmeIssuer({
    https,
    certificates: deps.store.certificates,
    sealer: deps.sealer,
    dns: null,
  });
  const policy = createHostPolicy({
    https,
    sitesDomain: BASE,
    store: deps.store,
    route: proxy.route,
    dashboard: false,
  });
  const renewer = createCertManager({
    https,
    certificates: deps.store.certificates,
    sealer: deps.sealer,
    issuer,
    policy,
    log: deps.log,
  });
  try {
    await renewer.sync();
  } finally {
    await renewer.stop();
  }
  const renewed = renewer.served(host);
  expect(renewed?.serial).not.toBe(first?.serial ?? "");
  expect(pebble.orders()).toBeGreaterThan(before);
  // This process picks the renewed certificate up from the store and presents it.
  await tls.certs.sync();
  expect(tls.certs.served(host)?.serial).toBe(renewed?.serial ?? "");
  const answer = await tlsGet(tls.port, host, root);
  expect(answer.error).toBeNull();
  expect(answer.serial).toBe(renewed?.serial ?? "");
}, 120_000);

function never(): never {
  throw new Error("HTTPS is not configured");
}

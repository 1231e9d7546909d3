// Several custom domains per project through the proxy's handler: each verified one serves production, one set to
// redirect answers with its status and the same path and query on its target, and an unverified one is unknown.
// Automatic HTTPS (src/tls/hosts.ts) orders a certificate for exactly the verified ones.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Deps } from "../deps.ts";
import type { Project } from "../model/entities.ts";
import { apiClient, type Client, testDeps, testUser } from "../testing/deps.ts";
import { deploySite, eventually, request, siteProject } from "../testing/sites.ts";
import { createHostPolicy } from "../tls/hosts.ts";
import { createProxy, type SiteProxy } from "./proxy.ts";

let deps: Deps;
let proxy: SiteProxy;
let api: Client;
let project: Project;
const apex = `shop-${crypto.randomUUID().slice(0, 8)}.example.com`;
const alias = `store-${crypto.randomUUID().slice(0, 8)}.example.net`;
const legacy = `old-${crypto.randomUUID().slice(0, 8)}.example.org`;
const pending = `pending-${crypto.randomUUID().slice(0, 8)}.example.com`;

beforeAll(async () => {
  // DOMAIN_VERIFICATION=off: a domain added through the API is verified (and served) at once.
  deps = await testDeps({ DOMAIN_VERIFICATION: "off" });
  proxy = await createProxy(deps);
  const { user, token } = await testUser(deps);
  api = apiClient(deps, token);
  project = await siteProject(deps, user.id);
  await deploySite(deps, project, { "index.html": "<h1>shop</h1>", "docs/a.html": "<p>a</p>" });
  const path = `/api/projects/${project.id}/domains`;
  expect((await api("POST", path, { name: apex, www: true })).status).toBe(201);
  expect((await api("POST", path, { name: alias })).status).toBe(201);
  expect(
    (await api("POST", path, { name: legacy, redirectTo: `www.${apex}`, redirectStatus: 301 })).status,
  ).toBe(201);
  // Claimed straight in the store, without trust: not verified, so not served.
  await deps.store.domains.add(project.id, { name: pending });
  await proxy.reconcile();
});
afterAll(async () => {
  await proxy.stop();
  await deps.close();
});

describe("a project's custom domains at the proxy", () => {
  test("every verified serving domain answers with the production deployment", async () => {
    for (const host of [`www.${apex}`, alias]) {
      const res = await request(proxy, `http://${host}/`);
      expect([host, res.status, await res.text()]).toEqual([host, 200, "<h1>shop</h1>"]);
    }
  });

  test("a redirecting domain keeps the path and query, and answers with its status (308 by default)", async () => {
    const res = await request(proxy, `http://${apex}/docs/a?ref=mail&utm=%20x#top`);
    expect(res.status).toBe(308);
    expect(res.headers.get("location")).toBe(`http://www.${apex}/docs/a?ref=mail&utm=%20x`);
    expect(await res.text()).toBe("");
    const chosen = await request(proxy, `http://${legacy}/`, { method: "POST" });
    expect([chosen.status, chosen.headers.get("location")]).toEqual([301, `http://www.${apex}/`]);
    // The visitor's port stays (a proxy without TLS on :8001), and so does the scheme.
    const port = await proxy.fetch(
      new Request(`http://${apex}:8001/x`, { headers: { host: `${apex}:8001` } }),
    );
    expect(port.headers.get("location")).toBe(`http://www.${apex}:8001/x`);
  });

  test("an unverified domain is unknown; a removed redirect target makes its redirecting domain serve", async () => {
    const unknown = await request(proxy, `http://${pending}/`);
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).not.toContain("shop");

    // A change reaches the proxy through the route announcement, without a reconcile.
    expect((await api("DELETE", `/api/projects/${project.id}/domains/www.${apex}`)).status).toBe(204);
    await eventually(async () => {
      const res = await request(proxy, `http://${apex}/`);
      expect([res.status, await res.text()]).toEqual([200, "<h1>shop</h1>"]);
    });
    expect((await request(proxy, `http://${legacy}/`)).status).toBe(200);
    expect((await request(proxy, `http://www.${apex}/`)).status).toBe(404);
    // And back: the apex redirects again once www is added back and the redirect set.
    await api("POST", `/api/projects/${project.id}/domains`, { name: `www.${apex}` });
    await api("PATCH", `/api/projects/${project.id}/domains/${apex}`, { redirectTo: `www.${apex}` });
    await eventually(async () => expect((await request(proxy, `http://${apex}/`)).status).toBe(308));
  });

  test("a redirect to a domain not verified yet serves the site until the target is verified", async () => {
    const name = `later-${crypto.randomUUID().slice(0, 8)}.example.com`;
    const target = `www.${name}`;
    await deps.store.domains.add(project.id, { name });
    await deps.store.domains.markVerified(project.id, name);
    await deps.store.domains.add(project.id, { name: target });
    expect(await deps.store.domains.setRedirect(project.id, name, target)).not.toBeNull();
    await proxy.reconcile();
    const before = await request(proxy, `http://${name}/docs/a`);
    expect([before.status, await before.text()]).toEqual([200, "<p>a</p>"]);
    await deps.store.domains.markVerified(project.id, target);
    await proxy.reconcile();
    await eventually(async () => {
      const after = await request(proxy, `http://${name}/docs/a`);
      expect([after.status, after.headers.get("location")]).toEqual([308, `http://${target}/docs/a`]);
    });
  });

  test("automatic HTTPS orders certificates for every verified domain, redirecting ones too, and no other", async () => {
    const policy = createHostPolicy({
      https: {
        directoryUrl: "https://acme.invalid/directory",
        email: "ops@example.com",
        port: 443,
        caFile: null,
        renewDays: 30,
        challenge: "http-01",
        dns: null,
        dnsWaitSeconds: 0,
        dashboardHost: "dashboard.localhost",
        dashboardUpstream: null,
      },
      sitesDomain: deps.config.sitesDomain,
      store: deps.store,
      route: proxy.route,
      dashboard: false,
    });
    await proxy.reconcile();
    for (const host of [`www.${apex}`, apex, alias, legacy])
      expect([host, await policy.isKnown(host)]).toEqual([host, true]);
    for (const host of [pending, `other.${apex}`, "unknown.example.com"])
      expect([host, await policy.isKnown(host)]).toEqual([host, false]);
    const eager = await policy.eagerNames();
    expect(eager).toEqual(expect.arrayContaining([`www.${apex}`, apex, alias, legacy]));
    expect(eager).not.toContain(pending);
  });
});

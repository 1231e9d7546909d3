// SITES_DOMAIN: sites on a registrable domain of their own, apart from the dashboard's (BASE_DOMAIN), as
// vercel.app and netlify.app are. Every site URL and host lookup uses it; custom domains may be under neither.

import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Deps } from "../deps.ts";
import { apiClient, obj, testDeps, testUser } from "../testing/deps.ts";
import { deploySite, request, siteProject } from "../testing/sites.ts";
import { createProxy, type SiteProxy } from "./proxy.ts";

let deps: Deps;
let proxy: SiteProxy;

beforeAll(async () => {
  deps = await testDeps({ BASE_DOMAIN: "platform.test", SITES_DOMAIN: "platform-sites.test" });
  proxy = await createProxy(deps);
});
afterAll(async () => {
  await proxy.stop();
  await deps.close();
});

test("sites are served and linked under SITES_DOMAIN, and no longer under BASE_DOMAIN", async () => {
  const { user, token } = await testUser(deps);
  const project = await siteProject(deps, user.id);
  const d = await deploySite(deps, project, { "index.html": "<h1>apart</h1>" });
  await proxy.reconcile();
  const api = apiClient(deps, token);
  const shown = obj((await api("GET", `/api/projects/${project.id}`)).body);
  expect(shown.productionUrl).toBe(`http://${project.subDomain}.platform-sites.test:8001`);
  const deployment = obj((await api("GET", `/api/deployments/${d.id}`)).body);
  expect(String(deployment.url)).toEndWith(".platform-sites.test:8001");

  const onSites = await request(proxy, `http://${project.subDomain}.platform-sites.test/`);
  expect(await onSites.text()).toBe("<h1>apart</h1>");
  const onBase = await request(proxy, `http://${project.subDomain}.platform.test/`);
  expect(onBase.status).toBe(404);
  expect(await onBase.text()).not.toContain("apart");
});

test("a custom domain under either platform domain is refused", async () => {
  const { token } = await testUser(deps);
  const api = apiClient(deps, token);
  for (const customDomain of ["www.platform.test", "shop.platform-sites.test"]) {
    const res = await api("POST", "/api/projects", { name: "mine", customDomain });
    expect(res.status).toBe(422);
    expect(obj(obj(res.body).error).field).toBe("customDomain");
  }
});

// Custom domain verification through the API, against a real DNS server (pebble-challtestsrv).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createDashboard } from "../dashboard/app.ts";
import type { Deps } from "../deps.ts";
import { apiClient, type Client, obj, testDeps, testUser } from "../testing/deps.ts";
import { startTestDns, type TestDns } from "../testing/dns.ts";
import { signIn, Visitor } from "../testing/visitor.ts";

let dns: TestDns;
let deps: Deps;
let alice: Client;
let bob: Client;

beforeAll(async () => {
  dns = await startTestDns();
  deps = await testDeps({ DNS_RESOLVERS: dns.resolver });
  alice = apiClient(deps, (await testUser(deps)).token);
  bob = apiClient(deps, (await testUser(deps)).token);
});

afterAll(async () => {
  await deps.close();
  dns.stop();
});

const domainName = () => `www.${crypto.randomUUID().slice(0, 8)}.example.com`;

async function createWithDomain(client: Client, customDomain: string) {
  const created = await client("POST", "/api/projects", {
    name: `d-${crypto.randomUUID().slice(0, 6)}`,
    customDomain,
  });
  expect(created.status).toBe(201);
  return obj(created.body);
}

describe("custom domain verification", () => {
  test("a project shows the TXT record to publish, and is verified once DNS carries it", async () => {
    const domain = domainName();
    const project = await createWithDomain(alice, domain);
    expect(project.customDomainVerifiedAt).toBeNull();
    const record = obj(project.domainVerification);
    expect(record.type).toBe("TXT");
    expect(record.name).toBe(`_minivercel.${domain}`);
    expect(String(record.value)).toMatch(/^minivercel-verify=[0-9a-f]{32}$/);
    const verify = () => alice("POST", `/api/projects/${project.id}/domain/verify`);

    const missing = await verify();
    expect(missing.status).toBe(422);
    const missingError = obj(obj(missing.body).error);
    expect(missingError.code).toBe("validation_failed");
    expect(String(missingError.message)).toContain("no TXT record");
    expect(String(missingError.message)).toContain(String(record.value));

    await dns.setTxt(String(record.name), "minivercel-verify=someone-elses-token");
    const wrong = await verify();
    expect(wrong.status).toBe(422);
    expect(String(obj(obj(wrong.body).error).message)).toContain("someone-elses-token");
    expect(obj((await alice("GET", `/api/projects/${project.id}`)).body).customDomainVerifiedAt).toBeNull();

    await dns.clearTxt(String(record.name));
    await dns.setTxt(String(record.name), String(record.value));
    const ok = await verify();
    expect(ok.status).toBe(200);
    expect(typeof obj(ok.body).customDomainVerifiedAt).toBe("string");
    const stored = await deps.store.projects.find(String(project.id));
    expect(stored?.customDomainVerifiedAt).not.toBeNull();
    // Verifying again is a no-op success.
    expect((await verify()).status).toBe(200);

    // Changing the domain needs a new proof; the record name follows the domain.
    const moved = await alice("PATCH", `/api/projects/${project.id}`, {
      customDomain: `shop.${domain.slice(4)}`,
    });
    expect(obj(moved.body).customDomainVerifiedAt).toBeNull();
    expect(obj(obj(moved.body).domainVerification).name).toBe(`_minivercel.shop.${domain.slice(4)}`);
  });

  test("another user can neither verify nor see the project", async () => {
    const project = await createWithDomain(alice, domainName());
    const record = obj(project.domainVerification);
    await dns.setTxt(String(record.name), String(record.value));
    const attempt = await bob("POST", `/api/projects/${project.id}/domain/verify`);
    expect(attempt.status).toBe(404);
    expect((await deps.store.projects.find(String(project.id)))?.customDomainVerifiedAt).toBeNull();
  });

  test("a project without a custom domain has nothing to verify", async () => {
    const created = await alice("POST", "/api/projects", { name: `n-${crypto.randomUUID().slice(0, 6)}` });
    const project = obj(created.body);
    expect(project.domainVerification).toBeNull();
    const attempt = await alice("POST", `/api/projects/${project.id}/domain/verify`);
    expect(attempt.status).toBe(422);
    expect(String(obj(obj(attempt.body).error).message)).toContain("no custom domain");
  });

  test("DOMAIN_VERIFICATION=off trusts a domain as soon as it is saved", async () => {
    const trusting = await testDeps({ DOMAIN_VERIFICATION: "off" });
    try {
      const client = apiClient(trusting, (await testUser(trusting)).token);
      const project = await createWithDomain(client, domainName());
      expect(typeof project.customDomainVerifiedAt).toBe("string");
      const changed = await client("PATCH", `/api/projects/${project.id}`, { customDomain: domainName() });
      expect(typeof obj(changed.body).customDomainVerifiedAt).toBe("string");
    } finally {
      await trusting.close();
    }
  });

  test("the dashboard shows the record to create, verifies inline, then shows the domain verified", async () => {
    const v = new Visitor(createDashboard(deps));
    const user = await signIn(deps.store, v);
    const domain = domainName();
    const project = await deps.store.projects.create({
      userId: user.id,
      name: "Shop",
      gitUrl: null,
      subDomain: `shop-${crypto.randomUUID().slice(0, 6)}`,
      customDomain: domain,
      productionBranch: "main",
      rootDirectory: null,
      installCommand: null,
      buildCommand: null,
      outputDirectory: null,
      buildTimeoutSeconds: null,
      spaFallback: false,
      startCommand: null,
      idleTimeoutMinutes: null,
      maxInstances: null,
    });
    const path = `/projects/${project.id}`;
    const page = await v.get(`${path}/settings`);
    expect(page.text).toContain("Not verified");
    expect(page.text).toContain(`_minivercel.${domain}`);
    expect(page.text).toContain(`minivercel-verify=${project.domainToken}`);

    const failed = await v.post(`${path}/domain/verify`);
    expect(failed.status).toBe(422);
    expect(failed.text).toContain("has no TXT record");

    // Without the form's CSRF token nothing happens.
    await dns.setTxt(`_minivercel.${domain}`, `minivercel-verify=${project.domainToken}`);
    const forged = await v.send("POST", `${path}/domain/verify`, { form: {} });
    expect(forged.status).toBe(403);
    expect((await deps.store.projects.find(project.id))?.customDomainVerifiedAt).toBeNull();

    const ok = await v.post(`${path}/domain/verify`);
    expect(ok.status).toBe(303);
    const after = await v.get(`${path}/settings`);
    expect(after.text).toContain('data-verified="true"');
    expect(after.text).not.toContain("minivercel-verify=");
  });
});

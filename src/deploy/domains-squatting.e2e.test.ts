// Custom domain squatting (issue #13): saving someone else's domain first must not block its owner. Through the
// API, dashboard and proxy handlers, against a real DNS server (pebble-challtestsrv).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createDashboard } from "../dashboard/app.ts";
import type { Deps } from "../deps.ts";
import { createProxy, type SiteProxy } from "../proxy/proxy.ts";
import { apiClient, type Client, obj, testDeps, testUser } from "../testing/deps.ts";
import { startTestDns, type TestDns } from "../testing/dns.ts";
import { deploySite, eventually, request } from "../testing/sites.ts";
import { fieldError, signIn, Visitor } from "../testing/visitor.ts";

let dns: TestDns;
let deps: Deps;
let proxy: SiteProxy;

beforeAll(async () => {
  dns = await startTestDns();
  deps = await testDeps({ DNS_RESOLVERS: dns.resolver });
  proxy = await createProxy(deps, { reconcileMs: 60_000 });
});

afterAll(async () => {
  await proxy.stop();
  await deps.close();
  dns.stop();
});

const domainName = () => `www.${crypto.randomUUID().slice(0, 8)}-shop.example.org`;

async function user() {
  const { user, token } = await testUser(deps);
  return { id: user.id, api: apiClient(deps, token) };
}

/** A project with `customDomain` made through the API, with a READY production deployment serving `site`. */
async function deployedProject(client: { id: string; api: Client }, customDomain: string, site: string) {
  const created = await client.api("POST", "/api/projects", {
    name: `p-${crypto.randomUUID().slice(0, 6)}`,
    customDomain,
  });
  expect(created.status).toBe(201);
  const project = obj(created.body);
  const stored = await deps.store.projects.find(String(project.id));
  if (!stored) throw new Error("the created project is not stored");
  await deploySite(deps, stored, { "index.html": site });
  return project;
}

const page = async (host: string) => {
  const res = await request(proxy, `http://${host}/`);
  return { status: res.status, text: await res.text() };
};

const errorOf = (body: unknown) => obj(obj(body).error);

describe("custom domain squatting", () => {
  test("a domain saved first by someone else: its owner still saves, verifies and gets it; the squatter loses it", async () => {
    const [attacker, victim] = [await user(), await user()];
    const domain = domainName();
    const squat = await deployedProject(attacker, domain, "attacker's site");
    const squatPath = `/api/projects/${squat.id}`;

    // Before the fix, this was a 409: the squatter's unverified claim blocked the real owner.
    const real = await deployedProject(victim, domain, "victim's site");
    expect(real.customDomain).toBe(domain);
    expect(real.customDomainVerifiedAt).toBeNull();
    const record = obj(real.domainVerification);
    const squatRecord = obj(squat.domainVerification);
    // Same record name, different values: each project proves with its own token.
    expect(squatRecord.name).toBe(record.name);
    expect(squatRecord.value).not.toBe(record.value);

    // Neither claim is served before a verification.
    expect((await page(domain)).text).toContain("No site here");

    // The owner publishes their record; the squatter's token is not in DNS, so the squatter cannot verify.
    await dns.setTxt(String(record.name), String(record.value));
    const attempt = await attacker.api("POST", `${squatPath}/domain/verify`);
    expect(attempt.status).toBe(422);
    expect(String(errorOf(attempt.body).message)).toContain(String(squatRecord.value));

    const verified = await victim.api("POST", `/api/projects/${real.id}/domain/verify`);
    expect(verified.status).toBe(200);
    expect(typeof obj(verified.body).customDomainVerifiedAt).toBe("string");

    // The squatter's claim is gone, and the domain serves the owner's site.
    const after = obj((await attacker.api("GET", squatPath)).body);
    expect(after.customDomain).toBeNull();
    expect(after.domainVerification).toBeNull();
    await eventually(async () => expect(await page(domain)).toEqual({ status: 200, text: "victim's site" }));

    // And the squatter cannot take it back: not by patching, creating, or verifying again.
    const patched = await attacker.api("PATCH", squatPath, { customDomain: domain });
    expect(patched.status).toBe(409);
    expect(errorOf(patched.body)).toEqual({
      code: "conflict",
      message: "custom domain is already verified by another project",
      field: "customDomain",
    });
    const recreated = await attacker.api("POST", "/api/projects", { name: "again", customDomain: domain });
    expect(recreated.status).toBe(409);
    expect(errorOf(recreated.body).field).toBe("customDomain");
    const again = await attacker.api("POST", `${squatPath}/domain/verify`);
    expect(again.status).toBe(422);
    expect(String(errorOf(again.body).message)).toContain("no custom domain");
    expect(obj((await attacker.api("GET", squatPath)).body).customDomain).toBeNull();
    expect(await page(domain)).toEqual({ status: 200, text: "victim's site" });
  });

  test("two projects verifying one domain at once: one gets it, the other a clear 409", async () => {
    const [a, b] = [await user(), await user()];
    const domain = domainName();
    const projects = [await deployedProject(a, domain, "a"), await deployedProject(b, domain, "b")];
    // Both may publish their record (one DNS owner, two accounts): the name holds two TXT values.
    for (const p of projects) {
      const record = obj(p.domainVerification);
      await dns.setTxt(String(record.name), String(record.value));
    }
    const [ra, rb] = await Promise.all([
      a.api("POST", `/api/projects/${projects[0]?.id}/domain/verify`),
      b.api("POST", `/api/projects/${projects[1]?.id}/domain/verify`),
    ]);
    expect([ra.status, rb.status].sort()).toEqual([200, 409]);
    const loser = ra.status === 409 ? ra : rb;
    expect(errorOf(loser.body)).toEqual({
      code: "conflict",
      message: "custom domain is already verified by another project",
      field: "customDomain",
    });
    const winner = ra.status === 200 ? "a" : "b";
    await eventually(async () => expect(await page(domain)).toEqual({ status: 200, text: winner }));
  });

  test("the dashboard shows the conflict next to the custom domain field", async () => {
    const owner = await user();
    const domain = domainName();
    const held = await deployedProject(owner, domain, "owner's site");
    await deps.store.projects.markDomainVerified(String(held.id), domain);

    const v = new Visitor(createDashboard(deps));
    const squatter = await signIn(deps.store, v);
    const project = await deps.store.projects.create({
      userId: squatter.id,
      name: "Squat",
      gitUrl: null,
      subDomain: `squat-${crypto.randomUUID().slice(0, 6)}`,
      customDomain: null,
      productionBranch: "main",
      rootDirectory: null,
      installCommand: null,
      buildCommand: null,
      outputDirectory: null,
      buildTimeoutSeconds: null,
      spaFallback: true,
      startCommand: null,
      idleTimeoutMinutes: null,
      maxInstances: null,
    });
    const res = await v.post(`/projects/${project.id}/settings`, {
      section: "domains",
      subDomain: project.subDomain,
      customDomain: domain,
    });
    expect(res.status).toBe(409);
    expect(fieldError(res.text, "customDomain")).toBe("Custom domain is already verified by another project");
    expect((await deps.store.projects.find(project.id))?.customDomain).toBeNull();
  });
});

test("DOMAIN_VERIFICATION=off: saving a domain another project has is a 409, as before", async () => {
  const trusting = await testDeps({ DOMAIN_VERIFICATION: "off" });
  try {
    const [alice, bob] = [
      apiClient(trusting, (await testUser(trusting)).token),
      apiClient(trusting, (await testUser(trusting)).token),
    ];
    const domain = domainName();
    const first = await alice("POST", "/api/projects", { name: "first", customDomain: domain });
    expect(first.status).toBe(201);
    expect(typeof obj(first.body).customDomainVerifiedAt).toBe("string");
    const second = await bob("POST", "/api/projects", { name: "second", customDomain: domain });
    expect(second.status).toBe(409);
    expect(errorOf(second.body).field).toBe("customDomain");
    const other = obj((await bob("POST", "/api/projects", { name: "other" })).body);
    const patched = await bob("PATCH", `/api/projects/${other.id}`, { customDomain: domain });
    expect(patched.status).toBe(409);
    expect(obj((await bob("GET", `/api/projects/${other.id}`)).body).customDomain).toBeNull();
  } finally {
    await trusting.close();
  }
});

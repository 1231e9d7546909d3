// `minivercel domains` as a user runs it: real CLI processes against a real API, and a real DNS server.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { resolve } from "node:path";
import type { Deps } from "../deps.ts";
import { type Running, startRoles } from "../roles.ts";
import { apiClient, obj, tempDir, testDeps, testUser } from "../testing/deps.ts";
import { startTestDns, type TestDns } from "../testing/dns.ts";

const MAIN = resolve(import.meta.dir, "..", "main.ts");

let dns: TestDns;
let deps: Deps;
let roles: Running;
let env: Record<string, string>;
let subDomain: string;

beforeAll(async () => {
  dns = await startTestDns();
  deps = await testDeps({
    PORT: "0",
    LISTEN_HOST: "127.0.0.1",
    MINIVERCEL_ROLE: "api",
    DNS_RESOLVERS: dns.resolver,
  });
  roles = await startRoles(deps);
  const { token } = await testUser(deps);
  const created = await apiClient(deps, token)("POST", "/api/projects", { name: "Shop" });
  subDomain = String(obj(created.body).subDomain);
  env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: tempDir("minivercel-cli-home-"),
    MINIVERCEL_URL: (roles.urls.api ?? "").replace("localhost", "127.0.0.1"),
    MINIVERCEL_TOKEN: token,
  };
});

afterAll(async () => {
  await roles.stop();
  await deps.close();
  dns.stop();
});

async function cli(...args: string[]) {
  const proc = Bun.spawn([process.execPath, MAIN, "domains", ...args, "--project", subDomain], {
    cwd: env.HOME,
    env,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { stdout, stderr, code };
}

test("domains: add shows the record to create, verify fails in one line until DNS has it, then passes", async () => {
  const domain = `www.${crypto.randomUUID().slice(0, 8)}.example.com`;
  expect((await cli("ls")).stdout).toContain("has no custom domain");

  const added = await cli("add", domain);
  expect(added.code).toBe(0);
  expect(added.stdout).toContain(`${domain}: not verified yet`);
  const record = /TXT {2}(\S+) {2}"([^"]+)"/.exec(added.stdout);
  expect(record?.[1]).toBe(`_minivercel.${domain}`);

  const early = await cli("verify");
  expect(early.code).toBe(2);
  expect(early.stderr.trim().split("\n")).toHaveLength(1);
  expect(early.stderr).toContain("has no TXT record");

  await dns.setTxt(record?.[1] ?? "", record?.[2] ?? "");
  const verified = await cli("verify");
  expect(verified.code).toBe(0);
  expect(verified.stdout).toContain(`${domain}: verified`);
  expect((await cli("ls")).stdout).toContain("verified");

  const removed = await cli("rm");
  expect(removed.stdout).toContain("has no custom domain");
});

test("domains: add of a domain another project verified fails in one line; one only claimed does not block", async () => {
  const domain = `www.${crypto.randomUUID().slice(0, 8)}.example.com`;
  const other = apiClient(deps, (await testUser(deps)).token);
  const held = obj((await other("POST", "/api/projects", { name: "Other", customDomain: domain })).body);

  // Only claimed (unverified) by the other project: it blocks nobody.
  const claimed = await cli("add", domain);
  expect(claimed.code).toBe(0);
  expect(claimed.stdout).toContain(`${domain}: not verified yet`);
  await cli("rm");

  await deps.store.projects.markDomainVerified(String(held.id), domain);
  const refused = await cli("add", domain);
  expect(refused.code).toBe(2);
  expect(refused.stderr.trim().split("\n")).toHaveLength(1);
  expect(refused.stderr).toContain("custom domain is already verified by another project");
  expect((await cli("ls")).stdout).toContain("has no custom domain");
});

test("domains: an unknown subcommand or a missing domain is a usage error (exit 2)", async () => {
  const unknown = await cli("transfer");
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain("unknown subcommand 'domains transfer'");
  expect((await cli("add")).code).toBe(2);
});

test("domains: several per project; --www pairs an apex with www and redirects it; each is verified on its own", async () => {
  const apex = `${crypto.randomUUID().slice(0, 8)}.example.com`;
  const added = await cli("add", apex, "--www");
  expect(added.code).toBe(0);
  expect(added.stdout).toContain(`www.${apex}: not verified yet`);
  expect(added.stdout).toContain(
    `${apex}: not verified yet, so not served (once verified it redirects to www.${apex} (308))`,
  );
  const alias = `shop.${apex}`;
  expect((await cli("add", alias, "--redirect-to", `www.${apex}`, "--status", "301")).stdout).toContain(
    `redirects to www.${apex} (301)`,
  );
  const bad = await cli("add", `x.${apex}`, "--redirect-to", `www.${apex}`, "--status", "303");
  expect([bad.code, bad.stderr]).toEqual([
    2,
    expect.stringContaining("--status must be 301, 302, 307 or 308, not '303'"),
  ]);
  const loop = await cli("redirect", `www.${apex}`, "--to", apex);
  expect(loop.code).toBe(2);
  expect(loop.stderr.trim().split("\n")).toHaveLength(1);
  expect((await cli("redirect", alias, "--off")).stdout).toContain(`${alias}: not verified yet`);

  // Each domain has its own record; verifying one leaves the others as they are.
  const record = (text: string, name: string) =>
    new RegExp(`TXT {2}_minivercel\\.${name.replaceAll(".", "\\.")} {2}"([^"]+)"`).exec(text)?.[1] ?? "";
  await dns.setTxt(`_minivercel.www.${apex}`, record(added.stdout, `www.${apex}`));
  const one = await cli("verify", `www.${apex}`);
  expect([one.code, one.stdout]).toEqual([0, expect.stringContaining(`www.${apex}: verified`)]);
  const listed = (await cli("ls")).stdout;
  expect(listed).toContain(`www.${apex}: verified`);
  expect(listed).toContain(`${apex}: not verified yet`);
  const rest = await cli("verify");
  expect(rest.code).toBe(2);
  expect(rest.stderr).toContain(`_minivercel.${apex} has no TXT record`);

  const ambiguous = await cli("rm");
  expect([ambiguous.code, ambiguous.stderr]).toEqual([
    2,
    expect.stringContaining("the project has 3 domains; give the DOMAIN to remove"),
  ]);
  for (const name of [alias, apex]) expect((await cli("rm", name)).code).toBe(0);
  expect((await cli("rm", apex)).code).toBe(2);
  expect((await cli("rm")).stdout).toContain("has no custom domain");
}, 60_000);

test("domains: adding the www of an apex the project has offers the pair; --www makes it (no 409)", async () => {
  const apex = `${crypto.randomUUID().slice(0, 8)}.example.com`;
  expect((await cli("add", apex)).code).toBe(0);
  const www = await cli("add", `www.${apex}`);
  expect(www.code).toBe(0);
  expect(www.stdout).toContain(`www.${apex}: not verified yet`);
  expect(www.stdout).toContain(
    `${apex} is a domain of this project too: 'minivercel domains add www.${apex} --www' redirects ${apex} to www.${apex}`,
  );
  const paired = await cli("add", `www.${apex}`, "--www");
  expect([paired.code, paired.stderr]).toEqual([0, ""]);
  expect(paired.stdout).toContain(
    `${apex}: not verified yet, so not served (once verified it redirects to www.${apex} (308))`,
  );
  expect(paired.stdout).not.toContain("is a domain of this project too");
  // Asked again: one line saying they are a pair already, exit 2.
  const again = await cli("add", apex, "--www");
  expect(again.code).toBe(2);
  expect(again.stderr.trim().split("\n")).toHaveLength(1);
  expect(again.stderr).toContain(`${apex} already redirects to www.${apex}: they are a pair`);
  for (const name of [apex, `www.${apex}`]) expect((await cli("rm", name)).code).toBe(0);
}, 60_000);

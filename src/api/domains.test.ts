// /api/projects/:id/domains through the API's handler: several domains per project, the www pair with its
// redirect, per-domain DNS records, the limit, bad input (4xx with what was wrong), and who may change them.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Deps } from "../deps.ts";
import { createApiToken } from "../identity/accounts.ts";
import { MAX_DOMAINS_PER_PROJECT } from "../model/domains.ts";
import { apiClient, type Client, obj, testDeps, testUser } from "../testing/deps.ts";

let deps: Deps;
let dns: { close(): void };
let alice: Client;
let aliceReader: Client;
let bob: Client;

beforeAll(async () => {
  // A resolver that knows no name (NXDOMAIN to every query): verification here can only fail; the e2e tier
  // (src/deploy/domains.e2e.test.ts) checks real records.
  const socket = await Bun.udpSocket({
    hostname: "127.0.0.1",
    socket: {
      data(self, query, port, address) {
        const reply = Buffer.from(query);
        if (reply.length < 12) return;
        reply[2] = 0x80 | ((reply[2] ?? 0) & 0x79);
        reply[3] = 0x83;
        reply.fill(0, 6, 12);
        self.send(reply, port, address);
      },
    },
  });
  dns = socket;
  deps = await testDeps({ DNS_RESOLVERS: `127.0.0.1:${socket.port}` });
  const owner = await testUser(deps);
  alice = apiClient(deps, owner.token);
  aliceReader = apiClient(deps, (await createApiToken(deps.store, owner.user.id, "ro", null, "read")).token);
  bob = apiClient(deps, (await testUser(deps)).token);
});
afterAll(async () => {
  await deps.close();
  dns.close();
});

const apex = () => `shop-${crypto.randomUUID().slice(0, 8)}.example.com`;
const errorOf = (body: unknown) => obj(obj(body).error);
const items = (body: unknown) => obj(body).items as Record<string, unknown>[];

async function project(client: Client, customDomain?: string) {
  const created = await client("POST", "/api/projects", {
    name: `d-${crypto.randomUUID().slice(0, 6)}`,
    ...(customDomain && { customDomain }),
  });
  expect(created.status).toBe(201);
  return String(obj(created.body).id);
}

describe("a project's custom domains", () => {
  test("an apex with its www pair: www serves, the apex redirects to it (308); each has its own record", async () => {
    const id = await project(alice);
    const name = apex();
    const added = await alice("POST", `/api/projects/${id}/domains`, { name: name.toUpperCase(), www: true });
    expect(added.status).toBe(201);
    const [www, bare] = items(added.body);
    expect(www).toMatchObject({
      name: `www.${name}`,
      verifiedAt: null,
      redirectTo: null,
      redirectStatus: null,
    });
    expect(bare).toMatchObject({ name, verifiedAt: null, redirectTo: `www.${name}`, redirectStatus: 308 });
    expect(obj(www?.verification).name).toBe(`_minivercel.www.${name}`);
    expect(obj(bare?.verification).name).toBe(`_minivercel.${name}`);
    expect(obj(bare?.verification).value).toBe(obj(www?.verification).value);
    // The project's customDomain is its first domain, for clients of the single-domain API.
    const shown = obj((await alice("GET", `/api/projects/${id}`)).body);
    expect([shown.customDomain, shown.customDomainVerifiedAt]).toEqual([`www.${name}`, null]);
    expect(items((await alice("GET", `/api/projects/${id}/domains`)).body)).toEqual([www ?? {}, bare ?? {}]);
    // A read-only token reads them, and changes nothing.
    expect((await aliceReader("GET", `/api/projects/${id}/domains`)).status).toBe(200);
    for (const [method, path, body] of [
      ["POST", `/api/projects/${id}/domains`, { name: apex() }],
      ["PATCH", `/api/projects/${id}/domains/${name}`, { redirectTo: null }],
      ["DELETE", `/api/projects/${id}/domains/${name}`, undefined],
      ["POST", `/api/projects/${id}/domains/${name}/verify`, undefined],
    ] as const) {
      const refused = await aliceReader(method, path, body);
      expect([path, refused.status]).toEqual([path, 403]);
    }
    expect(items((await alice("GET", `/api/projects/${id}/domains`)).body)).toHaveLength(2);
  });

  test("redirects: the status is chosen, cleared, and refused to anything but a serving domain of the project", async () => {
    const id = await project(alice);
    const other = await project(alice, `www.${apex()}`);
    const name = apex();
    await alice("POST", `/api/projects/${id}/domains`, { name: `www.${name}` });
    const status = await alice("POST", `/api/projects/${id}/domains`, {
      name,
      redirectTo: `www.${name}`,
      redirectStatus: 302,
    });
    expect(items(status.body)[1]).toMatchObject({ redirectTo: `www.${name}`, redirectStatus: 302 });
    const path = `/api/projects/${id}/domains/${name}`;
    expect(obj((await alice("PATCH", path, { redirectStatus: 301 })).body)).toMatchObject({
      redirectTo: `www.${name}`,
      redirectStatus: 301,
    });
    expect(obj((await alice("PATCH", path, { redirectTo: null })).body)).toMatchObject({
      redirectTo: null,
      redirectStatus: null,
    });
    const otherDomain = String(obj((await alice("GET", `/api/projects/${other}`)).body).customDomain);
    for (const [body, field] of [
      [{ redirectTo: name }, "redirectTo"],
      [{ redirectTo: otherDomain }, "redirectTo"],
      [{ redirectTo: "not a host" }, "redirectTo"],
      [{ redirectStatus: 301 }, "redirectStatus"],
    ] as const) {
      const refused = await alice("PATCH", path, body);
      expect([refused.status, errorOf(refused.body).field]).toEqual([422, field]);
    }
    // Statuses other than 301, 302, 307 and 308 fail the schema.
    expect((await alice("PATCH", path, { redirectTo: `www.${name}`, redirectStatus: 303 })).status).toBe(422);
    expect(
      (await alice("PATCH", `/api/projects/${id}/domains/missing.example.com`, { redirectTo: null })).status,
    ).toBe(404);
    // Removing the target: the domain that redirected to it serves again.
    await alice("PATCH", path, { redirectTo: `www.${name}` });
    expect((await alice("DELETE", `/api/projects/${id}/domains/www.${name}`)).status).toBe(204);
    expect((await alice("DELETE", `/api/projects/${id}/domains/www.${name}`)).status).toBe(404);
    expect(items((await alice("GET", `/api/projects/${id}/domains`)).body)).toMatchObject([
      { name, redirectTo: null },
    ]);
  });

  test("bad names, duplicates and the per-project limit are 4xx that say what was wrong", async () => {
    const id = await project(alice);
    const add = (body: unknown) => alice("POST", `/api/projects/${id}/domains`, body);
    for (const name of ["localhost", "x.localhost", "no_underscores.example.com", "a..example.com"]) {
      const refused = await add({ name });
      expect([name, refused.status, errorOf(refused.body).field]).toEqual([name, 422, "name"]);
    }
    // 251 characters fit, but not with "www." in front.
    const long = `${Array.from({ length: 4 }, () => "a".repeat(61)).join(".")}.com`;
    const tooLong = await add({ name: long, www: true });
    expect([tooLong.status, errorOf(tooLong.body).message]).toEqual([
      422,
      "name must be at most 253 characters",
    ]);
    const both = await add({ name: apex(), www: true, redirectTo: "x.example.com" });
    expect(both.status).toBe(422);
    const unknownTarget = await add({ name: apex(), redirectTo: "elsewhere.example.com" });
    expect([unknownTarget.status, errorOf(unknownTarget.body).field]).toEqual([422, "redirectTo"]);
    expect((await add({ name: "extra-field.example.com", admin: true })).status).toBe(422);

    const first = apex();
    expect((await add({ name: first })).status).toBe(201);
    const twice = await add({ name: first });
    expect([twice.status, errorOf(twice.body).message]).toEqual([
      409,
      `${first} is already a domain of this project`,
    ]);
    for (let i = 1; i < MAX_DOMAINS_PER_PROJECT; i++) expect((await add({ name: apex() })).status).toBe(201);
    const over = await add({ name: apex() });
    expect([over.status, errorOf(over.body).message]).toEqual([
      409,
      `a project may have at most ${MAX_DOMAINS_PER_PROJECT} custom domains; remove one first`,
    ]);
    // The pair counts as two: one place left is not enough for it, and nothing of it is added.
    expect((await alice("DELETE", `/api/projects/${id}/domains/${first}`)).status).toBe(204);
    expect((await add({ name: apex(), www: true })).status).toBe(409);
    expect(items((await alice("GET", `/api/projects/${id}/domains`)).body)).toHaveLength(
      MAX_DOMAINS_PER_PROJECT - 1,
    );
  });

  test("the www pair from a half the project has: either name with www makes it, no 409", async () => {
    const id = await project(alice);
    const add = (body: unknown) => alice("POST", `/api/projects/${id}/domains`, body);
    const of = async (name: string) =>
      items((await alice("GET", `/api/projects/${id}/domains`)).body).find((d) => d.name === name);

    // The apex serves already: asking for its pair adds www (served) and makes the apex redirect to it.
    const a = apex();
    expect((await add({ name: a })).status).toBe(201);
    const paired = await add({ name: a, www: true });
    expect(paired.status).toBe(201);
    expect(await of(`www.${a}`)).toMatchObject({ redirectTo: null });
    expect(await of(a)).toMatchObject({ redirectTo: `www.${a}`, redirectStatus: 308 });
    const again = await add({ name: `www.${a}`, www: true });
    expect([again.status, errorOf(again.body).message]).toEqual([
      409,
      `${a} already redirects to www.${a}: they are a pair`,
    ]);

    // The www serves already: naming it with www adds its apex, redirecting to it.
    const b = apex();
    expect((await add({ name: `www.${b}` })).status).toBe(201);
    expect((await add({ name: `www.${b}`, www: true })).status).toBe(201);
    expect(await of(b)).toMatchObject({ redirectTo: `www.${b}`, redirectStatus: 308 });

    // Both were added on their own: the pair is the redirect between them, with the status asked for.
    const c = apex();
    expect((await add({ name: c })).status).toBe(201);
    expect((await add({ name: `www.${c}` })).status).toBe(201);
    expect((await add({ name: `www.${c}`, www: true, redirectStatus: 301 })).status).toBe(201);
    expect(await of(c)).toMatchObject({ redirectTo: `www.${c}`, redirectStatus: 301 });
    expect(await of(`www.${c}`)).toMatchObject({ redirectTo: null });

    // An apex that redirects elsewhere is left alone (and www is not added): say what to change.
    const d = apex();
    expect((await add({ name: `shop.${d}` })).status).toBe(201);
    expect((await add({ name: d, redirectTo: `shop.${d}` })).status).toBe(201);
    const elsewhere = await add({ name: d, www: true });
    expect([elsewhere.status, errorOf(elsewhere.body)]).toEqual([
      409,
      expect.objectContaining({
        field: "name",
        message: `${d} redirects to shop.${d}; change its redirect to pair it with www.${d}`,
      }),
    ]);
    expect(await of(`www.${d}`)).toBeUndefined();

    // A www whose apex is no host the platform takes: 422 naming the field.
    const bad = await add({ name: "www.x.localhost", www: true });
    expect(bad.status).toBe(422);
    // Someone else's project: 404, nothing changes.
    expect((await bob("POST", `/api/projects/${id}/domains`, { name: a, www: true })).status).toBe(404);
  });

  test("verify answers per domain: 404 for one the project lacks, 422 while DNS does not carry the record", async () => {
    const id = await project(alice);
    const name = apex();
    await alice("POST", `/api/projects/${id}/domains`, { name, www: true });
    expect((await alice("POST", `/api/projects/${id}/domains/elsewhere.example.com/verify`)).status).toBe(
      404,
    );
    const failed = await alice("POST", `/api/projects/${id}/domains/${name}/verify`);
    expect([failed.status, errorOf(failed.body).field]).toEqual([422, "name"]);
    expect(String(errorOf(failed.body).message)).toContain(`_minivercel.${name} has no TXT record`);
  });

  test("the project's customDomain replaces or removes its first domain only", async () => {
    const first = `www.${apex()}`;
    const id = await project(alice, first);
    const second = apex();
    await alice("POST", `/api/projects/${id}/domains`, { name: second });
    const replaced = `www.${apex()}`;
    expect(
      obj((await alice("PATCH", `/api/projects/${id}`, { customDomain: replaced })).body).customDomain,
    ).toBe(replaced);
    const names = async () =>
      items((await alice("GET", `/api/projects/${id}/domains`)).body).map((d) => d.name);
    expect(await names()).toEqual([replaced, second]);
    expect(obj((await alice("PATCH", `/api/projects/${id}`, { customDomain: null })).body).customDomain).toBe(
      second,
    );
    expect(await names()).toEqual([second]);
  });

  test("another account's project: 404 on every domain route, and its domains stay as they are", async () => {
    const name = apex();
    const id = await project(alice, `www.${name}`);
    for (const [method, path, body] of [
      ["GET", `/api/projects/${id}/domains`, undefined],
      ["POST", `/api/projects/${id}/domains`, { name }],
      ["PATCH", `/api/projects/${id}/domains/www.${name}`, { redirectTo: null }],
      ["DELETE", `/api/projects/${id}/domains/www.${name}`, undefined],
      ["POST", `/api/projects/${id}/domains/www.${name}/verify`, undefined],
    ] as const) {
      const refused = await bob(method, path, body);
      expect([path, refused.status, errorOf(refused.body).code]).toEqual([path, 404, "not_found"]);
    }
    expect(items((await alice("GET", `/api/projects/${id}/domains`)).body).map((d) => d.name)).toEqual([
      `www.${name}`,
    ]);
  });
});

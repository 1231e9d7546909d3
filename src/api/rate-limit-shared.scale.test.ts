// Limits across api processes: two APIs, each with its own connection pool to one PostgreSQL database (as two
// api processes of one installation), draw on the same budgets, per user and per address.

import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Deps } from "../deps.ts";
import { obj, testDeps, testUser } from "../testing/deps.ts";
import { type TestDatabase, testDatabase } from "../testing/postgres.ts";
import { createApi } from "./app.ts";

let db: TestDatabase;
const opened: Deps[] = [];

beforeAll(async () => {
  db = await testDatabase();
});
afterAll(async () => {
  for (const deps of opened) await deps.close();
  await db.drop();
});

/** One "api process": its own deps (and pool) over the shared database, callers from a chosen address. */
async function apiProcess(env: Record<string, string>) {
  const deps = await testDeps({ DATABASE_URL: db.url, ...env });
  opened.push(deps);
  await deps.store.migrate();
  const addresses = new WeakMap<Request, string>();
  const api = createApi(deps, { peer: (r) => addresses.get(r) ?? null });
  return {
    deps,
    async call(path: string, token: string | null, from = "198.51.100.7") {
      const request = new Request(`http://localhost${path}`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      addresses.set(request, from);
      const res = await api.handle(request);
      return { status: res.status, headers: res.headers, body: obj(await res.json()) };
    },
  };
}

test("a user's budget is spent across both api processes: the one past it is refused by either", async () => {
  const env = { RATE_LIMIT_IP_PER_MINUTE: "0", RATE_LIMIT_USER_PER_MINUTE: "4" };
  const [one, two] = [await apiProcess(env), await apiProcess(env)];
  const { token } = await testUser(one.deps);
  const statuses = [];
  for (const api of [one, two, one, two]) statuses.push((await api.call("/api/projects", token)).status);
  expect(statuses).toEqual([200, 200, 200, 200]);
  const refused = await two.call("/api/user", token);
  expect(refused.status).toBe(429);
  expect(obj(refused.body.error).code).toBe("rate_limited");
  expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  expect((await one.call("/api/user", token)).status).toBe(429);
  // Another user still has all of theirs.
  const other = await testUser(two.deps);
  expect((await one.call("/api/user", other.token)).status).toBe(200);
});

test("an address's budget too, before anyone is identified", async () => {
  const env = { RATE_LIMIT_IP_PER_MINUTE: "3", RATE_LIMIT_USER_PER_MINUTE: "0" };
  const [one, two] = [await apiProcess(env), await apiProcess(env)];
  const from = "203.0.113.9";
  const statuses = [];
  for (const api of [one, two, one, two]) statuses.push((await api.call("/api/user", null, from)).status);
  // Three unauthenticated calls fit (401 each); the fourth, on either process, is over the address's budget.
  expect(statuses).toEqual([401, 401, 401, 429]);
  expect((await one.call("/api/user", null, "203.0.113.10")).status).toBe(401);
});

// Limits, step 2: sign-in brute force through the dashboard's handler: lockouts per email and per address,
// growing Retry-After, reset on success, and the same answers for emails with and without an account.

import { afterEach, expect, test } from "bun:test";
import type { Env } from "../config/config.ts";
import { createUser } from "../identity/accounts.ts";
import { testDeps } from "../testing/deps.ts";
import { Visitor } from "../testing/visitor.ts";
import { createDashboard } from "./app.ts";

const PASSWORD = "correct horse battery";
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** A dashboard with one account, a movable clock, and visitors that each come from an address of their own. */
async function setup(env: Env = {}) {
  const deps = await testDeps({ LOGIN_MAX_FAILURES: "3", LOGIN_LOCKOUT_SECONDS: "30", ...env });
  cleanup.push(() => deps.close());
  await createUser(deps.store, "owner@example.com", PASSWORD);
  const clock = { now: Date.parse("2030-01-01T00:00:00Z") };
  const app = createDashboard(deps, { peer: (r) => r.headers.get("x-test-peer"), now: () => clock.now });
  const visitor = async (address = "198.51.100.7") => {
    const v = new Visitor(app);
    await v.get("/login");
    return {
      login: (email: string, password: string) =>
        v.post("/login", { email, password }, { "x-test-peer": address }),
    };
  };
  return { deps, clock, visitor };
}

const formError = (html: string) => /class="form-error" role="alert">([^<]*)</.exec(html)?.[1] ?? null;

test("after LOGIN_MAX_FAILURES wrong passwords the email is locked out, for longer after each further failure", async () => {
  const { clock, visitor } = await setup();
  const v = await visitor();
  for (let i = 0; i < 3; i++) expect((await v.login("owner@example.com", "wrong password")).status).toBe(401);

  // Locked: even the right password is not tried.
  const locked = await v.login("owner@example.com", PASSWORD);
  expect(locked.status).toBe(429);
  expect(locked.headers.get("retry-after")).toBe("30");
  expect(formError(locked.text)).toBe("Too many failed sign-ins: try again in 30 seconds");
  expect(locked.headers.getSetCookie().some((c) => c.startsWith("mv_session="))).toBe(false);

  // The lock runs out; one more failure locks it for twice as long, then four times.
  clock.now += 30_000;
  expect((await v.login("owner@example.com", "wrong again")).status).toBe(401);
  expect((await v.login("owner@example.com", PASSWORD)).headers.get("retry-after")).toBe("60");
  clock.now += 60_000;
  expect((await v.login("owner@example.com", "and again")).status).toBe(401);
  expect((await v.login("owner@example.com", PASSWORD)).headers.get("retry-after")).toBe("120");

  // Another email from the same address is not locked by this one.
  expect((await v.login("someone@example.com", "wrong password")).status).toBe(401);
});

test("a successful sign-in resets the email's failures", async () => {
  const { visitor } = await setup();
  const v = await visitor();
  for (let i = 0; i < 2; i++) await v.login("owner@example.com", "wrong password");
  expect((await v.login("owner@example.com", PASSWORD)).status).toBe(303);
  // Two more failures are again below the allowance of three.
  for (let i = 0; i < 2; i++) expect((await v.login("owner@example.com", "wrong password")).status).toBe(401);
  expect((await v.login("Owner@Example.com ", PASSWORD)).status).toBe(303);
});

test("an email without an account is answered exactly like one with an account", async () => {
  const { visitor } = await setup();
  const v = await visitor();
  const replies = async (email: string) => {
    const out: { status: number; retry: string | null; error: string | null }[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await v.login(email, "wrong password");
      out.push({ status: r.status, retry: r.headers.get("retry-after"), error: formError(r.text) });
    }
    return out;
  };
  const existing = await replies("owner@example.com");
  const missing = await replies("nobody@example.com");
  expect(missing).toEqual(existing);
  expect(existing.map((r) => r.status)).toEqual([401, 401, 401, 429]);
});

test("one address guessing at many emails is locked out after LOGIN_MAX_FAILURES_PER_IP", async () => {
  const { visitor } = await setup({ LOGIN_MAX_FAILURES_PER_IP: "4" });
  const attacker = await visitor("203.0.113.66");
  for (let i = 0; i < 4; i++) {
    expect((await attacker.login(`guess${i}@example.com`, "wrong password")).status).toBe(401);
  }
  const locked = await attacker.login("owner@example.com", PASSWORD);
  expect(locked.status).toBe(429);
  expect(locked.headers.get("retry-after")).toBe("30");
  // The owner, elsewhere, signs in as usual.
  expect((await (await visitor("198.51.100.8")).login("owner@example.com", PASSWORD)).status).toBe(303);
});

test("the lockouts are in the store: a second api process enforces them too", async () => {
  const { deps, clock } = await setup();
  const one = new Visitor(createDashboard(deps, { now: () => clock.now }));
  const two = new Visitor(createDashboard(deps, { now: () => clock.now }));
  await one.get("/login");
  await two.get("/login");
  for (let i = 0; i < 3; i++)
    await one.post("/login", { email: "owner@example.com", password: "wrong password" });
  const refused = await two.post("/login", { email: "owner@example.com", password: PASSWORD });
  expect(refused.status).toBe(429);
});

test("LOGIN_MAX_FAILURES=0 turns the lockout off", async () => {
  const { visitor } = await setup({ LOGIN_MAX_FAILURES: "0", LOGIN_MAX_FAILURES_PER_IP: "0" });
  const v = await visitor();
  for (let i = 0; i < 10; i++)
    expect((await v.login("owner@example.com", "wrong password")).status).toBe(401);
  expect((await v.login("owner@example.com", PASSWORD)).status).toBe(303);
});

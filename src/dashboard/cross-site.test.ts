// Cookie tossing and cross-site writes, through the handlers: a site on a sibling subdomain can plant cookies for
// the parent domain (over plain http) and post forms to the dashboard with the visitor's cookies. Neither a
// planted pre-session token, a duplicated session cookie, nor a write from another page may take effect.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createApi } from "../api/app.ts";
import type { Deps } from "../deps.ts";
import { createSession, createUser } from "../identity/accounts.ts";
import { testDeps } from "../testing/deps.ts";
import { signIn, Visitor } from "../testing/visitor.ts";
import { createDashboard } from "./app.ts";

let deps: Deps;
let app: ReturnType<typeof createDashboard>;
beforeAll(async () => {
  deps = await testDeps();
  app = createDashboard(deps);
  await createUser(deps.store, "owner@example.com", "the right password");
});
afterAll(() => deps.close());

const FROM_A_SITE = { "sec-fetch-site": "same-site", origin: "http://evil.localhost:8001" };

describe("the pre-session token (sign in, setup)", () => {
  test("is made and sealed by the server: a value planted in the cookie and the form is refused", async () => {
    const v = new Visitor(app);
    v.cookies.set("mv_csrf", "A".repeat(48));
    const res = await v.post("/login", {
      _csrf: "A".repeat(48),
      email: "owner@example.com",
      password: "the right password",
    });
    expect(res.status).toBe(403);
    expect(res.headers.getSetCookie().some((c) => c.includes("mv_session="))).toBe(false);
  });

  test("expires", async () => {
    const old = Buffer.from(await deps.sealer.seal(`csrf:nonce:${Date.now() - 1000}`)).toString("base64url");
    const v = new Visitor(app);
    v.cookies.set("mv_csrf", old);
    const res = await v.post("/login", {
      _csrf: old,
      email: "owner@example.com",
      password: "the right password",
    });
    expect(res.status).toBe(403);
  });

  test("a genuine token is still refused when the form was posted from another site (login CSRF)", async () => {
    // The attacker fetched a real token for themselves and planted it; the form comes from their site.
    const attacker = new Visitor(app);
    await attacker.get("/login");
    const victim = new Visitor(app);
    victim.cookies.set("mv_csrf", attacker.cookies.get("mv_csrf") ?? "");
    const form = { _csrf: attacker.csrf, email: "owner@example.com", password: "the right password" };
    expect((await victim.post("/login", form, FROM_A_SITE)).status).toBe(403);
    expect((await victim.post("/login", form, { origin: "http://evil.localhost:8001" })).status).toBe(403);
    expect((await victim.post("/login", form, { origin: "null" })).status).toBe(403);
    // From the dashboard's own page it works.
    const ok = await victim.post("/login", form, {
      "sec-fetch-site": "same-origin",
      origin: "http://localhost",
    });
    expect(ok.status).toBe(303);
  });
});

describe("a signed-in session", () => {
  test("a duplicated session cookie (one planted for the parent domain) is no session at all", async () => {
    const v = new Visitor(app);
    await signIn(deps.store, v);
    expect((await v.get("/")).status).toBe(200);
    const attacker = await createUser(deps.store, "attacker@example.com", "the right password");
    const planted = (await createSession(deps.store, attacker.id, 3600)).cookie;
    const both = `mv_session=${planted}; mv_session=${v.cookies.get("mv_session")}`;
    const res = await app.handle(new Request("http://localhost/", { headers: { cookie: both } }));
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toStartWith("/login");
    const api = createApi(deps);
    const listed = await api.handle(
      new Request("http://localhost/api/projects", { headers: { cookie: both } }),
    );
    expect(listed.status).toBe(401);
  });

  test("dashboard writes from another page are refused even with the right token", async () => {
    const v = new Visitor(app);
    const user = await signIn(deps.store, v);
    await v.get("/projects/new");
    const form = { name: "planted", gitUrl: "" };
    expect((await v.post("/projects", form, FROM_A_SITE)).status).toBe(403);
    expect((await v.post("/projects", form, { "sec-fetch-site": "cross-site" })).status).toBe(403);
    expect((await v.post("/projects", form, { origin: "http://evil.localhost:8001" })).status).toBe(403);
    expect(await deps.store.projects.count(user.id)).toBe(0);
    expect((await v.post("/projects", form, { "sec-fetch-site": "same-origin" })).status).toBe(303);
    expect(await deps.store.projects.count(user.id)).toBe(1);
  });

  test("cookie-authenticated API writes from another page are refused even with the CSRF header", async () => {
    const v = new Visitor(app);
    const user = await signIn(deps.store, v);
    const api = createApi(deps);
    const write = (headers: Record<string, string>) =>
      api.handle(
        new Request("http://localhost/api/projects", {
          method: "POST",
          headers: {
            cookie: `mv_session=${v.cookies.get("mv_session")}`,
            "x-csrf-token": v.csrf,
            "content-type": "application/json",
            ...headers,
          },
          body: JSON.stringify({ name: `api-${crypto.randomUUID().slice(0, 6)}` }),
        }),
      );
    const refused = await write(FROM_A_SITE);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain(
      "must come from the dashboard",
    );
    expect((await write({ origin: "https://elsewhere.example" })).status).toBe(403);
    expect(await deps.store.projects.count(user.id)).toBe(0);
    expect((await write({ "sec-fetch-site": "same-origin", origin: "http://localhost" })).status).toBe(201);
    // Without either header (not a browser) the CSRF header alone decides, as before.
    expect((await write({})).status).toBe(201);
  });
});

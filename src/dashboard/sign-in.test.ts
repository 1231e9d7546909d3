// First-run setup, sign in and out through the dashboard's handler.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Deps } from "../deps.ts";
import { createUser } from "../identity/accounts.ts";
import { testDeps } from "../testing/deps.ts";
import { fieldError, Visitor } from "../testing/visitor.ts";
import { createDashboard } from "./app.ts";
import { safeNext } from "./errors.tsx";

let deps: Deps;
let app: ReturnType<typeof createDashboard>;
beforeAll(async () => {
  deps = await testDeps();
  app = createDashboard(deps);
});
afterAll(() => deps.close());

describe("first-run setup", () => {
  test("with no account every page leads to /setup, which creates the first one and signs in", async () => {
    const v = new Visitor(app);
    expect((await v.get("/")).headers.get("location")).toBe("/login");
    expect((await v.get("/login")).headers.get("location")).toBe("/setup");
    const page = await v.get("/setup");
    expect(page.status).toBe(200);
    expect(page.headers.getSetCookie()[0]).toMatch(/^mv_csrf=[^;]+; Path=\/; HttpOnly; SameSite=Strict$/);

    const weak = await v.post("/setup", { email: "first@example.com", password: "short" });
    expect(weak.status).toBe(422);
    expect(fieldError(weak.text, "password")).toBe("Password must be at least 8 characters");
    expect(weak.text).toContain('value="first@example.com"');

    const done = await v.post("/setup", { email: "first@example.com", password: "a long password" });
    expect(done.status).toBe(303);
    expect(done.headers.get("location")).toBe("/");
    const cookie = done.headers.getSetCookie().find((c) => c.startsWith("mv_session="));
    expect(cookie).toMatch(/^mv_session=[\w-]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+$/);
    const home = await v.get("/");
    expect(home.status).toBe(200);
    expect(home.text).toContain("Signed in as first@example.com");

    // Setup is over: the page sends people to sign in, and a second submission is refused.
    const other = new Visitor(app);
    expect((await other.get("/setup")).headers.get("location")).toBe("/login");
    await other.get("/login");
    const again = await other.post("/setup", { email: "second@example.com", password: "a long password" });
    expect(again.status).toBe(409);
    expect(again.text).toContain("Setup is already done");
    expect(await deps.store.users.byEmail("second@example.com")).toBeNull();
  });

  test("a setup or login form without its CSRF cookie and field is refused", async () => {
    const v = new Visitor(app);
    const res = await v.send("POST", "/login", {
      form: { email: "first@example.com", password: "a long password" },
    });
    expect(res.status).toBe(403);
    expect(res.headers.getSetCookie()).toEqual([]);
    await v.get("/login");
    const forged = await v.post("/login", {
      _csrf: "not-the-cookie",
      email: "first@example.com",
      password: "x",
    });
    expect(forged.status).toBe(403);
  });

  test("a setup or login form with a _csrf field but no pre-session cookie is refused: no account, no session", async () => {
    // A server with no account yet, so a setup that got through would create one.
    const fresh = await testDeps();
    try {
      const dashboard = createDashboard(fresh);
      // A real token, taken from the page by one client and replayed by another that lacks its cookie
      // (as a form posted from another site would be).
      const reader = new Visitor(dashboard);
      await reader.get("/setup");
      expect(reader.csrf).not.toBe("");
      const forger = new Visitor(dashboard);
      const form = { _csrf: reader.csrf, email: "first@example.com", password: "a long password" };

      const setup = await forger.post("/setup", form);
      expect(setup.status).toBe(403);
      expect(setup.headers.getSetCookie()).toEqual([]);
      expect(await fresh.store.users.count()).toBe(0);

      await createUser(fresh.store, "first@example.com", "a long password");
      const login = await forger.post("/login", form);
      expect(login.status).toBe(403);
      expect(login.headers.getSetCookie()).toEqual([]);
      expect(forger.cookies.size).toBe(0);
      expect((await forger.get("/")).headers.get("location")).toBe("/login");
      expect(await fresh.store.users.count()).toBe(1);
    } finally {
      await fresh.close();
    }
  });
});

describe("sign in and out", () => {
  test("wrong password is an inline error; the right one signs in and returns to `next` on this site only", async () => {
    await createUser(deps.store, "login@example.com", "the right password");
    const v = new Visitor(app);
    expect((await v.get("/account")).headers.get("location")).toBe("/login?next=%2Faccount");
    const page = await v.get("/login?next=%2Faccount");
    expect(page.text).toContain('name="next" value="/account"');
    const wrong = await v.post("/login", {
      email: "login@example.com",
      password: "wrong password",
      next: "/account",
    });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain("Wrong email or password");
    expect(wrong.text).toContain('value="login@example.com"');
    expect(wrong.text).not.toContain("wrong password");

    const ok = await v.post("/login", {
      email: "login@example.com",
      password: "the right password",
      next: "/account",
    });
    expect(ok.headers.get("location")).toBe("/account");
    expect((await v.get("/account")).status).toBe(200);

    const evil = new Visitor(app);
    await evil.get("/login");
    const offsite = await evil.post("/login", {
      email: "login@example.com",
      password: "the right password",
      next: "//evil.example/",
    });
    expect(offsite.headers.get("location")).toBe("/");
  });

  test("`next` is a path on this site or nothing", () => {
    expect(safeNext("/projects/1?cursor=a#x")).toBe("/projects/1?cursor=a#x");
    for (const evil of [
      "//evil.example",
      "/\\evil.example",
      "/\t/evil.example",
      "/\n/evil.example",
      "https://evil.example",
      "evil",
      "",
    ]) {
      expect(safeNext(evil)).toBe("/");
    }
  });

  test("htmx gets HX-Redirect instead of a 303", async () => {
    const v = new Visitor(app);
    await v.get("/login");
    const res = await v.post(
      "/login",
      { email: "login@example.com", password: "the right password" },
      { "hx-request": "true" },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("hx-redirect")).toBe("/");
  });

  test("the session cookie is Secure when the request came over https", async () => {
    const v = new Visitor(app, "https://dash.example.com");
    await v.get("/login");
    const res = await v.post("/login", { email: "login@example.com", password: "the right password" });
    // __Host-: browsers take it only from this host, so a sibling subdomain cannot plant one.
    expect(res.headers.getSetCookie().find((c) => c.startsWith("__Host-mv_session="))).toEndWith("; Secure");
    expect(res.headers.getSetCookie().some((c) => c.startsWith("mv_session="))).toBe(false);
  });

  test("sign out needs the CSRF token, then ends the session", async () => {
    const v = new Visitor(app);
    await v.get("/login");
    await v.post("/login", { email: "login@example.com", password: "the right password" });
    await v.get("/");
    expect((await v.post("/logout", { _csrf: "" })).status).toBe(403);
    const stolen = v.cookies.get("mv_session") ?? "";
    const out = await v.post("/logout");
    expect(out.headers.get("location")).toBe("/login");
    expect(v.cookies.has("mv_session")).toBe(false);
    expect((await v.get("/")).headers.get("location")).toBe("/login");
    // The old cookie is dead on the server too, not just forgotten by the browser.
    v.cookies.set("mv_session", stolen);
    const replay = await v.get("/");
    expect(replay.headers.get("location")).toBe("/login");
    expect(v.cookies.has("mv_session")).toBe(false);
  });
});

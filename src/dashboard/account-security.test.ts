// The account page through the dashboard's handler: changing the password (the current one checked, the others'
// sessions ended), the sessions listed and ended one by one or all but this one, and the API reference linked.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createApi } from "../api/app.ts";
import type { Deps } from "../deps.ts";
import { hashSecret, verifyLogin } from "../identity/accounts.ts";
import { testDeps } from "../testing/deps.ts";
import { fieldError, signIn, signInAs, Visitor } from "../testing/visitor.ts";
import { createDashboard } from "./app.ts";

let deps: Deps;
let app: ReturnType<typeof createDashboard>;
beforeAll(async () => {
  deps = await testDeps();
  app = createDashboard(deps);
});
afterAll(() => deps.close());

describe("account", () => {
  test("changing the password needs the current one, then signs out every other session", async () => {
    const v = new Visitor(app);
    const user = await signIn(deps.store, v);
    const laptop = new Visitor(app);
    await signInAs(deps.store, laptop, user);
    const page = await v.get("/account");
    expect(page.text).toContain('<a href="/api/docs">API reference</a>');
    expect(page.text).toContain('id="password-form"');

    const wrong = await v.post("/account/password", { current: "not it", password: "a brand new password" });
    expect(wrong.status).toBe(422);
    expect(fieldError(wrong.text, "current")).toBe("The current password is not right");
    const short = await v.post("/account/password", { current: "correct horse battery", password: "short" });
    expect(fieldError(short.text, "password")).toBe("New password must be at least 8 characters");
    expect(short.text).not.toContain("correct horse battery");
    // Nothing changed so far.
    expect((await laptop.get("/account")).status).toBe(200);

    const ok = await v.post("/account/password", {
      current: "correct horse battery",
      password: "a brand new password",
    });
    expect(ok.status).toBe(303);
    expect(await verifyLogin(deps.store, user.email, "a brand new password")).toMatchObject({ id: user.id });
    expect(verifyLogin(deps.store, user.email, "correct horse battery")).rejects.toThrow();
    // This browser stays signed in; the laptop is signed out.
    expect((await v.get("/account")).status).toBe(200);
    expect((await laptop.get("/account")).status).toBe(303);
    expect((await v.get("/account?changed=password")).text).toContain('id="password-changed"');
  });

  test("sessions are listed (this browser marked) and ended one by one or all but this one", async () => {
    const v = new Visitor(app);
    const user = await signIn(deps.store, v);
    const phone = new Visitor(app);
    await signInAs(deps.store, phone, user);
    const tablet = new Visitor(app);
    await signInAs(deps.store, tablet, user);
    const page = await v.get("/account");
    const rows = [
      ...page.text.matchAll(
        /<li class="list-row"( data-current="true")?><div><span class="mono">([0-9a-f]{8})/g,
      ),
    ];
    expect(rows).toHaveLength(3);
    expect(rows.filter((r) => r[1])).toHaveLength(1);
    const others = [...page.text.matchAll(/action="\/account\/sessions\/([0-9a-f]{64})\/revoke"/g)].map(
      (m) => m[1],
    );
    expect(others).toHaveLength(2);

    expect((await v.post(`/account/sessions/${others[0]}/revoke`)).status).toBe(303);
    const signedIn = [(await phone.get("/account")).status, (await tablet.get("/account")).status];
    expect(signedIn.sort()).toEqual([200, 303]);
    expect((await v.post("/account/sessions/others")).status).toBe(303);
    expect((await phone.get("/account")).status).toBe(303);
    expect((await tablet.get("/account")).status).toBe(303);
    expect((await v.get("/account")).status).toBe(200);
    // Without the session's token nothing ends.
    const again = new Visitor(app);
    await signInAs(deps.store, again, user);
    expect((await v.post("/account/sessions/others", { _csrf: "forged" })).status).toBe(403);
    expect((await again.get("/account")).status).toBe(200);
  });

  test("a token made to expire says when, works until then through the API, and not after", async () => {
    const v = new Visitor(app);
    const user = await signIn(deps.store, v);
    await v.get("/account");
    const made = await v.post("/account/tokens", { name: "ci", expires: "7" });
    expect(made.status).toBe(201);
    const token =
      /id="new-token" class="mono" type="text" readonly value="([^"]+)"/.exec(made.text)?.[1] ?? "";
    expect(token).toStartWith("mv_");
    const [record] = await deps.store.tokens.list(user.id);
    const days = (Date.parse(record?.expiresAt ?? "") - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThanOrEqual(7);
    expect(made.text).toContain("expires <time");
    const api = createApi(deps);
    const me = (bearer: string) =>
      api.handle(
        new Request("http://localhost/api/user", { headers: { authorization: `Bearer ${bearer}` } }),
      );
    expect((await me(token)).status).toBe(200);
    // Past its expiry (as if the clock moved on): refused, and listed as expired.
    await deps.store.tokens.create({
      userId: user.id,
      name: "old",
      prefix: "mv_expired",
      hash: hashSecret("mv_expired-token"),
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    });
    expect((await me("mv_expired-token")).status).toBe(401);
    expect((await v.get("/account")).text).toContain('<span class="tag tag-failed">expired</span>');
    const wrong = await v.post("/account/tokens", { name: "x", expires: "99999" });
    expect(wrong.status).toBe(422);
    expect(wrong.text).toContain("from 1 to 3650");
  });
});

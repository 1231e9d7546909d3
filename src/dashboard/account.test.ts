// API tokens on the account page: created and shown once, listed, revoked.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { createApi } from "../api/app.ts";
import type { Deps } from "../deps.ts";
import { testDeps } from "../testing/deps.ts";
import { fieldError, signIn, Visitor } from "../testing/visitor.ts";
import { createDashboard } from "./app.ts";

let deps: Deps;
let app: ReturnType<typeof createDashboard>;
beforeAll(async () => {
  deps = await testDeps();
  app = createDashboard(deps);
});
afterAll(() => deps.close());

test("a token is shown once, works on the API, is listed by name and prefix, and can be revoked", async () => {
  const v = new Visitor(app);
  await signIn(deps.store, v, "tokens@example.com");
  expect((await v.get("/account")).text).toContain("No tokens yet");

  const empty = await v.post("/account/tokens", { name: "" });
  expect(empty.status).toBe(422);
  expect(fieldError(empty.text, "name")).toBe("Token name must be 1 to 100 characters");

  const created = await v.post("/account/tokens", { name: "laptop" });
  expect(created.status).toBe(201);
  const token = /id="new-token"[^>]*value="(mv_[\w-]+)"/.exec(created.text)?.[1] ?? "";
  expect(token).toMatch(/^mv_/);
  const api = createApi(deps);
  const me = await api.handle(
    new Request("http://localhost/api/user", { headers: { authorization: `Bearer ${token}` } }),
  );
  expect(await me.json()).toMatchObject({ email: "tokens@example.com" });

  const later = await v.get("/account");
  expect(later.text).toContain("laptop");
  expect(later.text).toContain(token.slice(0, 10));
  expect(later.text).not.toContain(token);

  const id = /action="\/account\/tokens\/([0-9a-f-]+)\/revoke"/.exec(later.text)?.[1] ?? "";
  expect((await v.post(`/account/tokens/${id}/revoke`)).headers.get("location")).toBe("/account");
  const revoked = await api.handle(
    new Request("http://localhost/api/user", { headers: { authorization: `Bearer ${token}` } }),
  );
  expect(revoked.status).toBe(401);
  expect((await v.get("/account")).text).toContain("No tokens yet");
});

test("another user's token cannot be revoked", async () => {
  const owner = new Visitor(app);
  await signIn(deps.store, owner);
  const created = await owner.post("/account/tokens", { name: "mine" });
  const id = /action="\/account\/tokens\/([0-9a-f-]+)\/revoke"/.exec(created.text)?.[1] ?? "";
  const v = new Visitor(app);
  await signIn(deps.store, v);
  expect((await v.post(`/account/tokens/${id}/revoke`)).status).toBe(404);
  expect((await owner.get("/account")).text).toContain("mine");
});

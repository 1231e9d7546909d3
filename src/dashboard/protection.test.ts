// Deployment protection in the dashboard's settings, through its handler: the owner changes the mode, sets and
// removes the password, creates a bypass token (shown once) and revokes it; forms without the CSRF token, bad
// values and short passwords are refused with a message, and change nothing.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import { testDeps } from "../testing/deps.ts";
import { fieldError, signIn, Visitor } from "../testing/visitor.ts";
import { createDashboard } from "./app.ts";

let deps: Deps;
let app: ReturnType<typeof createDashboard>;
beforeAll(async () => {
  deps = await testDeps({ DEPLOYMENT_PROTECTION_DEFAULT: "previews" });
  app = createDashboard(deps);
});
afterAll(() => deps.close());

async function setup() {
  const v = new Visitor(app);
  const user = await signIn(deps.store, v);
  const project = await createProject(deps.store, deps.config, user.id, {
    name: `Site ${crypto.randomUUID().slice(0, 6)}`,
  });
  return { v, user, id: project.id, path: `/projects/${project.id}` };
}

describe("protection settings", () => {
  test("the mode: shown, changed, a bad value refused inline, a form without CSRF refused", async () => {
    const { v, id, path } = await setup();
    const page = await v.get(`${path}/settings`);
    expect(page.text).toContain('value="previews" checked');
    const saved = await v.post(`${path}/protection`, { protection: "all" });
    expect(saved.status).toBe(303);
    expect((await deps.store.projects.find(id))?.protection).toBe("all");
    const bad = await v.post(`${path}/protection`, { protection: "everyone" });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain("Choose none, previews or all");
    const forged = await v.post(`${path}/protection`, { protection: "none", _csrf: "forged" });
    expect(forged.status).toBe(403);
    expect((await deps.store.projects.find(id))?.protection).toBe("all");
  });

  test("the password: too short refused, set (hashed), removed", async () => {
    const { v, id, path } = await setup();
    const short = await v.post(`${path}/protection/password`, { password: "short" });
    expect(short.status).toBe(422);
    expect(fieldError(short.text, "password")).toContain("at least 8");
    expect((await deps.store.projects.find(id))?.protectionPassword).toBe(false);
    expect((await v.post(`${path}/protection/password`, { password: "long enough 1" })).status).toBe(303);
    const [rule] = await deps.store.protection.access(id);
    expect(rule?.passwordHash).toStartWith("$argon2");
    expect(await Bun.password.verify("long enough 1", rule?.passwordHash ?? "")).toBe(true);
    expect((await v.get(`${path}/settings`)).text).toContain("Remove password");
    expect((await v.post(`${path}/protection/password/delete`)).status).toBe(303);
    expect((await deps.store.projects.find(id))?.protectionPassword).toBe(false);
  });

  test("bypass tokens: created and shown once (escaped name), listed by prefix, revoked", async () => {
    const { v, id, path } = await setup();
    const created = await v.post(`${path}/protection/bypass`, { tokenName: "<script>ci</script>" });
    expect(created.status).toBe(200);
    const token =
      /id="bypass-token" class="mono" type="text" readonly value="([^"]+)"/.exec(created.text)?.[1] ?? "";
    expect(token).toStartWith("mvb_");
    expect(created.text).not.toContain("<script>ci</script>");
    expect(created.text).toContain("&lt;script>ci&lt;/script>");
    const later = await v.get(`${path}/settings`);
    expect(later.text).not.toContain(token);
    expect(later.text).toContain(token.slice(0, 12));
    const [record] = await deps.store.protection.tokens(id);
    expect((await v.post(`${path}/protection/bypass/${record?.id}/revoke`)).status).toBe(303);
    expect(await deps.store.protection.tokens(id)).toEqual([]);
    const empty = await v.post(`${path}/protection/bypass`, { tokenName: "  " });
    expect(empty.status).toBe(422);
    expect(fieldError(empty.text, "tokenName")).toContain("1 to 100");
  });
});
